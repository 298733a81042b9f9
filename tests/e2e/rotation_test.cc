// Credential rotation without restarts and role safety: the real binary against a real PostgreSQL, one test per
// rotation strategy of the operator guides (single user, alternating users, a temporary role swapped in and
// renamed, a secrets manager's four phases), plus configuration reloads and the superuser refusal. Every test
// greps pgpulse's log, metrics and status page for the passwords it used.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <random>
#include <set>
#include <thread>

#include "tests/e2e/held_session.h"
#include "tests/harness/exporter_process.h"
#include "tests/harness/http_client.h"
#include "tests/harness/libpq_client.h"
#include "tests/harness/metrics_text.h"
#include "tests/harness/pg_cluster.h"
#include "tests/harness/process.h"

namespace pgpulse::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class RotationTest : public ::testing::Test {
 protected:
  PgCluster& cluster = PgCluster::Shared();

  void TearDown() override {
    for (const auto& role : roles_) {
      Terminate(role);
      Sql("DROP ROLE IF EXISTS " + QuoteSqlIdentifier(role));
    }
  }

  static std::string NewPassword(const std::string& tag) {
    static std::mt19937_64 random(std::random_device{}());
    char hex[25];
    std::snprintf(hex, sizeof hex, "%016llx%08llx", static_cast<unsigned long long>(random()),
                  static_cast<unsigned long long>(random() & 0xffffffffULL));
    return tag + "-" + hex;
  }

  void Sql(const std::string& sql) { cluster.primary().Exec("postgres", sql); }

  // A login role in pg_monitor, dropped after the test.
  void CreateRole(const std::string& role, const std::string& password, bool pg_monitor = true) {
    roles_.push_back(role);
    Sql("DROP ROLE IF EXISTS " + QuoteSqlIdentifier(role));
    Sql("CREATE ROLE " + QuoteSqlIdentifier(role) + " LOGIN PASSWORD " + QuoteSqlLiteral(password) +
        (pg_monitor ? " IN ROLE pg_monitor" : ""));
  }
  void SetPassword(const std::string& role, const std::string& password) {
    Sql("ALTER ROLE " + QuoteSqlIdentifier(role) + " PASSWORD " + QuoteSqlLiteral(password));
  }
  // Ends the role's sessions, as a restart, a failover or a pooler recycling connections would.
  void Terminate(const std::string& role) {
    Sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = " + QuoteSqlLiteral(role));
  }
  // The role's sessions, for a failure message.
  std::string Sessions(const std::string& role) {
    std::string out;
    for (const auto& row :
         cluster.primary().Query("postgres",
                                 "SELECT pid || ' ' || datname || ' ' || application_name || ' ' || "
                                 "extract(epoch FROM backend_start) FROM pg_stat_activity WHERE usename = " +
                                     QuoteSqlLiteral(role))) {
      out += "\n  " + row.at(0).value_or("");
    }
    return out;
  }
  // Roles of pgpulse's sessions right now.
  std::set<std::string> PgpulseSessionRoles() {
    std::set<std::string> roles;
    for (const auto& row : cluster.primary().Query(
             "postgres", "SELECT DISTINCT usename FROM pg_stat_activity WHERE application_name = 'pgpulse'")) {
      if (row.at(0)) roles.insert(*row.at(0));
    }
    return roles;
  }

  // A config with one target "rot" on the primary's postgres database; `credentials` are its credential lines.
  std::string Config(const std::string& dsn_user, const std::string& credentials) {
    std::string dsn = "host=" + cluster.primary().host() + " port=" + std::to_string(cluster.primary().port()) +
                      " dbname=postgres sslmode=disable";
    if (!dsn_user.empty()) dsn += " user=" + dsn_user;
    return WriteTempFile("targets:\n  - name: rot\n    dsn: '" + dsn + "'\n" + credentials, ".yml");
  }
  static std::string JsonSecret(const std::string& user, const std::string& password) {
    // What a secrets manager writes: more keys than pgpulse reads.
    return "{\"engine\": \"postgres\", \"host\": \"db.internal\", \"port\": 5432, \"username\": \"" + user +
           "\", \"password\": \"" + password + "\", \"dbname\": \"postgres\"}\n";
  }

  static std::function<bool(const std::string&)> Is(const std::string& name, std::map<std::string, std::string> labels,
                                                    double want) {
    labels["target"] = "rot";
    return [=](const std::string& body) { return MetricValue(body, name, labels) == want; };
  }
  static double Value(const std::string& body, const std::string& name,
                      std::map<std::string, std::string> labels = {}) {
    labels["target"] = "rot";
    return MetricValue(body, name, labels).value_or(-1);
  }

  // No password of `secrets` in the log, the metrics or the status page.
  static void ExpectNoSecret(ExporterProcess& exporter, const std::vector<std::string>& secrets) {
    const auto metrics = exporter.Get("/metrics").body;
    const auto page = exporter.Get("/").body;
    const auto output = exporter.process().Output();
    for (const auto& secret : secrets) {
      EXPECT_EQ(metrics.find(secret), std::string::npos) << "metrics show a password";
      EXPECT_EQ(page.find(secret), std::string::npos) << "the status page shows a password";
      EXPECT_EQ(output.find(secret), std::string::npos) << "the log shows a password:\n" << output;
    }
  }

  std::vector<std::string> roles_;
};

TEST_F(RotationTest, SingleUserPasswordRotatedInTheDatabaseThenInTheFile) {
  const auto old_password = NewPassword("single-old"), new_password = NewPassword("single-new");
  CreateRole("rot_single", old_password);
  const auto password_file = WriteTempFile(old_password + "\n");
  ExporterProcess exporter({"--config.file=" + Config("rot_single", "    password_file: " + password_file + "\n")});
  const auto pid = exporter.process().pid();
  auto body = exporter.Poll(Is("pg_up", {}, 1), 10s);
  ASSERT_EQ(Value(body, "pg_up"), 1) << exporter.process().Output();
  const double loaded_at = Value(body, "pgpulse_credential_last_change_timestamp_seconds");
  EXPECT_GT(loaded_at, 0);

  // Step 1, the database: the open connection keeps working (PostgreSQL does not end it).
  SetPassword("rot_single", new_password);
  body = exporter.Get("/metrics").body;
  EXPECT_EQ(Value(body, "pg_up"), 1) << "an open connection survives a password change";
  // Sessions end (a failover, a restart): new connections still carry the old password and are refused.
  Terminate("rot_single");
  body = exporter.Poll(Is("pg_up", {}, 0), 5s);
  ASSERT_EQ(Value(body, "pg_up"), 0) << body;
  EXPECT_GE(Value(body, "pgpulse_auth_failures_total"), 1);

  // Step 2, the file: pgpulse notices by itself, no signal and no restart.
  std::this_thread::sleep_for(1100ms);  // a modification time the old file cannot have had
  WriteFile(password_file, new_password + "\n");
  const auto written = Clock::now();
  body = exporter.Poll(Is("pg_up", {}, 1), 10s);
  const auto recovery = Clock::now() - written;
  EXPECT_EQ(Value(body, "pg_up"), 1) << exporter.process().Output();
  EXPECT_LT(recovery, 10s);
  RecordProperty("recovery_ms", std::to_string(recovery / 1ms));
  EXPECT_GE(Value(body, "pgpulse_credential_reloads_total", {{"result", "success"}}), 1);
  EXPECT_GT(Value(body, "pgpulse_credential_last_change_timestamp_seconds"), loaded_at);
  EXPECT_EQ(Value(body, "pgpulse_target_role_info", {{"rolname", "rot_single"}, {"pg_monitor", "true"}}), 1);
  EXPECT_TRUE(exporter.process().Running());
  EXPECT_EQ(exporter.process().pid(), pid);
  EXPECT_TRUE(exporter.process().WaitForOutput("credentials changed", 1s)) << exporter.process().Output();
  ExpectNoSecret(exporter, {old_password, new_password});
}

TEST_F(RotationTest, WrongPasswordIsCountedLoggedWithTheTargetAndNeverShown) {
  const auto right = NewPassword("wrong-right"), wrong = NewPassword("wrong-wrong");
  CreateRole("rot_wrong", right);
  ExporterProcess exporter(
      {"--config.file=" + Config("rot_wrong", "    password_file: " + WriteTempFile(wrong + "\n") + "\n")});
  auto body = exporter.Poll([](const std::string& b) { return Value(b, "pgpulse_auth_failures_total") >= 2; }, 10s);
  EXPECT_EQ(Value(body, "pg_up"), 0);
  EXPECT_GE(Value(body, "pgpulse_auth_failures_total"), 2) << body;
  // Each failure re-read the file before the next attempt.
  EXPECT_GE(Value(body, "pgpulse_credential_reloads_total", {{"result", "success"}}), 1);
  const auto output = exporter.process().Output();
  EXPECT_NE(output.find("target=rot"), std::string::npos) << output;
  EXPECT_NE(output.find("password authentication failed"), std::string::npos) << output;
  EXPECT_NE(exporter.Get("/").body.find("password authentication failed"), std::string::npos);
  ExpectNoSecret(exporter, {right, wrong});
}

TEST_F(RotationTest, AlternatingUsersSwitchThroughTheJsonSecret) {
  const auto password_a = NewPassword("alt-a"), password_b = NewPassword("alt-b");
  CreateRole("rot_alt_a", password_a);
  CreateRole("rot_alt_b", password_b);
  const auto secret = WriteTempFile(JsonSecret("rot_alt_a", password_a));
  // The DSN names no user: it comes from the secret, so it can change.
  ExporterProcess exporter({"--config.file=" + Config("", "    secret_file: " + secret + "\n")});
  auto body = exporter.Poll(Is("pgpulse_target_role_info", {{"rolname", "rot_alt_a"}}, 1), 10s);
  ASSERT_EQ(Value(body, "pg_up"), 1) << exporter.process().Output();
  EXPECT_EQ(Value(body, "pgpulse_target_role_info", {{"rolname", "rot_alt_a"}}), 1) << body;

  // The secrets manager switches to the other user, then the previous one is retired.
  WriteFile(secret, JsonSecret("rot_alt_b", password_b));
  std::this_thread::sleep_for(3s);  // more than one poll of the file
  Sql("ALTER ROLE rot_alt_a PASSWORD NULL");
  Terminate("rot_alt_a");
  body = exporter.Poll(Is("pgpulse_target_role_info", {{"rolname", "rot_alt_b"}}, 1), 10s);
  EXPECT_EQ(Value(body, "pg_up"), 1) << exporter.process().Output();
  EXPECT_EQ(Value(body, "pgpulse_target_role_info", {{"rolname", "rot_alt_b"}}), 1) << body;
  // The switch was noticed from the file, before any login failed.
  EXPECT_EQ(Value(body, "pgpulse_auth_failures_total"), 0);
  EXPECT_GE(Value(body, "pgpulse_credential_reloads_total", {{"result", "success"}}), 1);
  EXPECT_EQ(PgpulseSessionRoles().count("rot_alt_a"), 0u);
  ExpectNoSecret(exporter, {password_a, password_b});
}

TEST_F(RotationTest, TemporaryRoleIsSwappedInAndRenamed) {
  const auto old_password = NewPassword("swap-old"), new_password = NewPassword("swap-new");
  CreateRole("rot_swap", old_password);
  const auto secret = WriteTempFile(JsonSecret("rot_swap", old_password));
  ExporterProcess exporter({"--config.file=" + Config("", "    secret_file: " + secret + "\n")});
  auto body = exporter.Poll(Is("pgpulse_target_role_info", {{"rolname", "rot_swap"}}, 1), 10s);
  ASSERT_EQ(Value(body, "pg_up"), 1) << exporter.process().Output();

  // 1. A temporary role with the same privileges and a new password; 2. pgpulse is pointed at it.
  CreateRole("rot_swap_new", new_password);
  WriteFile(secret, JsonSecret("rot_swap_new", new_password));
  std::this_thread::sleep_for(3s);
  // 3. Once the old role's sessions are gone it is dropped, and the temporary role takes its name. A SCRAM
  // password survives the rename; the renamed role's open sessions carry on.
  Terminate("rot_swap");
  body = exporter.Poll(Is("pgpulse_target_role_info", {{"rolname", "rot_swap_new"}}, 1), 10s);
  ASSERT_EQ(Value(body, "pg_up"), 1) << exporter.process().Output();
  Sql("DROP ROLE rot_swap");
  Sql("ALTER ROLE rot_swap_new RENAME TO rot_swap");
  roles_.push_back("rot_swap");
  WriteFile(secret, JsonSecret("rot_swap", new_password));
  body = exporter.Get("/metrics").body;
  EXPECT_EQ(Value(body, "pg_up"), 1) << "the open session survives the rename";
  std::this_thread::sleep_for(3s);
  Terminate("rot_swap");
  body = exporter.Poll(Is("pgpulse_target_role_info", {{"rolname", "rot_swap"}}, 1), 10s);
  EXPECT_EQ(Value(body, "pg_up"), 1) << exporter.process().Output();
  EXPECT_EQ(Value(body, "pgpulse_auth_failures_total"), 0) << "every switch was noticed before a login needed it";
  EXPECT_GE(Value(body, "pgpulse_credential_reloads_total", {{"result", "success"}}), 2);
  ExpectNoSecret(exporter, {old_password, new_password});
}

// PgOldCredentialInUse compares the role's oldest session with the last credential change. pgpulse's own sessions
// must not count: its target connection (the one asking) is left out, and its database connections log in again with
// the new credentials. A session someone else opened with the old password still shows.
TEST_F(RotationTest, OldPasswordStillInUseShowsButPgpulsesOwnSessionsDoNot) {
  const auto old_password = NewPassword("old-use-old"), new_password = NewPassword("old-use-new");
  CreateRole("rot_old_use", old_password);
  const auto password_file = WriteTempFile(old_password + "\n");
  // One service database and spare connections: the database connection stays open between visits.
  ExporterProcess exporter({"--config.file=" + Config("rot_old_use", "    password_file: " + password_file +
                                                                         "\n    databases: {include: [cafe]}\n"
                                                                         "collectors:\n  sequences: {ttl: 1s}\n")});
  auto body = exporter.Poll(Is("pg_up", {}, 1), 10s);
  ASSERT_EQ(Value(body, "pg_up"), 1) << exporter.process().Output();
  const auto pgpulse_in_cafe = [&] {
    return cluster.primary().Query("postgres",
                                   "SELECT extract(epoch FROM min(backend_start))::float8 FROM pg_stat_activity "
                                   "WHERE usename = 'rot_old_use' AND datname = 'cafe'");
  };
  const auto deadline = Clock::now() + 10s;
  while (!pgpulse_in_cafe().at(0).at(0) && Clock::now() < deadline) std::this_thread::sleep_for(100ms);
  ASSERT_TRUE(pgpulse_in_cafe().at(0).at(0)) << "pgpulse never visited cafe";

  // Someone else holds a session with the old password.
  auto other = std::make_unique<HeldSession>(cluster.primary().Dsn("rot_old_use", old_password, "erp"));
  const double other_start = std::stod(*cluster.primary()
                                            .Query("postgres",
                                                   "SELECT extract(epoch FROM backend_start)::float8 FROM "
                                                   "pg_stat_activity WHERE pid = " +
                                                       std::to_string(other->pid()))
                                            .at(0)
                                            .at(0));
  std::this_thread::sleep_for(1100ms);  // a modification time after every session above
  SetPassword("rot_old_use", new_password);
  WriteFile(password_file, new_password + "\n");
  body = exporter.Poll(
      [&](const std::string& text) {
        const double changed = Value(text, "pgpulse_credential_last_change_timestamp_seconds");
        const auto cafe = pgpulse_in_cafe().at(0).at(0);
        return changed > other_start && cafe && std::stod(*cafe) >= changed - 1;
      },
      15s);
  const double changed = Value(body, "pgpulse_credential_last_change_timestamp_seconds");
  ASSERT_GT(changed, other_start) << exporter.process().Output();
  ASSERT_GE(std::stod(*pgpulse_in_cafe().at(0).at(0)), changed - 1)
      << "pgpulse's database connection kept the old login";
  // Cluster collectors run before the database visits of the same refresh: the next scrape sees the new login.
  body = exporter.Get("/metrics").body;
  EXPECT_EQ(Value(body, "pg_up"), 1) << "the target connection stays through the change";
  EXPECT_NEAR(Value(body, "pg_role_oldest_session_start_seconds", {{"rolname", "rot_old_use"}}), other_start, 0.01)
      << "the other session holds the old password; sessions: " << Sessions("rot_old_use");

  // Without it, only pgpulse's sessions remain: none of them is older than the change.
  other.reset();
  body = exporter.Poll(
      [&](const std::string& text) {
        return Value(text, "pg_role_oldest_session_start_seconds", {{"rolname", "rot_old_use"}}) != other_start;
      },
      10s);
  const double oldest = Value(body, "pg_role_oldest_session_start_seconds", {{"rolname", "rot_old_use"}});
  EXPECT_TRUE(oldest == -1 || oldest >= changed - 1) << "oldest " << oldest << ", changed " << changed;
  ExpectNoSecret(exporter, {old_password, new_password});
}

TEST_F(RotationTest, SecretsManagerFourPhaseRotation) {
  const auto current = NewPassword("sm-current"), pending = NewPassword("sm-pending");
  CreateRole("rot_sm", current);
  const auto secret = WriteTempFile(JsonSecret("rot_sm", current));  // what the agent writes: AWSCURRENT
  ExporterProcess exporter({"--config.file=" + Config("", "    secret_file: " + secret + "\n")});
  auto body = exporter.Poll(Is("pg_up", {}, 1), 10s);
  ASSERT_EQ(Value(body, "pg_up"), 1) << exporter.process().Output();

  // createSecret: a pending version exists in the manager only; nothing changes for pgpulse.
  // setSecret: the database takes the pending password. The open connection carries on.
  SetPassword("rot_sm", pending);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Value(exporter.Get("/metrics").body, "pg_up"), 1);
    std::this_thread::sleep_for(300ms);
  }
  // testSecret: the manager logs in with the pending password.
  const auto pending_dsn = cluster.primary().Dsn("rot_sm", pending);
  EXPECT_EQ(PgConnectError(pending_dsn), "");
  // Until finishSecret, a new connection (here: the old ones end) fails with the current version's password.
  Terminate("rot_sm");
  body = exporter.Poll(Is("pg_up", {}, 0), 5s);
  EXPECT_EQ(Value(body, "pg_up"), 0);
  const double failures = Value(body, "pgpulse_auth_failures_total");
  EXPECT_GE(failures, 1);
  // finishSecret: AWSCURRENT moves to the new version and the agent rewrites the file.
  WriteFile(secret, JsonSecret("rot_sm", pending));
  const auto finished = Clock::now();
  body = exporter.Poll(Is("pg_up", {}, 1), 10s);
  EXPECT_EQ(Value(body, "pg_up"), 1) << exporter.process().Output();
  EXPECT_LT(Clock::now() - finished, 10s);
  // The backoff between failed attempts kept the failures few.
  EXPECT_LE(Value(body, "pgpulse_auth_failures_total"), failures + 10);
  ExpectNoSecret(exporter, {current, pending});
}

TEST_F(RotationTest, LibpqPassfileIsWatchedToo) {
  const auto old_password = NewPassword("pgpass-old"), new_password = NewPassword("pgpass-new");
  CreateRole("rot_pgpass", old_password);
  auto line = [&](const std::string& password) {
    return cluster.primary().host() + ":" + std::to_string(cluster.primary().port()) + ":*:rot_pgpass:" + password +
           "\n";
  };
  const auto passfile = WriteTempFile(line(old_password));  // 0600, as libpq requires
  // No password anywhere in the config: libpq finds it in PGPASSFILE.
  ExporterProcess exporter({"--config.file=" + Config("rot_pgpass", "")}, {{"PGPASSFILE", passfile}});
  auto body = exporter.Poll(Is("pg_up", {}, 1), 10s);
  ASSERT_EQ(Value(body, "pg_up"), 1) << exporter.process().Output();
  const double loaded_at = Value(body, "pgpulse_credential_last_change_timestamp_seconds");
  SetPassword("rot_pgpass", new_password);
  std::this_thread::sleep_for(1100ms);
  WriteFile(passfile, line(new_password));
  body = exporter.Poll(
      [](const std::string& b) {
        return Value(b, "pgpulse_credential_reloads_total", {{"result", "success"}}) >= 1;
      },
      10s);
  EXPECT_GE(Value(body, "pgpulse_credential_reloads_total", {{"result", "success"}}), 1) << "the passfile is watched";
  EXPECT_GT(Value(body, "pgpulse_credential_last_change_timestamp_seconds"), loaded_at);
  Terminate("rot_pgpass");
  body = exporter.Poll(Is("pg_up", {}, 1), 10s);
  EXPECT_EQ(Value(body, "pg_up"), 1) << exporter.process().Output();
  ExpectNoSecret(exporter, {old_password, new_password});
}

TEST_F(RotationTest, BrokenReloadKeepsTheRunningConfigAndAGoodOneIsApplied) {
  const auto password = NewPassword("reload");
  CreateRole("rot_reload", password);
  const auto password_file = WriteTempFile(password + "\n");
  const auto config = Config("rot_reload", "    password_file: " + password_file + "\n");
  const auto good = ReadFile(config);
  ExporterProcess exporter({"--config.file=" + config, "--web.enable-lifecycle"});
  auto body = exporter.Poll(Is("pg_up", {}, 1), 10s);
  ASSERT_EQ(Value(body, "pg_up"), 1);
  EXPECT_EQ(MetricValue(body, "pgpulse_config_last_reload_successful"), 1);
  const double started = MetricValue(body, "pgpulse_config_last_reload_success_timestamp_seconds").value_or(0);
  const auto backend = cluster.primary().QueryValue(
      "postgres", "SELECT pid FROM pg_stat_activity WHERE usename = 'rot_reload' AND datname = 'postgres'");

  // A typo: SIGHUP is refused with the file, line and key, and pgpulse goes on with what it had.
  WriteFile(config, good + "    pasword_file: /nowhere\n");
  exporter.process().Signal(SIGHUP);
  ASSERT_TRUE(exporter.process().WaitForOutput("configuration reload rejected", 5s)) << exporter.process().Output();
  EXPECT_NE(exporter.process().Output().find("pasword_file: unknown key"), std::string::npos);
  body = exporter.Get("/metrics").body;
  EXPECT_EQ(Value(body, "pg_up"), 1);
  EXPECT_EQ(MetricValue(body, "pgpulse_config_last_reload_successful"), 0);
  EXPECT_TRUE(exporter.process().Running());
  // The same through the HTTP endpoint: 500 with the reason.
  auto refused = HttpRequest("POST", exporter.port(), "/-/reload");
  EXPECT_EQ(refused.status, 500);
  EXPECT_NE(refused.body.find("pasword_file: unknown key"), std::string::npos) << refused.body;
  EXPECT_EQ(HttpRequest("GET", exporter.port(), "/-/reload").status, 405);

  // A good config with a second target: applied; the unchanged target keeps its connection.
  std::this_thread::sleep_for(1100ms);
  WriteFile(config, good + "  - name: second\n    dsn: '" + cluster.primary().DsnNoPassword("rot_reload") +
                        "'\n    password_file: " + password_file + "\n");
  auto applied = HttpRequest("POST", exporter.port(), "/-/reload");
  EXPECT_EQ(applied.status, 200) << applied.body;
  body = exporter.Poll([](const std::string& b) { return MetricValue(b, "pg_up", {{"target", "second"}}) == 1; }, 10s);
  EXPECT_EQ(MetricValue(body, "pg_up", {{"target", "second"}}), 1) << body;
  EXPECT_EQ(Value(body, "pg_up"), 1);
  EXPECT_EQ(MetricValue(body, "pgpulse_config_last_reload_successful"), 1);
  EXPECT_GT(MetricValue(body, "pgpulse_config_last_reload_success_timestamp_seconds").value_or(0), started);
  EXPECT_EQ(cluster.primary().QueryValue("postgres", "SELECT count(*) FROM pg_stat_activity WHERE pid = " + backend),
            "1")
      << "the unchanged target kept its connection";
  ExpectNoSecret(exporter, {password});
}

TEST_F(RotationTest, SuperuserIsRefusedUnlessAllowed) {
  const auto superuser = cluster.superuser_password();
  const auto password_file = WriteTempFile(superuser + "\n");
  ExporterProcess refused(
      {"--config.file=" + Config(PgCluster::kSuperuser, "    password_file: " + password_file + "\n")});
  auto body = refused.Get("/metrics").body;
  EXPECT_EQ(Value(body, "pg_up"), 0);
  EXPECT_NE(refused.Get("/").body.find("allow_superuser"), std::string::npos);
  EXPECT_TRUE(refused.process().WaitForOutput("is a superuser", 1s)) << refused.process().Output();
  ExpectNoSecret(refused, {superuser});

  ExporterProcess allowed({"--config.file=" + Config(PgCluster::kSuperuser, "    password_file: " + password_file +
                                                                                "\n    allow_superuser: true\n")});
  body = allowed.Poll(Is("pg_up", {}, 1), 10s);
  EXPECT_EQ(Value(body, "pgpulse_target_role_info", {{"rolname", "postgres"}, {"superuser", "true"}}), 1) << body;
  ExpectNoSecret(allowed, {superuser});
}

TEST_F(RotationTest, RoleWithoutPgMonitorIsFlaggedAndWarnedAbout) {
  const auto password = NewPassword("plain");
  CreateRole("rot_plain", password, /*pg_monitor=*/false);
  ExporterProcess exporter(
      {"--config.file=" + Config("rot_plain", "    password_file: " + WriteTempFile(password + "\n") + "\n")});
  auto body = exporter.Poll(Is("pg_up", {}, 1), 10s);
  EXPECT_EQ(Value(body, "pgpulse_target_role_info", {{"rolname", "rot_plain"}, {"pg_monitor", "false"}}), 1) << body;
  EXPECT_TRUE(exporter.process().WaitForOutput("lacks pg_monitor", 1s)) << exporter.process().Output();
  ExpectNoSecret(exporter, {password});
}

}  // namespace
}  // namespace pgpulse::testing
