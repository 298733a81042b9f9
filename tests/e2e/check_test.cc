// `pgpulse check` through the real binary: the report (table and JSON), the exit code, and no password anywhere.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "tests/harness/exporter_process.h"
#include "tests/harness/free_port.h"
#include "tests/harness/pg_cluster.h"
#include "tests/harness/process.h"

namespace pgpulse::testing {
namespace {

using namespace std::chrono_literals;

struct CheckRun {
  int exit_code = -1;
  std::string out;  // stdout: the report
  std::string err;  // stderr: the log
};

class CheckCommandTest : public ::testing::Test {
 protected:
  PgCluster& cluster = PgCluster::Shared();

  // Runs `pgpulse check <args>` with stdout and stderr kept apart.
  CheckRun Check(const std::vector<std::string>& args) {
    TempDir dir;
    std::string command = "exec '" + PgpulseBinary() + "' check";
    for (const auto& arg : args) command += " '" + arg + "'";
    command += " >" + dir.path() + "/out 2>" + dir.path() + "/err";
    auto result = RunCommand({"/bin/sh", "-c", command}, {}, 30s);
    CheckRun run{result.exit_code, ReadFile(dir.path() + "/out"), ReadFile(dir.path() + "/err")};
    for (const auto& text : {run.out, run.err, result.output}) {
      EXPECT_EQ(text.find(cluster.reporting_password()), std::string::npos) << text;
      EXPECT_EQ(text.find(cluster.superuser_password()), std::string::npos) << text;
    }
    return run;
  }

  std::string Target(const std::string& name, const std::string& dsn) const {
    return "  - name: " + name + "\n    dsn: '" + dsn + "'\n";
  }
  std::string Reporting(PgServer& server) const {
    return server.Dsn(PgCluster::kReportingUser, cluster.reporting_password());
  }
  std::string HealthyConfig() {
    return WriteTempFile("targets:\n" + Target("primary", Reporting(cluster.primary())) +
                             Target("standby", Reporting(cluster.standby())) +
                             "collectors:\n  sequences: {enabled: false}\n",
                         ".yml");
  }
};

TEST_F(CheckCommandTest, HealthyPrimaryAndStandbyExitZeroWithTheirRolesAndCollectors) {
  cluster.WaitForStreaming();
  auto run = Check({"--config.file=" + HealthyConfig()});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("target primary: healthy\n"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("target standby: healthy\n"), std::string::npos) << run.out;
  const auto standby = run.out.find("target standby:");
  const auto primary_part = run.out.substr(0, standby), standby_part = run.out.substr(standby);
  EXPECT_NE(primary_part.find("  server      primary\n"), std::string::npos) << run.out;
  EXPECT_NE(standby_part.find("  server      replica\n"), std::string::npos) << run.out;
  EXPECT_NE(primary_part.find("  reachable   yes\n"), std::string::npos) << run.out;
  EXPECT_NE(primary_part.find("  role safe   yes\n"), std::string::npos) << run.out;
  EXPECT_NE(primary_part.find("  pg_monitor  yes\n"), std::string::npos) << run.out;
  EXPECT_NE(primary_part.find("  extension   pg_stat_statements: present\n"), std::string::npos) << run.out;
  EXPECT_NE(primary_part.find("  collector   stat_activity: enabled, ok\n"), std::string::npos) << run.out;
  EXPECT_NE(primary_part.find("  collector   sequences: disabled, disabled in the config\n"), std::string::npos)
      << run.out;
  EXPECT_NE(standby_part.find("disabled, replica\n"), std::string::npos) << "a primary-only collector: " << run.out;
  EXPECT_NE(run.err.find("msg=\"checking target\" target=primary"), std::string::npos) << run.err;
  EXPECT_EQ(run.out.find("msg="), std::string::npos) << "logs go to stderr, not stdout: " << run.out;
}

TEST_F(CheckCommandTest, JsonHoldsTheSameFacts) {
  cluster.WaitForStreaming();
  auto run = Check({"--config.file=" + HealthyConfig(), "--output=json"});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  // Python's parser is strict JSON; the script prints the facts one per line.
  const std::string script =
      "import json,sys\n"
      "d=json.load(sys.stdin)\n"
      "print('healthy', d['healthy'])\n"
      "for t in d['targets']:\n"
      "  c={x['name']:(x['enabled'],x['reason']) for x in t['collectors']}\n"
      "  e={x['name']:x['present'] for x in t['extensions']}\n"
      "  print(t['name'], t['healthy'], t['reachable'], t['role_safe'], t['pg_monitor'], t['server'],\n"
      "        e.get('pg_stat_statements'), c['stat_activity'], c['sequences'], 'xxxxx' in t['dsn'])\n";
  auto parsed = RunCommandWithInput({"python3", "-c", script}, run.out, {}, 30s);
  ASSERT_EQ(parsed.exit_code, 0) << parsed.output << "\n" << run.out;
  EXPECT_EQ(parsed.output,
            "healthy True\n"
            "primary True True True True primary True (True, 'ok') (False, 'disabled in the config') True\n"
            "standby True True True True replica True (True, 'ok') (False, 'disabled in the config') True\n")
      << run.out;
}

TEST_F(CheckCommandTest, UnreachableOrSuperuserTargetExitsOneNamingIt) {
  const auto closed = "host=127.0.0.1 port=" + std::to_string(FreePort()) +
                      " user=reporting password=" + cluster.reporting_password() + " dbname=postgres";
  auto down = Check(
      {"--config.file=" +
       WriteTempFile("targets:\n" + Target("primary", Reporting(cluster.primary())) + Target("gone", closed), ".yml")});
  EXPECT_EQ(down.exit_code, 1) << down.out << down.err;
  EXPECT_NE(down.out.find("target primary: healthy\n"), std::string::npos) << down.out;
  EXPECT_NE(down.out.find("target gone: UNHEALTHY: unreachable\n"), std::string::npos) << down.out;
  EXPECT_NE(down.err.find("msg=\"target unhealthy\" target=gone problem=unreachable"), std::string::npos) << down.err;

  const auto superuser = cluster.primary().Dsn(PgCluster::kSuperuser, cluster.superuser_password());
  auto unsafe = Check({"--config.file=" + WriteTempFile("targets:\n" + Target("root", superuser), ".yml")});
  EXPECT_EQ(unsafe.exit_code, 1) << unsafe.out << unsafe.err;
  EXPECT_NE(unsafe.out.find("target root: UNHEALTHY: role unsafe\n"), std::string::npos) << unsafe.out;
  EXPECT_NE(unsafe.out.find("  reachable   yes\n"), std::string::npos) << unsafe.out;
  EXPECT_NE(unsafe.out.find("  role safe   no (role \"postgres\" is a superuser"), std::string::npos) << unsafe.out;
}

TEST_F(CheckCommandTest, ConfigErrorExitsTwoNamingTheFile) {
  const auto config = WriteTempFile("targets:\n  - name: a\n    dsn: host=db\n    passwrd_file: /x\n", ".yml");
  auto run = Check({"--config.file=" + config});
  EXPECT_EQ(run.exit_code, 2) << run.out << run.err;
  EXPECT_NE(run.err.find(config + ":4:5: targets[0].passwrd_file: unknown key"), std::string::npos) << run.err;
  EXPECT_EQ(run.out, "");
  auto bad_output = Check({"--config.file=" + config, "--output=yaml"});
  EXPECT_EQ(bad_output.exit_code, 2) << bad_output.err;
  EXPECT_NE(bad_output.err.find("--output"), std::string::npos) << bad_output.err;
}

}  // namespace
}  // namespace pgpulse::testing
