// Many targets and databases: /probe, singleflight, scrape deadlines with cache, connection budget, discovery
// filters and cardinality caps, against the real binary and a real PostgreSQL.
#include <gtest/gtest.h>

#include <array>
#include <future>
#include <map>
#include <numeric>
#include <thread>

#include "tests/harness/exporter_process.h"
#include "tests/harness/libpq_client.h"
#include "tests/harness/metrics_text.h"
#include "tests/harness/pg_cluster.h"
#include "tests/harness/process.h"

namespace pgpulse::testing {
namespace {

using namespace std::chrono_literals;

class ScaleTest : public ::testing::Test {
 protected:
  PgCluster& cluster = PgCluster::Shared();

  // A config with the primary as target "primary" (plus `target_extra` lines), the given custom collector files,
  // and `collectors:` overrides.
  std::string Config(const std::map<std::string, std::string>& collector_files, const std::string& target_extra = "",
                     const std::string& overrides = "", const std::string& more_targets = "") {
    for (const auto& [file, text] : collector_files) WriteFile(dir_.path() + "/" + file, text);
    return WriteTempFile(
        "targets:\n"
        "  - name: primary\n"
        "    dsn: '" +
            cluster.primary().Dsn(PgCluster::kReportingUser, cluster.reporting_password()) + "'\n" + target_extra +
            more_targets + "custom_collectors: [" + dir_.path() + "]\n" +
            (overrides.empty() ? "" : "collectors:\n" + overrides),
        ".yml");
  }

  // Calls of the statements whose text matches %marker% (a LIKE pattern), in `database` or in all.
  double Calls(const std::string& marker, const std::string& database = "") {
    const std::string in_database =
        database.empty() ? "" : " AND dbid = (SELECT oid FROM pg_database WHERE datname = '" + database + "')";
    return std::stod(cluster.primary().QueryValue(
        "postgres",
        "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE query LIKE '%" + marker + "%'" + in_database));
  }

  // A database-scope collector `name`: one row per visited database, value 1, exported as probe_<name>{datname}.
  // `datname` is the label's SQL: pg_stat_statements tells two probes apart by their structure, not their names.
  static std::string DatabaseProbe(const std::string& name, const std::string& ttl = "0s",
                                   const std::string& datname = "current_database()") {
    return "name: " + name + "\nscope: database\nttl: " + ttl + "\nqueries: [{sql: 'SELECT " + datname +
           " AS datname, 1 AS " + name + "'}]\nmetrics:\n  - {column: datname, usage: label}\n  - {column: " + name +
           ", usage: gauge, name: probe_" + name + ", help: 1 per visited database.}\n";
  }

  // Matches the session set-up, every pgpulse session's first statement: counts logins.
  static constexpr const char* kLogin = "set_config(%pg_has_role(";

  TempDir dir_;
};

TEST_F(ScaleTest, ProbeServesOnlyConfiguredTargetsAndNeverConnectsElsewhere) {
  const auto config =
      Config({}, "", "",
             "  - name: standby\n    dsn: '" +
                 cluster.standby().Dsn(PgCluster::kReportingUser, cluster.reporting_password()) + "'\n");
  ExporterProcess exporter({"--config.file=" + config});
  auto one = exporter.Get("/probe?target=standby");
  ASSERT_EQ(one.status, 200);
  EXPECT_EQ(MetricValue(one.body, "pg_up", {{"target", "standby"}}), 1);
  EXPECT_EQ(CountSamples(one.body, "pg_up"), 1u) << "only the probed target";
  EXPECT_FALSE(MetricValue(one.body, "pg_up", {{"target", "primary"}}));

  // A DSN, a host or an unknown name: refused without any connection attempt.
  const auto intruder = cluster.primary().Uri("probe_intruder", "x");
  for (const std::string& target :
       {std::string("/probe?target=") + PercentEncode(intruder),
        std::string("/probe?target=127.0.0.1%3A") + std::to_string(cluster.primary().port()),
        std::string("/probe?target=nope")}) {
    auto refused = exporter.Get(target);
    EXPECT_EQ(refused.status, 404) << target;
    EXPECT_EQ(refused.body.find("pg_up"), std::string::npos);
  }
  EXPECT_EQ(exporter.Get("/probe").status, 400);
  EXPECT_EQ(cluster.primary().LogTail(400).find("probe_intruder"), std::string::npos);
  EXPECT_EQ(exporter.process().Output().find("probe_intruder"), std::string::npos);
}

TEST_F(ScaleTest, FourSimultaneousScrapesShareOneRefresh) {
  const auto config = Config({{"slow.yaml", R"(name: singleflight_probe
scope: cluster
queries: [{sql: SELECT 1 AS singleflight_marker FROM pg_sleep(0.5)}]
metrics: [{column: singleflight_marker, usage: gauge, name: singleflight_marker, help: A slow query.}]
)"}});
  ExporterProcess exporter({"--config.file=" + config});
  exporter.Get("/metrics");  // the first refresh has run; now count from here
  const auto before = Calls("singleflight_marker");
  std::vector<std::future<HttpResponse>> scrapes;
  for (int i = 0; i < 4; ++i) {
    scrapes.push_back(std::async(std::launch::async, [&exporter] { return exporter.Get("/metrics"); }));
  }
  for (auto& scrape : scrapes) EXPECT_EQ(MetricValue(scrape.get().body, "singleflight_marker", {}), 1);
  const auto after_concurrent = Calls("singleflight_marker");
  EXPECT_EQ(after_concurrent - before, 1) << "4 simultaneous scrapes must cost one refresh";
  exporter.Get("/metrics");
  exporter.Get("/metrics");
  EXPECT_EQ(Calls("singleflight_marker") - after_concurrent, 2) << "sequential scrapes each refresh";
}

TEST_F(ScaleTest, ASlowCollectorIsServedFromCacheAndTheAnswerArrivesInTime) {
  const auto config = Config({{"slow.yaml", R"(name: slow_probe
scope: cluster
timeout: 10s
queries: [{sql: SELECT 1 AS slow_marker FROM pg_sleep(1.5)}]
metrics: [{column: slow_marker, usage: gauge, name: slow_marker, help: A slow query.}]
)"}});
  ExporterProcess exporter({"--config.file=" + config});
  auto first = exporter.Get("/metrics", {{"X-Prometheus-Scrape-Timeout-Seconds", "10"}});
  ASSERT_EQ(MetricValue(first.body, "pgpulse_collector_success", {{"collector", "slow_probe"}}), 1) << first.body;

  auto hurried = exporter.Get("/metrics", {{"X-Prometheus-Scrape-Timeout-Seconds", "1"}});
  EXPECT_LT(hurried.seconds, 1.0) << "the answer must arrive within the scrape timeout";
  EXPECT_EQ(hurried.status, 200);
  EXPECT_EQ(MetricValue(hurried.body, "pg_up", {{"target", "primary"}}), 1) << hurried.body;
  EXPECT_EQ(MetricValue(hurried.body, "pgpulse_collector_success", {{"collector", "slow_probe"}}), 0);
  EXPECT_EQ(MetricValue(hurried.body, "slow_marker", {{"target", "primary"}}), 1) << "served from cache";
  auto age = MetricValue(hurried.body, "pgpulse_collector_cache_age_seconds", {{"collector", "slow_probe"}});
  ASSERT_TRUE(age);
  EXPECT_GT(*age, 0);
  EXPECT_EQ(MetricValue(hurried.body, "pgpulse_collector_success", {{"collector", "stat_activity"}}), 1);
  // The dropped query's backend sleeps on until PostgreSQL notices the closed client; later tests count sessions.
  for (int i = 0; i < 40; ++i) {
    if (cluster.primary().QueryValue("postgres",
                                     "SELECT count(*) FROM pg_stat_activity WHERE query LIKE "
                                     "'%slow_marker FROM pg_sleep%' AND pid <> pg_backend_pid()") == "0") {
      break;
    }
    std::this_thread::sleep_for(100ms);
  }
}

TEST_F(ScaleTest, DatabaseVisitsStayWithinTheConnectionBudget) {
  // Each visit reports how many pgpulse sessions its role holds at that moment.
  const auto config = Config({{"sessions.yaml", R"(name: session_probe
scope: database
queries:
  - sql: |
      SELECT current_database() AS datname, count(*) AS sessions
      FROM pg_stat_activity WHERE usename = current_user AND application_name = 'pgpulse'
metrics:
  - {column: datname, usage: label}
  - {column: sessions, usage: gauge, name: probe_pgpulse_sessions, help: pgpulse sessions during the visit.}
)"}},
                             "    max_connections: 2\n");
  ExporterProcess exporter({"--config.file=" + config});
  const auto body = exporter.Get("/metrics").body;
  size_t databases = 0;
  for (const auto& sample : ParseSamples(body)) {
    if (sample.name != "probe_pgpulse_sessions") continue;
    ++databases;
    EXPECT_LE(sample.value, 2) << sample.labels.at("datname");
  }
  EXPECT_EQ(databases, 4u) << "postgres, cafe, erp and treasury are all visited\n" << body;
  // More databases than visiting connections: none is kept open after its visit.
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(cluster.primary().QueryValue("postgres",
                                         "SELECT count(*) FROM pg_stat_activity WHERE usename = 'reporting' "
                                         "AND application_name = 'pgpulse'"),
            "1");
}

TEST_F(ScaleTest, DatabaseCollectorsShareVisitsAndNoResultOutlivesItsTtl) {
  // Two database-scope collectors whose ttls are out of step (2 s and 3 s), two databases and one visiting
  // connection, so every visit is a login. Each visit refreshes what would expire before the next one: no login is
  // made for the 3 s collector alone, and neither is ever served older than its ttl.
  const auto config = Config({{"a.yaml", DatabaseProbe("shared_visit_a", "2s")},
                              {"b.yaml", DatabaseProbe("shared_visit_b", "3s", "current_database()::text")}},
                             "    max_connections: 2\n    databases: {include: [cafe, erp]}\n");
  std::map<std::string, std::array<double, 3>> before;
  for (const std::string database : {"cafe", "erp"}) {
    before[database] = {Calls(kLogin, database), Calls("shared_visit_a", database), Calls("shared_visit_b", database)};
  }
  {
    ExporterProcess exporter({"--config.file=" + config});
    double oldest_a = 0, oldest_b = 0;
    for (int scrape = 0; scrape < 22; ++scrape) {
      const auto body = exporter.Get("/metrics").body;
      ASSERT_EQ(MetricValue(body, "probe_shared_visit_b", {{"datname", "erp"}}), 1) << body;
      auto age = [&body](const std::string& collector) {
        return MetricValue(body, "pgpulse_collector_cache_age_seconds", {{"collector", collector}}).value_or(0);
      };
      oldest_a = std::max(oldest_a, age("shared_visit_a"));
      oldest_b = std::max(oldest_b, age("shared_visit_b"));
      std::this_thread::sleep_for(500ms);
    }
    EXPECT_LT(oldest_a, 2.0);
    EXPECT_LT(oldest_b, 3.0);
  }
  for (const std::string database : {"cafe", "erp"}) {
    const double logins = Calls(kLogin, database) - before[database][0];
    const double a = Calls("shared_visit_a", database) - before[database][1];
    const double b = Calls("shared_visit_b", database) - before[database][2];
    EXPECT_GE(a, 4) << database;
    EXPECT_GE(b, 3) << database;
    EXPECT_EQ(logins, a) << database << ": a login for the 3 s collector alone";
  }
}

TEST_F(ScaleTest, DatabaseVisitsSpreadOverTheScrapesInsteadOfComingInOneBurstPerTtl) {
  // Four databases, all visited by the first refresh, over one visiting connection. Were they all due again at
  // once, every 4 s one scrape would visit all four and the others none; instead their first results expire in
  // turn (after 1, 2, 3 and 4 s), and so do their later ones.
  const auto config = Config({{"spread.yaml", DatabaseProbe("spread", "4s")}}, "    max_connections: 2\n");
  ExporterProcess exporter({"--config.file=" + config});
  auto logins = Calls(kLogin);
  std::vector<double> visits;  // per scrape
  double oldest = 0;
  for (int scrape = 0; scrape < 40; ++scrape) {
    const auto body = exporter.Get("/metrics").body;
    ASSERT_EQ(CountSamples(body, "probe_spread"), 4u) << body;
    oldest = std::max(oldest,
                      MetricValue(body, "pgpulse_collector_cache_age_seconds", {{"collector", "spread"}}).value_or(0));
    const auto now = Calls(kLogin);
    visits.push_back(now - logins);
    logins = now;
    std::this_thread::sleep_for(250ms);
  }
  EXPECT_LT(oldest, 4.0) << "no result is served older than its ttl";
  const double later = std::accumulate(visits.begin() + 1, visits.end(), 0.0);
  EXPECT_GE(later, 8) << "each database is visited again, about every 4 s";
  // Spread, they come one at a time; a stalled scrape may let two or three fall due together, never all four.
  EXPECT_LT(*std::max_element(visits.begin() + 1, visits.end()), 4) << "a burst: all databases due at once";
}

TEST_F(ScaleTest, DiscoveryFollowsIncludeAndExcludeLists) {
  const auto config = Config({{"dbs.yaml", DatabaseProbe("visited")}},
                             "    databases: {include: ['/^(cafe|erp|treasury)$/'], exclude: [erp]}\n");
  ExporterProcess exporter({"--config.file=" + config});
  const auto body = exporter.Get("/metrics").body;
  EXPECT_EQ(CountSamples(body, "probe_visited"), 2u) << body;
  EXPECT_TRUE(MetricValue(body, "probe_visited", {{"datname", "cafe"}}));
  EXPECT_TRUE(MetricValue(body, "probe_visited", {{"datname", "treasury"}}));
}

TEST_F(ScaleTest, MaxSeriesCapsACollectorCountsAndLogsOnce) {
  const auto config = Config({{"many.yaml", R"(name: many_rows
scope: cluster
queries: [{sql: 'SELECT g::text AS n, g AS v FROM generate_series(1, 50) g'}]
metrics:
  - {column: n, usage: label}
  - {column: v, usage: gauge, name: probe_many, help: Fifty rows.}
)"}},
                             "", "  many_rows: {max_series: 10}\n");
  ExporterProcess exporter({"--config.file=" + config});
  exporter.Get("/metrics");
  const auto body = exporter.Get("/metrics").body;
  EXPECT_EQ(CountSamples(body, "probe_many"), 10u);
  EXPECT_EQ(MetricValue(body, "pgpulse_collector_series_limit_hits_total", {{"collector", "many_rows"}}), 2);
  const auto output = exporter.process().Output();
  EXPECT_EQ(output.find("collector hit max_series"), output.rfind("collector hit max_series")) << "logged once:\n"
                                                                                               << output;
}

}  // namespace
}  // namespace pgpulse::testing
