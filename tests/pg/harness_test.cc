// Proves the test harness itself: real servers, roles, replication, stalls, restarts, processes and parsers.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include "tests/harness/http_client.h"
#include "tests/harness/libpq_client.h"
#include "tests/harness/metrics_text.h"
#include "tests/harness/pg_cluster.h"
#include "tests/harness/process.h"
#include "tests/harness/sanitizer_report.h"
#include "tests/harness/scoped_freeze.h"

namespace pgpulse::testing {
namespace {

using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

TEST(HarnessPgTest, PrimaryAnswersAsSuperuserAndHasTheServiceDatabases) {
  PgServer& primary = PgCluster::Shared().primary();
  EXPECT_EQ(primary.QueryValue("postgres", "select 1"), "1");
  for (const std::string& db : PgCluster::Shared().databases()) {
    EXPECT_EQ(
        primary.QueryValue(db, "select pg_get_userbyid(datdba) from pg_database where datname = current_database()"),
        PgCluster::kAppUser);
    EXPECT_EQ(primary.QueryValue(db, "select count(*) from pg_extension where extname = 'pg_stat_statements'"), "1");
  }
  EXPECT_EQ(primary.QueryValue("postgres", "show pg_stat_statements.track"), "all");
}

TEST(HarnessPgTest, ReportingRoleLogsInOverTcpWithItsPassword) {
  PgCluster& cluster = PgCluster::Shared();
  const Rows rows = PgQuery(cluster.primary().Dsn(PgCluster::kReportingUser, cluster.reporting_password()),
                            "select current_user, inet_server_addr()::text, rolsuper, "
                            "pg_has_role(current_user, 'pg_monitor', 'member') "
                            "from pg_roles where rolname = current_user");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], "reporting");
  EXPECT_EQ(rows[0][1], "127.0.0.1/32");  // TCP, not the socket
  EXPECT_EQ(rows[0][2], "f");
  EXPECT_EQ(rows[0][3], "t");
  // The URI form percent-encodes; the app role owns the service databases.
  EXPECT_EQ(PgQuery(cluster.primary().Uri(PgCluster::kAppUser, cluster.app_password(), "cafe"), "select 1")[0][0], "1");
  EXPECT_THAT(cluster.reporting_password(), ::testing::MatchesRegex("rep-[0-9a-f]{24}"));
}

TEST(HarnessPgTest, WrongPasswordIsRejected) {
  PgCluster& cluster = PgCluster::Shared();
  EXPECT_THAT(PgConnectError(cluster.primary().Dsn(PgCluster::kReportingUser, "not-the-password")),
              HasSubstr("password authentication failed"));
  EXPECT_THAT(PgConnectError(cluster.primary().Dsn(PgCluster::kSuperuser, "not-the-password")),
              HasSubstr("password authentication failed"));
  EXPECT_EQ(PgConnectError(cluster.primary().Dsn(PgCluster::kSuperuser, cluster.superuser_password())), "");
}

TEST(HarnessPgTest, StandbyStreamsThroughItsSlot) {
  PgCluster& cluster = PgCluster::Shared();
  // Earlier tests may have restarted the primary; the standby then needs a moment to stream again.
  cluster.WaitForStreaming();
  EXPECT_EQ(cluster.standby().QueryValue("postgres", "select pg_is_in_recovery()"), "t");
  EXPECT_NE(cluster.standby().port(), cluster.primary().port());
  EXPECT_EQ(cluster.primary().QueryValue("postgres",
                                         "select active from pg_replication_slots where slot_name = "
                                         "'pgpulse_standby_slot'"),
            "t");
  cluster.primary().Exec("cafe",
                         "create table if not exists harness_probe (v int); insert into harness_probe values (7)");
  const auto start = Clock::now();
  bool replicated = false;
  while (!replicated && SecondsSince(start) < 10) {
    replicated = cluster.standby().QueryValue("cafe", "select to_regclass('harness_probe') is not null") == "t";
    if (!replicated) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(replicated) << "a table created on the primary did not reach the standby within 10 s";
  cluster.primary().Exec("cafe", "drop table harness_probe");
}

TEST(HarnessPgTest, FreezeStallsConnectsAndThawRecovers) {
  PgCluster& cluster = PgCluster::Shared();
  PgServer& primary = cluster.primary();
  const std::string dsn = primary.Dsn(PgCluster::kReportingUser, cluster.reporting_password()) + " connect_timeout=2";
  ScopedFreeze frozen(primary);
  const auto start = Clock::now();
  EXPECT_THAT(PgConnectError(dsn), HasSubstr("timeout"));
  EXPECT_GE(SecondsSince(start), 1.5);
  primary.Thaw();
  EXPECT_EQ(PgConnectError(dsn), "");
}

TEST(HarnessPgTest, RestartKeepsThePortAndTeardownRemovesEverything) {
  std::string root;
  {
    PgClusterOptions options;
    options.databases = {"only_db"};
    PgCluster cluster(options);
    root = cluster.root_dir();
    EXPECT_THROW(cluster.standby(), std::logic_error);
    PgServer& server = cluster.primary();
    const uint16_t port = server.port();
    const pid_t before = server.postmaster_pid();
    EXPECT_GE(server.Pids().size(), 3u);  // postmaster plus checkpointer, walwriter, ...
    server.Restart();
    EXPECT_EQ(server.port(), port);
    EXPECT_NE(server.postmaster_pid(), before);
    EXPECT_EQ(PgConnectError(server.Dsn(PgCluster::kAppUser, cluster.app_password(), "only_db")), "");
    server.Stop();
    EXPECT_FALSE(server.Running());
    server.Start();
    EXPECT_EQ(server.QueryValue("only_db", "select current_database()"), "only_db");
  }
  EXPECT_FALSE(std::filesystem::exists(root));
}

TEST(HarnessMetricsTest, ParsesLabelsEscapesAndSpecialValues) {
  const std::string text =
      "# HELP pg_up Whether the target answered.\n"
      "# TYPE pg_up gauge\n"
      "pg_up{target=\"primary\"} 1\n"
      "pg_up{target=\"standby\",role=\"replica\"} 0\n"
      "pg_odd{q=\"a \\\"quoted\\\" \\\\ back\\nslash\",x=\"y\",} 3.5e2 1700000000000\n"
      "pg_lag_seconds NaN\n"
      "pg_limit{kind=\"hi\"} +Inf\n"
      "pg_limit{kind=\"lo\"} -Inf\n"
      "pg_duration_seconds_bucket{le=\"0.5\"} 4\n"
      "pg_duration_seconds_bucket{le=\"+Inf\"} 9\n"
      "pg_duration_seconds_count 9\n";
  EXPECT_EQ(MetricValue(text, "pg_up"), 1);
  EXPECT_EQ(MetricValue(text, "pg_up", {{"target", "standby"}}), 0);
  EXPECT_EQ(MetricValue(text, "pg_up", {{"target", "standby"}, {"role", "replica"}}), 0);
  EXPECT_EQ(MetricValue(text, "pg_up", {{"target", "nowhere"}}), std::nullopt);
  EXPECT_EQ(MetricValue(text, "pg_odd", {{"q", "a \"quoted\" \\ back\nslash"}}), 350);
  EXPECT_TRUE(std::isnan(MetricValue(text, "pg_lag_seconds").value()));
  EXPECT_EQ(MetricValue(text, "pg_limit", {{"kind", "hi"}}), INFINITY);
  EXPECT_EQ(MetricValue(text, "pg_limit", {{"kind", "lo"}}), -INFINITY);
  EXPECT_EQ(MetricValue(text, "pg_duration_seconds_bucket", {{"le", "+Inf"}}), 9);
  EXPECT_EQ(MetricValue(text, "pg_duration_seconds"), std::nullopt);
  EXPECT_EQ(CountSamples(text, "pg_up"), 2u);
  EXPECT_EQ(CountSamples(text, "pg_duration_seconds_bucket"), 2u);
  EXPECT_EQ(CountSamples(text, "pg_duration_seconds"), 0u);
  EXPECT_THROW(MetricValue("pg_up{target=\"x} 1\n", "pg_up"), std::invalid_argument);
}

TEST(HarnessMetricsTest, PromtoolAcceptsGoodAndRejectsBrokenExpositions) {
  const CommandResult good = PromtoolCheckMetrics(
      "# HELP pg_up Whether the target answered.\n# TYPE pg_up gauge\n"
      "pg_up 1\n");
  EXPECT_EQ(good.exit_code, 0) << good.output;
  EXPECT_NE(PromtoolCheckMetrics("pg_up{ 1\n").exit_code, 0);
}

TEST(HarnessProcessTest, RunCommandCapturesOutputExitCodeEnvironmentAndTimeout) {
  const CommandResult result =
      RunCommand({"sh", "-c", "echo out; echo err >&2; echo $HARNESS_X; exit 3"}, {{"HARNESS_X", "from-env"}});
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_EQ(result.output, "out\nerr\nfrom-env\n");
  const auto start = Clock::now();
  const CommandResult slow = RunCommand({"sh", "-c", "sleep 30"}, {}, std::chrono::milliseconds(200));
  EXPECT_EQ(slow.exit_code, -1);
  EXPECT_THAT(slow.output, HasSubstr("timed out"));
  EXPECT_LT(SecondsSince(start), 5);
  EXPECT_THROW(RunCommand({"pgpulse-no-such-program"}), std::runtime_error);
  EXPECT_EQ(RunCommandWithInput({"cat"}, "piped\n").output, "piped\n");
}

TEST(HarnessProcessTest, ChildProcessReportsOutputSignalsAndCleansUp) {
  pid_t pid;
  {
    ChildProcess child({"sh", "-c", "echo ready; exec sleep 30"});
    EXPECT_TRUE(child.WaitForOutput("ready", std::chrono::seconds(5)));
    EXPECT_TRUE(child.Running());
    EXPECT_EQ(child.Wait(std::chrono::milliseconds(50)), std::nullopt);
    child.Signal(SIGTERM);
    EXPECT_EQ(child.Wait(std::chrono::seconds(5)), 128 + SIGTERM);
    EXPECT_FALSE(child.Running());
  }
  {
    ChildProcess child({"sh", "-c", "echo bye; exit 5"});
    EXPECT_FALSE(child.WaitForOutput("never printed", std::chrono::seconds(5)));  // returns once it exits
    EXPECT_EQ(child.Wait(std::chrono::seconds(5)), 5);
    EXPECT_EQ(child.Output(), "bye\n");
  }
  {
    ChildProcess child({"sleep", "30"});
    pid = child.pid();
  }  // the destructor terminates and reaps it
  EXPECT_NE(kill(pid, 0), 0);
}

// A sanitized pgpulse prints its reports on stderr (leaks at exit): whichever way the harness ran it, the test fails.
TEST(HarnessProcessTest, SanitizerReportInAChildFailsTheTest) {
  const std::string asan = "==42==ERROR: AddressSanitizer: heap-use-after-free on address 0x602000000010";
  const std::string leak = "==42==ERROR: LeakSanitizer: detected memory leaks";
  const std::string ubsan = "exporter/x.cc:7:9: runtime error: signed integer overflow";
  const std::string tsan = "WARNING: ThreadSanitizer: data race (pid=42)";
  EXPECT_EQ(FindSanitizerReport("a\n" + asan + "\nb\n"), asan);
  EXPECT_EQ(FindSanitizerReport("starting\n" + tsan + "\n"), tsan);
  EXPECT_EQ(FindSanitizerReport(ubsan), ubsan);
  EXPECT_EQ(FindSanitizerReport("level=error msg=\"query failed: ERROR: permission denied\"\n"), "");

  EXPECT_NONFATAL_FAILURE(RunCommand({"sh", "-c", "echo '" + ubsan + "' >&2; exit 1"}), "runtime error");
  EXPECT_NONFATAL_FAILURE(
      {
        // Printed only at the exit, as LeakSanitizer does: here when the destructor's SIGTERM arrives.
        ChildProcess leaky(
            {"sh", "-c", "trap \"echo '" + leak + "' >&2; kill $!; exit 23\" TERM; sleep 30 & echo ready; wait"});
        EXPECT_TRUE(leaky.WaitForOutput("ready", std::chrono::seconds(5)));
      },
      "LeakSanitizer");
  EXPECT_NONFATAL_FAILURE(
      {
        ChildProcess child({"sh", "-c", "echo '" + asan + "' >&2; exit 1"});
        child.Wait(std::chrono::seconds(5));  // already reaped: the destructor still looks
      },
      "AddressSanitizer");
}

// A one-shot HTTP server on a raw socket, so the client is checked against bytes we control.
class CannedHttpServer {
 public:
  explicit CannedHttpServer(std::string response) : response_(std::move(response)) {
    listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || listen(listener_, 4) != 0 ||
        getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      throw std::runtime_error("CannedHttpServer: cannot listen");
    }
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~CannedHttpServer() {
    shutdown(listener_, SHUT_RDWR);
    thread_.join();
    close(listener_);
  }
  uint16_t port() const { return port_; }
  const std::string& request() const { return request_; }

 private:
  void Serve() {
    const int connection = accept(listener_, nullptr, nullptr);
    if (connection < 0) return;
    char buffer[4096];
    while (request_.find("\r\n\r\n") == std::string::npos) {
      const ssize_t n = read(connection, buffer, sizeof buffer);
      if (n <= 0) break;
      request_.append(buffer, static_cast<size_t>(n));
    }
    if (!response_.empty()) {
      (void)!write(connection, response_.data(), response_.size());
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));  // say nothing: the client must time out
    }
    close(connection);
  }

  std::string response_;
  int listener_ = -1;
  uint16_t port_ = 0;
  std::string request_;
  std::thread thread_;
};

TEST(HarnessHttpTest, ReadsStatusHeadersAndBody) {
  CannedHttpServer server(
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nX-Multi: a\r\nX-Multi: b\r\n"
      "Content-Length: 5\r\nConnection: close\r\n\r\nhello");
  const HttpResponse response = HttpGet(server.port(), "/metrics?x=1", {{"Accept", "text/plain"}});
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(response.body, "hello");
  EXPECT_EQ(response.headers.at("content-type"), "text/plain");
  EXPECT_EQ(response.headers.at("x-multi"), "a, b");
  EXPECT_GT(response.seconds, 0);
  EXPECT_THAT(server.request(), HasSubstr("GET /metrics?x=1 HTTP/1.1\r\n"));
  EXPECT_THAT(server.request(), HasSubstr("Accept: text/plain\r\n"));
}

TEST(HarnessHttpTest, ReportsTimeoutsAndRefusedConnectionsAsStatusZero) {
  CannedHttpServer silent("");
  const HttpResponse timed_out = HttpGet(silent.port(), "/", {}, std::chrono::milliseconds(300));
  EXPECT_EQ(timed_out.status, 0);
  EXPECT_THAT(timed_out.body, HasSubstr("timeout"));
  EXPECT_GE(timed_out.seconds, 0.25);
  EXPECT_LT(timed_out.seconds, 2);
  const HttpResponse refused = HttpGet(FreePort(), "/");
  EXPECT_EQ(refused.status, 0);
  EXPECT_THAT(refused.body, HasSubstr("refused"));
}

}  // namespace
}  // namespace pgpulse::testing
