// Credential files that are not what they should be (a FIFO, /dev/zero) against the real binary: the event loop
// keeps answering, pgpulse starts and listens, a bad file is a clear error naming it, and memory stays small.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include "tests/harness/exporter_process.h"
#include "tests/harness/http_client.h"
#include "tests/harness/metrics_text.h"
#include "tests/harness/pg_cluster.h"
#include "tests/harness/process.h"

namespace pgpulse::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A DSN that nothing listens on: enough for tests about files, which need no database.
std::string NowhereDsn() {
  return "host=127.0.0.1 port=" + std::to_string(FreePort()) + " user=nobody dbname=postgres";
}

std::string OneTargetConfig(const std::string& dsn, const std::string& password_file) {
  return "targets:\n  - name: a\n    dsn: '" + dsn + "'\n    password_file: " + password_file + "\n";
}

// Replaces `path` with a FIFO in one rename, as an attacker or a confused secrets agent might.
void ReplaceWithFifo(const std::string& path) {
  const std::string fifo = path + ".fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0) << fifo;
  ASSERT_EQ(std::rename(fifo.c_str(), path.c_str()), 0) << path;
}

// Resident memory of a process in MiB, from /proc/<pid>/status.
double ResidentMiB(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024;
  }
  return -1;
}

TEST(CredentialFilesTest, PasswordFileReplacedByAFifoStallsNeitherHealthNorMetrics) {
  PgCluster& cluster = PgCluster::Shared();
  const auto password_file = WriteTempFile(cluster.reporting_password() + "\n");
  const auto config =
      WriteTempFile(OneTargetConfig(cluster.primary().DsnNoPassword(PgCluster::kReportingUser), password_file), ".yml");
  ExporterProcess exporter({"--config.file=" + config});
  auto body = exporter.Poll([](const std::string& b) { return MetricValue(b, "pg_up", {{"target", "a"}}) == 1; }, 15s);
  ASSERT_EQ(MetricValue(body, "pg_up", {{"target", "a"}}), 1) << exporter.process().Output();

  ReplaceWithFifo(password_file);
  // For a few intervals of the file poll (2 s), whose stat() change makes pgpulse read the file (which used to block
  // in open() for good), every endpoint answers at once and the open connection keeps serving metrics.
  const auto until = Clock::now() + 5s;
  while (Clock::now() < until) {
    for (const char* path : {"/healthz", "/readyz", "/"}) {
      const auto response = HttpGet(exporter.port(), path, {}, 1s);
      ASSERT_NE(response.status, 0) << path << " did not answer within a second: " << response.body;
      EXPECT_LT(response.seconds, 1.0) << path;
    }
    const auto metrics = HttpGet(exporter.port(), "/metrics", {}, 2s);
    ASSERT_EQ(metrics.status, 200) << metrics.body;
    EXPECT_EQ(MetricValue(metrics.body, "pg_up", {{"target", "a"}}), 1);
    std::this_thread::sleep_for(500ms);
  }
  // The log says which file is wrong and why.
  ASSERT_TRUE(exporter.process().WaitForOutput("is a FIFO, not a regular file", 5s)) << exporter.process().Output();
  const auto output = exporter.process().Output();
  EXPECT_NE(output.find("cannot read secret file " + password_file + ": is a FIFO"), std::string::npos) << output;
  EXPECT_GE(MetricValue(HttpGet(exporter.port(), "/metrics").body, "pgpulse_credential_reloads_total",
                        {{"target", "a"}, {"result", "failure"}})
                .value_or(0),
            1);
  EXPECT_EQ(output.find(cluster.reporting_password()), std::string::npos) << "the log shows the password";
  EXPECT_TRUE(exporter.process().Running());
}

TEST(CredentialFilesTest, PgpassfileThatIsAFifoDoesNotKeepPgpulseFromListening) {
  TempDir dir;
  const std::string passfile = dir.path() + "/pgpass";
  ASSERT_EQ(::mkfifo(passfile.c_str(), 0600), 0);
  // No password in the config: pgpulse digests libpq's passfile to notice when it rotates.
  const auto config = WriteTempFile("targets:\n  - name: a\n    dsn: '" + NowhereDsn() + "'\n", ".yml");
  const auto start = Clock::now();
  ExporterProcess exporter({"--config.file=" + config}, {{"PGPASSFILE", passfile}});  // throws if never healthy
  EXPECT_LT(Clock::now() - start, 10s);
  for (const char* path : {"/healthz", "/readyz", "/", "/metrics"}) {
    EXPECT_NE(HttpGet(exporter.port(), path, {}, 1s).status, 0) << path;
  }
  EXPECT_TRUE(exporter.process().Running());
}

TEST(CredentialFilesTest, DevZeroAsPasswordFileIsRefusedAtStartAndAtReload) {
  // At start: the config is invalid, with the file, line and key, and pgpulse exits 1 (it used to abort with
  // bad_alloc after filling memory).
  const auto bad = WriteTempFile(OneTargetConfig(NowhereDsn(), "/dev/zero"), ".yml");
  const auto result =
      RunCommand({PgpulseBinary(), "--config.file=" + bad, "--web.listen-address=127.0.0.1:0"}, {}, 20s);
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find(bad + ":4:20: targets[0].password_file: cannot read secret file /dev/zero: is a "
                                     "character device, not a regular file"),
            std::string::npos)
      << result.output;

  // At reload: refused with the same words, the running config stays, and memory does not grow.
  const auto config = WriteTempFile(OneTargetConfig(NowhereDsn(), WriteTempFile("pw\n")), ".yml");
  ExporterProcess exporter({"--config.file=" + config, "--web.enable-lifecycle"});
  const auto before = exporter.Get("/metrics").body;
  ASSERT_TRUE(MetricValue(before, "pg_up", {{"target", "a"}})) << before;
  WriteFile(config, ReadFile(bad));
  const auto refused = HttpRequest("POST", exporter.port(), "/-/reload", "", {}, 20s);
  EXPECT_EQ(refused.status, 500) << refused.body;
  EXPECT_NE(refused.body.find("cannot read secret file /dev/zero: is a character device"), std::string::npos)
      << refused.body;
  exporter.process().Signal(SIGHUP);
  EXPECT_TRUE(exporter.process().WaitForOutput("configuration reload rejected", 5s));
  ASSERT_TRUE(exporter.process().Running()) << exporter.process().Output();
  const double rss = ResidentMiB(exporter.process().pid());
  EXPECT_GT(rss, 0);
  EXPECT_LT(rss, 100) << "MiB resident after the refused reloads";
  const auto after = exporter.Get("/metrics").body;
  EXPECT_TRUE(MetricValue(after, "pg_up", {{"target", "a"}})) << "the running config was kept:\n" << after;
  EXPECT_EQ(MetricValue(after, "pgpulse_config_last_reload_successful"), 0);
}

}  // namespace
}  // namespace pgpulse::testing
