#include "exporter/metrics/names.h"

#include <gtest/gtest.h>

namespace pgpulse {
namespace {

TEST(NamesTest, MetricNamesFollowPrometheus) {
  for (const char* good : {"pg_up", "a", "_x", "job:rate5m", "A9_b"}) EXPECT_TRUE(metrics::IsMetricName(good)) << good;
  for (const char* bad : {"", "9a", "a-b", "a b", "é", "a.b"}) EXPECT_FALSE(metrics::IsMetricName(bad)) << bad;
}

TEST(NamesTest, LabelNamesFollowPrometheusAndLeaveDoubleUnderscoreToIt) {
  for (const char* good : {"cluster", "_x", "a9", "A_b"}) EXPECT_TRUE(metrics::IsLabelName(good)) << good;
  for (const char* bad : {"", "9a", "a:b", "a-b", "__name__", "__x", "é"}) {
    EXPECT_FALSE(metrics::IsLabelName(bad)) << bad;
  }
}

TEST(NamesTest, OwnSeriesAndLabels) {
  for (const char* own : {"pg_up", "pg_static", "pg_server_version_num", "pg_target_storage_limit_bytes",
                          "pgpulse_collector_success", "pgpulse_anything"}) {
    EXPECT_TRUE(metrics::own::IsSeriesName(own)) << own;
  }
  for (const char* other : {"pg_stat_database_xact_commit_total", "pg_upx", "pgpulse", "up"}) {
    EXPECT_FALSE(metrics::own::IsSeriesName(other)) << other;
  }
  for (const char* label : {"collector", "reason", "rolname", "version"})
    EXPECT_TRUE(metrics::own::IsSeriesLabel(label));
  EXPECT_FALSE(metrics::own::IsSeriesLabel("cluster"));
  EXPECT_FALSE(metrics::own::IsSeriesLabel("target"));  // refused separately: it is set on every series
}

}  // namespace
}  // namespace pgpulse
