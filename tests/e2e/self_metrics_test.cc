// pgpulse's series about itself that the "pgpulse itself" dashboard draws, against ground truth: the logins it made
// (its sessions in pg_stat_activity) and the samples each collector exported (counted in the exposition).
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "exporter/collector/loader.h"
#include "exporter/metrics/names.h"
#include "tests/e2e/collectors_fixture.h"

namespace pgpulse::testing {
namespace {

// pgpulse's sessions for this test's exporter, told apart from the fixture's by their application_name.
constexpr const char* kApplication = "self_metrics_test";

std::string SessionsSql(const std::string& condition = "true") {
  return std::string("SELECT count(*) FROM pg_stat_activity WHERE application_name = '") + kApplication + "' AND " +
         condition;
}

TEST_F(CollectorsTest, LoginsCountEverySessionPgpulseOpened) {
  auto& primary = cluster.primary();
  // One database besides the target's own connection: its visit slot stays connected, so each login is a session.
  const auto config = WriteTempFile("targets:\n  - name: self\n    dsn: '" +
                                        primary.Dsn(PgCluster::kReportingUser, cluster.reporting_password()) +
                                        " application_name=" + kApplication + "'\n    databases: {include: [cafe]}\n",
                                    ".yml");
  ExporterProcess exporter({"--config.file=" + config});
  auto scrape = [&exporter] { return exporter.Get("/metrics").body; };
  scrape();
  const auto body = scrape();
  const double sessions = Psql("postgres", SessionsSql());
  EXPECT_EQ(sessions, 2) << "the target's connection and cafe's visit";
  EXPECT_EQ(Value(body, "pgpulse_logins_total", {{"target", "self"}}), sessions) << body;

  // Every session ended by the server: pgpulse logs in again, and each new session is one more login.
  const auto old_pids = primary.QueryValue(
      "postgres", std::string("SELECT string_agg(pid::text, ',') FROM pg_stat_activity WHERE application_name = '") +
                      kApplication + "'");
  primary.Exec("postgres", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid IN (" + old_pids + ")");
  ASSERT_TRUE(WaitUntil(primary, "postgres",
                        "SELECT NOT EXISTS (SELECT FROM pg_stat_activity WHERE pid IN (" + old_pids + "))", 10s));
  // The sessions now are all new (the database visit reconnects only when its collectors are due), counted around
  // a scrape that found the target up.
  std::string after;
  double now_sessions = -1;
  for (int attempt = 0; attempt < 20; ++attempt) {
    const double before = Psql("postgres", SessionsSql());
    after = scrape();
    now_sessions = Psql("postgres", SessionsSql());
    if (Value(after, "pg_up", {{"target", "self"}}) == 1 && before == now_sessions) break;
  }
  EXPECT_GE(now_sessions, 1);
  EXPECT_EQ(Value(after, "pgpulse_logins_total", {{"target", "self"}}), sessions + now_sessions) << after;
}

TEST_F(CollectorsTest, CollectorSeriesCountTheSamplesEachExported) {
  const auto body = Scrape();
  // Metric name -> collector, from the built-in definitions.
  std::map<std::string, std::string> collector_of;
  std::set<std::string> built_in;
  for (const auto& def : collector::LoadCollectors({})) {
    built_in.insert(def.name);
    for (const auto& column : def.columns) {
      if (!column.name.empty()) collector_of[column.name] = def.name;
    }
  }
  std::map<std::string, double> counted;  // collector -> samples of the primary
  for (const auto& sample : ParseSamples(body)) {
    const auto target = sample.labels.find("target");
    if (target == sample.labels.end() || target->second != "primary") continue;
    if (const auto it = collector_of.find(sample.name); it != collector_of.end()) counted[it->second] += 1;
  }
  ASSERT_GT(counted.size(), 10u);
  for (const auto& [collector, samples] : counted) {
    EXPECT_EQ(Value(body, "pgpulse_collector_series", {{"target", "primary"}, {"collector", collector}}), samples)
        << collector;
  }
  // A collector that ran and exported nothing says 0, rather than nothing.
  for (const auto& sample : ParseSamples(body)) {
    if (sample.name != "pgpulse_collector_series" || sample.labels.at("target") != "primary") continue;
    const auto& collector = sample.labels.at("collector");
    if (!built_in.count(collector)) continue;  // the fixture's custom collectors
    EXPECT_EQ(sample.value, counted.count(collector) ? counted[collector] : 0) << collector;
  }
}

// The loaders refuse the names in exporter/metrics/names.h; that protects the output only if pgpulse's own series
// use no other name outside the pgpulse_ prefix, and no other label than those, target and the config's labels.
TEST_F(CollectorsTest, OwnSeriesUseOnlyTheNamesDeclaredAsReserved) {
  const auto body = Scrape();
  std::set<std::string> collector_metrics;
  for (const auto& def : collector::LoadCollectors({})) {
    for (const auto& column : def.columns) collector_metrics.insert(column.name);
  }
  std::set<std::string> own_seen;
  for (const auto& sample : ParseSamples(body)) {
    if (collector_metrics.count(sample.name) || !sample.name.starts_with("pg")) continue;  // the fixture's custom ones
    if (!metrics::own::IsSeriesName(sample.name)) {
      EXPECT_FALSE(sample.name.starts_with("pg_")) << sample.name << " is written by pgpulse but not declared";
      continue;
    }
    own_seen.insert(sample.name);
    for (const auto& [label, value] : sample.labels) {
      const bool declared = label == metrics::own::kTargetLabel || label == "cluster" ||
                            metrics::own::IsSeriesLabel(label) ||
                            (sample.name == "pgpulse_build_info" && (label == "version" || label == "revision"));
      EXPECT_TRUE(declared) << sample.name << " has the undeclared label " << label;
    }
  }
  for (const char* name : {metrics::own::kUp, metrics::own::kStatic, metrics::own::kServerVersionNum}) {
    EXPECT_TRUE(own_seen.count(name)) << name;
  }
  EXPECT_TRUE(own_seen.count("pgpulse_target_role_info"));
  EXPECT_TRUE(own_seen.count("pgpulse_collector_enabled"));
}

}  // namespace
}  // namespace pgpulse::testing
