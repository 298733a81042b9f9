#include "exporter/app/scrape_plan.h"

#include <gtest/gtest.h>

namespace pgpulse {
namespace {

using std::chrono::milliseconds;

TEST(ScrapePlanTest, FollowsPrometheusHeaderWithMargin) {
  EXPECT_EQ(app::ScrapeBudget({}), milliseconds(9500));
  EXPECT_EQ(app::ScrapeBudget({{"x-prometheus-scrape-timeout-seconds", "2"}}), milliseconds(1500));
  EXPECT_EQ(app::ScrapeBudget({{"x-prometheus-scrape-timeout-seconds", "0.4"}}), milliseconds(300));
  EXPECT_EQ(app::ScrapeBudget({{"x-prometheus-scrape-timeout-seconds", "junk"}}), milliseconds(9500));
  EXPECT_EQ(app::ScrapeBudget({{"x-prometheus-scrape-timeout-seconds", "-3"}}), milliseconds(9500));
}

}  // namespace
}  // namespace pgpulse
