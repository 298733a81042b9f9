#include "exporter/targets/target.h"

#include <gtest/gtest.h>

namespace pgpulse {
namespace {

TEST(ShortVersionTest, MatchesPostgresExporterFormat) {
  EXPECT_EQ(target::ShortVersion(150004), "15.4.0");
  EXPECT_EQ(target::ShortVersion(180001), "18.1.0");
  EXPECT_EQ(target::ShortVersion(90624), "9.6.24");
  EXPECT_EQ(target::ShortVersion(0), "");
}

}  // namespace
}  // namespace pgpulse
