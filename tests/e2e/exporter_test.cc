// The real pgpulse binary against a real PostgreSQL 15, scraped over HTTP, checked with promtool.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "tests/e2e/promtool_check.h"
#include "tests/harness/exporter_process.h"
#include "tests/harness/metrics_text.h"
#include "tests/harness/pg_cluster.h"
#include "tests/harness/process.h"
#include "tests/harness/scoped_freeze.h"

namespace pgpulse::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class ExporterTest : public ::testing::Test {
 protected:
  PgCluster& cluster = PgCluster::Shared();

  std::string ReportingUri() const {
    return cluster.primary().Uri(PgCluster::kReportingUser, cluster.reporting_password());
  }

  // The target name pgpulse derives from a DATA_SOURCE_NAME: host:port/dbname.
  std::string PrimaryTargetName() const {
    return "127.0.0.1:" + std::to_string(cluster.primary().port()) + "/postgres";
  }

  // Polls /metrics until pg_up for `target` has `want`, or the timeout passes. Returns the last exposition.
  static std::string WaitForPgUp(const ExporterProcess& exporter, const std::string& target, double want,
                                 std::chrono::milliseconds timeout, const std::string& path = "/metrics") {
    return exporter.Poll(
        [&](const std::string& body) {
          return MetricValue(body, "pg_up", {{"target", target}}) == want;
        },
        timeout, path);
  }
};

TEST_F(ExporterTest, ServesPgUpAndBuildInfoFromDataSourceName) {
  ExporterProcess exporter({}, {{"DATA_SOURCE_NAME", ReportingUri()}});
  auto health = exporter.Get("/healthz");
  EXPECT_EQ(health.status, 200);

  auto metrics = exporter.Get("/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(MetricValue(metrics.body, "pg_up", {{"target", PrimaryTargetName()}}), 1) << metrics.body;
  EXPECT_EQ(MetricValue(metrics.body, "pgpulse_build_info", {{"version", "0.1.0"}}), 1) << metrics.body;
  EXPECT_TRUE(MetricValue(metrics.body, "pgpulse_scrape_duration_seconds", {{"target", PrimaryTargetName()}}));
  const auto version_num = cluster.primary().QueryValue("postgres", "SHOW server_version_num");
  EXPECT_EQ(MetricValue(metrics.body, "pg_server_version_num", {{"target", PrimaryTargetName()}}),
            std::stod(version_num));
  EXPECT_EQ(MetricValue(metrics.body, "pg_static",
                        {{"target", PrimaryTargetName()},
                         {"version", cluster.primary().QueryValue("postgres", "SELECT version()")}}),
            1)
      << metrics.body;

  ExpectPromtoolAccepts(metrics.body);

  EXPECT_EQ(exporter.Get("/readyz").status, 200);
  EXPECT_EQ(exporter.Get("/nope").status, 404);
  auto page = exporter.Get("/");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find(PrimaryTargetName()), std::string::npos);
  EXPECT_NE(page.body.find("<td>stat_activity</td><td>ok</td>"), std::string::npos) << page.body;
  EXPECT_EQ(page.body.find(cluster.reporting_password()), std::string::npos);
}

TEST_F(ExporterTest, ReadsTargetsAndPasswordFileFromConfig) {
  const auto password_file = WriteTempFile(cluster.reporting_password() + "\n");
  const auto config = WriteTempFile(
      "targets:\n"
      "  - name: shared-primary\n"
      "    dsn: " +
          cluster.primary().DsnNoPassword(PgCluster::kReportingUser) +
          "\n"
          "    password_file: " +
          password_file +
          "\n"
          "    labels: {env: test}\n",
      ".yml");
  ExporterProcess exporter({"--config.file=" + config, "--web.telemetry-path=/custom"});
  auto body = WaitForPgUp(exporter, "shared-primary", 1, 10s, "/custom");
  EXPECT_EQ(exporter.Get("/metrics").status, 404);  // the telemetry path moved
  EXPECT_EQ(MetricValue(body, "pg_up", {{"target", "shared-primary"}, {"env", "test"}}), 1) << body;
}

// What PgpulseScrapeSlow and PgpulseCacheStale compare: the time pgpulse allows a scrape (Prometheus' timeout less a
// margin), and each cached collector's ttl next to the age of the result it serves.
TEST_F(ExporterTest, ScrapeAllowanceAndCollectorTtlsAreExported) {
  const auto config = WriteTempFile(
      "targets:\n  - name: shared-primary\n    dsn: '" + ReportingUri() + "'\ncollectors:\n  sequences: {ttl: 90s}\n",
      ".yml");
  ExporterProcess exporter({"--config.file=" + config});
  WaitForPgUp(exporter, "shared-primary", 1, 10s);
  const std::map<std::string, std::string> sequences = {{"target", "shared-primary"}, {"collector", "sequences"}};
  auto body = exporter.Get("/metrics", {{"X-Prometheus-Scrape-Timeout-Seconds", "3"}}).body;
  EXPECT_EQ(MetricValue(body, "pgpulse_scrape_timeout_seconds", {}), 2.5) << "3 s less a 0.5 s margin";
  EXPECT_EQ(MetricValue(body, "pgpulse_collector_ttl_seconds", sequences), 90);
  EXPECT_EQ(
      MetricValue(body, "pgpulse_collector_ttl_seconds", {{"target", "shared-primary"}, {"collector", "database"}}),
      300);
  EXPECT_FALSE(
      MetricValue(body, "pgpulse_collector_ttl_seconds", {{"target", "shared-primary"}, {"collector", "postmaster"}}))
      << "a collector without a cache has no ttl";
  const auto cached = MetricValue(body, "pgpulse_collector_cache_age_seconds", sequences);
  ASSERT_TRUE(cached) << "the startup refresh's result is served from the cache";
  EXPECT_LT(*cached, 90);
  body = exporter.Get("/metrics").body;
  EXPECT_EQ(MetricValue(body, "pgpulse_scrape_timeout_seconds", {}), 9.5) << "Prometheus' default 10 s, less 0.5 s";
  ExpectPromtoolAccepts(body);
}

TEST_F(ExporterTest, WrongPasswordGivesPgUpZeroAndNeverShowsTheSecret) {
  const std::string wrong = "wrong-secret-" + std::to_string(::getpid());
  ExporterProcess exporter({}, {{"DATA_SOURCE_NAME", cluster.primary().Uri(PgCluster::kReportingUser, wrong)}});
  auto metrics = exporter.Get("/metrics");
  EXPECT_EQ(MetricValue(metrics.body, "pg_up", {{"target", PrimaryTargetName()}}), 0) << metrics.body;
  auto page = exporter.Get("/").body;
  EXPECT_NE(page.find("password authentication failed"), std::string::npos) << page;
  exporter.process().Signal(SIGTERM);
  exporter.process().Wait(5s);
  const auto output = exporter.process().Output();
  EXPECT_NE(output.find("password authentication failed"), std::string::npos) << output;
  EXPECT_NE(output.find("target=" + PrimaryTargetName()), std::string::npos) << output;
  for (const auto& text : {metrics.body, page, output}) {
    EXPECT_EQ(text.find(wrong), std::string::npos) << text;
    EXPECT_EQ(text.find(cluster.reporting_password()), std::string::npos) << text;
  }
}

TEST_F(ExporterTest, RecoversFromAPostgresRestartWithoutRestarting) {
  ExporterProcess exporter({}, {{"DATA_SOURCE_NAME", ReportingUri()}});
  ASSERT_EQ(MetricValue(WaitForPgUp(exporter, PrimaryTargetName(), 1, 10s), "pg_up", {{"target", PrimaryTargetName()}}),
            1);
  cluster.primary().Stop();
  auto down = exporter.Get("/metrics").body;
  cluster.primary().Start();
  EXPECT_EQ(MetricValue(down, "pg_up", {{"target", PrimaryTargetName()}}), 0) << down;
  const auto start = Clock::now();
  auto up = WaitForPgUp(exporter, PrimaryTargetName(), 1, 10s);
  EXPECT_EQ(MetricValue(up, "pg_up", {{"target", PrimaryTargetName()}}), 1) << up;
  RecordProperty("recovery_ms", std::to_string((Clock::now() - start) / 1ms));
  EXPECT_TRUE(exporter.process().Running());
}

TEST_F(ExporterTest, StalledServerDelaysNeitherOtherTargetsNorHealthz) {
  // Two targets: the primary, which is frozen with SIGSTOP (sockets open, nothing answers), and the standby.
  const auto config = WriteTempFile(
      "targets:\n"
      "  - name: stalled\n"
      "    dsn: '" +
          cluster.primary().Dsn(PgCluster::kReportingUser, cluster.reporting_password()) +
          "'\n"
          "  - name: healthy\n"
          "    dsn: '" +
          cluster.standby().Dsn(PgCluster::kReportingUser, cluster.reporting_password()) + "'\n",
      ".yml");
  ExporterProcess exporter({"--config.file=" + config});
  WaitForPgUp(exporter, "stalled", 1, 10s);
  ASSERT_EQ(MetricValue(WaitForPgUp(exporter, "healthy", 1, 10s), "pg_up", {{"target", "healthy"}}), 1);

  ScopedFreeze frozen(cluster.primary());

  // A scrape with a 3 s budget runs in the background while /healthz is probed in a loop.
  auto scrape = std::async(std::launch::async, [&exporter] {
    return exporter.Get("/metrics", {{"X-Prometheus-Scrape-Timeout-Seconds", "3"}});
  });
  std::this_thread::sleep_for(100ms);
  double slowest_healthz = 0;
  int healthz_probes = 0;
  while (scrape.wait_for(0ms) != std::future_status::ready) {
    auto health = exporter.Get("/healthz");
    EXPECT_EQ(health.status, 200);
    slowest_healthz = std::max(slowest_healthz, health.seconds);
    ++healthz_probes;
    std::this_thread::sleep_for(50ms);
  }
  auto result = scrape.get();
  RecordProperty("slowest_healthz_ms", std::to_string(static_cast<int>(slowest_healthz * 1000)));
  RecordProperty("scrape_s", std::to_string(result.seconds));
  EXPECT_GT(healthz_probes, 10);
  EXPECT_LT(slowest_healthz, 0.2) << "a /healthz took " << slowest_healthz << " s while a target was stalled";
  // The answer arrives within the scrape budget (3 s minus the margin), not after the stalled server.
  ASSERT_EQ(result.status, 200) << result.body;
  EXPECT_LT(result.seconds, 3.0);
  EXPECT_GT(result.seconds, 2.0);
  EXPECT_EQ(MetricValue(result.body, "pg_up", {{"target", "stalled"}}), 0) << result.body;
  EXPECT_EQ(MetricValue(result.body, "pg_up", {{"target", "healthy"}}), 1) << result.body;
  auto healthy_seconds = MetricValue(result.body, "pgpulse_scrape_duration_seconds", {{"target", "healthy"}});
  ASSERT_TRUE(healthy_seconds);
  EXPECT_LT(*healthy_seconds, 0.5) << "the healthy target waited for the stalled one";

  cluster.primary().Thaw();
  auto recovered = WaitForPgUp(exporter, "stalled", 1, 15s);
  EXPECT_EQ(MetricValue(recovered, "pg_up", {{"target", "stalled"}}), 1) << recovered;
}

TEST_F(ExporterTest, BadConfigExitsNonZeroNamingFileLineAndKey) {
  const auto config = WriteTempFile("targets:\n  - name: a\n    dsn: host=db\n    passwrd_file: /x\n", ".yml");
  auto result = RunCommand({PgpulseBinary(), "--config.file=" + config}, {}, 10s);
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find(config + ":4:5: targets[0].passwrd_file: unknown key"), std::string::npos)
      << result.output;

  auto missing = RunCommand({PgpulseBinary()}, {{"DATA_SOURCE_NAME", ""}, {"DATA_SOURCE_URI", ""}}, 10s);
  EXPECT_EQ(missing.exit_code, 1) << missing.output;
  EXPECT_NE(missing.output.find("no targets"), std::string::npos) << missing.output;

  auto bad_flag = RunCommand({PgpulseBinary(), "--log.level=loud"}, {}, 10s);
  EXPECT_EQ(bad_flag.exit_code, 2) << bad_flag.output;
  EXPECT_NE(bad_flag.output.find("--log.level"), std::string::npos) << bad_flag.output;
}

TEST_F(ExporterTest, VersionHelpAndJsonLogs) {
  auto version = RunCommand({PgpulseBinary(), "--version"}, {}, 10s);
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_NE(version.output.find("pgpulse version 0.1.0"), std::string::npos) << version.output;
  auto help = RunCommand({PgpulseBinary(), "--help"}, {}, 10s);
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.output.find("--web.listen-address"), std::string::npos);

  ExporterProcess exporter({"--log.format=json"}, {{"DATA_SOURCE_NAME", ReportingUri()}});
  exporter.Get("/metrics");
  const auto output = exporter.process().Output();
  EXPECT_NE(output.find("{\"ts\":"), std::string::npos) << output;
  EXPECT_NE(output.find("\"msg\":\"listening\""), std::string::npos) << output;
}

}  // namespace
}  // namespace pgpulse::testing
