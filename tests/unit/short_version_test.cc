#include "exporter/targets/target.h"

#include <gtest/gtest.h>

namespace pgpulse {
namespace {

TEST(ShortVersionTest, MatchesPostgresExporterFormat) {
  EXPECT_EQ(targets::ShortVersion(150004), "15.4.0");
  EXPECT_EQ(targets::ShortVersion(180001), "18.1.0");
  EXPECT_EQ(targets::ShortVersion(90624), "9.6.24");
  EXPECT_EQ(targets::ShortVersion(0), "");
}

}  // namespace
}  // namespace pgpulse
