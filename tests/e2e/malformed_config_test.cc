// A config with a key YAML allows but pgpulse has no use for (`labels: {? [a] : b}`, a list as a key) used to end
// pgpulse with an uncaught yaml-cpp exception, SIGABRT. Now it is a config error like any other, with the file and
// line: a clean exit at start, a refused reload while running.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <string>

#include "tests/harness/exporter_process.h"
#include "tests/harness/http_client.h"
#include "tests/harness/metrics_text.h"
#include "tests/harness/process.h"

namespace pgpulse::testing {
namespace {

using namespace std::chrono_literals;

std::string Config(const std::string& labels) {
  return "targets:\n  - name: a\n    dsn: 'host=127.0.0.1 port=" + std::to_string(FreePort()) +
         " user=nobody dbname=postgres'\n    labels: " + labels + "\n";
}

TEST(MalformedConfigTest, NonScalarKeyExitsCleanlyAtStartNamingFileAndLine) {
  const auto config = WriteTempFile(Config("{? [a] : b}"), ".yml");
  const auto result = RunCommand({PgpulseBinary(), "--config.file=" + config}, {}, 10s);
  EXPECT_EQ(result.exit_code, 1) << "not a clean exit (134 is SIGABRT):\n" << result.output;
  EXPECT_NE(result.output.find(config + ":4:16: targets[0].labels: has a key that is not a plain string"),
            std::string::npos)
      << result.output;
  EXPECT_EQ(result.output.find("terminate called"), std::string::npos) << result.output;
}

TEST(MalformedConfigTest, NonScalarKeyAtReloadIsRefusedAndTheRunningConfigStays) {
  const auto good = Config("{env: test}");
  const auto config = WriteTempFile(good, ".yml");
  ExporterProcess exporter({"--config.file=" + config, "--web.enable-lifecycle"});
  ASSERT_TRUE(MetricValue(exporter.Get("/metrics").body, "pg_up", {{"target", "a"}, {"env", "test"}}));

  WriteFile(config, Config("{? [a] : b}"));
  const std::string expected = config + ":4:16: targets[0].labels: has a key that is not a plain string";
  const auto refused = HttpRequest("POST", exporter.port(), "/-/reload");
  EXPECT_EQ(refused.status, 500) << refused.body;
  EXPECT_NE(refused.body.find(expected), std::string::npos) << refused.body;
  exporter.process().Signal(SIGHUP);
  EXPECT_TRUE(exporter.process().WaitForOutput("configuration reload rejected", 5s));
  ASSERT_TRUE(exporter.process().Running()) << exporter.process().Output();
  EXPECT_NE(exporter.process().Output().find(expected), std::string::npos) << exporter.process().Output();

  const auto body = exporter.Get("/metrics").body;
  EXPECT_TRUE(MetricValue(body, "pg_up", {{"target", "a"}, {"env", "test"}})) << "the old config was kept:\n" << body;
  EXPECT_EQ(MetricValue(body, "pgpulse_config_last_reload_successful"), 0);
}

}  // namespace
}  // namespace pgpulse::testing
