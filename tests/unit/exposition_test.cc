#include "exporter/metrics/exposition.h"

#include <gtest/gtest.h>

namespace pgpulse {
namespace {

TEST(ExpositionTest, GroupsSamplesByFamilyAndEscapesLabels) {
  metrics::Exposition out;
  out.Gauge("pg_up", "help", {{"target", "a"}}, 1);
  out.Gauge("pgpulse_x", "help", {{"target", "a"}}, 2);
  out.Gauge("pg_up", "help", {{"target", "b\"\\\n"}}, 0);
  const auto text = out.Serialize();
  EXPECT_EQ(out.families().size(), 2u);
  EXPECT_NE(text.find("pg_up{target=\"a\"} 1\npg_up{target=\"b\\\"\\\\\\n\"} 0\n"), std::string::npos) << text;
  EXPECT_THROW(out.Counter("pg_up", "help", {}, 1), std::logic_error);
}

}  // namespace
}  // namespace pgpulse
