// deploy/sql/reporting-role.sql and its managed-service variant, run twice with psql against a real PostgreSQL: the
// role it makes is read-only, in pg_monitor, can connect to every service database (one created between the runs too),
// reads the sequences, and the real pgpulse logged in as it reaches pg_up 1 with its sequence and statement collectors
// running. The matrix (scripts/test-matrix.sh) runs this suite on the oldest and the newest PostgreSQL as well.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "tests/harness/exporter_process.h"
#include "tests/harness/files.h"
#include "tests/harness/libpq_client.h"
#include "tests/harness/metrics_text.h"
#include "tests/harness/pg_cluster.h"
#include "tests/harness/process.h"

namespace pgpulse::testing {
namespace {

using namespace std::chrono_literals;

const std::string kSqlDir = std::string(PGPULSE_SOURCE_DIR) + "/deploy/sql";

// psql -f `script` as `user`, with ON_ERROR_STOP and the given variables.
CommandResult RunScript(const PgServer& server, const std::string& user, const std::string& password,
                        const std::string& script, const std::map<std::string, std::string>& variables,
                        const std::vector<std::string>& extra = {}) {
  std::vector<std::string> argv = {"/usr/bin/psql",   "-X", "-v",
                                   "ON_ERROR_STOP=1", "-d", server.Dsn(user, password, "postgres")};
  for (const auto& [name, value] : variables) {
    argv.push_back("-v");
    argv.push_back(name + "=" + value);
  }
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back("-f");
  argv.push_back(script);
  return RunCommand(argv, {}, 120s);
}

std::string One(const PgServer& server, const std::string& db, const std::string& sql) {
  return server.QueryValue(db, sql);
}

std::vector<std::string> ServiceDatabases(const PgServer& server) {
  std::vector<std::string> names;
  for (const auto& row :
       server.Query("postgres", "SELECT datname FROM pg_database WHERE NOT datistemplate AND datallowconn")) {
    names.push_back(row.at(0).value_or(""));
  }
  return names;
}

// What every run must leave behind, checked as the superuser and as the role itself.
void ExpectReadOnlyMonitoringRole(const PgServer& server, const std::string& role, const std::string& password) {
  const auto literal = QuoteSqlLiteral(role);
  EXPECT_EQ(One(server, "postgres",
                "SELECT concat_ws(',', rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, "
                "rolbypassrls, rolconnlimit) FROM pg_roles WHERE rolname = " +
                    literal),
            "t,f,f,f,f,f,10");
  EXPECT_EQ(One(server, "postgres", "SELECT pg_has_role(" + literal + ", 'pg_monitor', 'MEMBER')"), "t");
  EXPECT_EQ(One(server, "postgres",
                "SELECT 'default_transaction_read_only=on' = ANY (rolconfig) FROM pg_roles WHERE rolname = " + literal),
            "t");
  for (const auto& db : ServiceDatabases(server)) {
    SCOPED_TRACE("database " + db);
    // An explicit grant, not only PUBLIC's.
    EXPECT_EQ(
        One(server, "postgres",
            "SELECT count(*) FROM pg_database d, aclexplode(d.datacl) a WHERE d.datname = " + QuoteSqlLiteral(db) +
                " AND a.privilege_type = 'CONNECT' AND a.grantee = " + literal + "::regrole"),
        "1");
    const auto as_role = server.Dsn(role, password, db);
    Rows rows;
    ASSERT_NO_THROW(rows = PgQuery(as_role, "SHOW default_transaction_read_only")) << "cannot log in to " << db;
    EXPECT_EQ(rows.at(0).at(0).value_or(""), "on");
    EXPECT_THROW(PgQuery(as_role, "CREATE TABLE pgpulse_must_fail (id int)"), std::exception);
    EXPECT_EQ(One(server, db,
                  "SELECT count(*) FROM pg_class WHERE CASE WHEN relkind = 'S' THEN NOT has_sequence_privilege(" +
                      literal + ", oid, 'SELECT') END"),
              "0");
    EXPECT_EQ(One(server, db,
                  "SELECT count(*) FROM pg_class WHERE CASE WHEN relkind = 'S' THEN has_sequence_privilege(" + literal +
                      ", oid, 'USAGE') END"),
              "0")
        << "USAGE would let the role advance sequences";
  }
}

// The real pgpulse, logged in as the role, on every database: pg_up 1, sequences read, pg_stat_statements not
// skipped, and no warning about the role.
void ExpectPgpulseRunsAs(const PgServer& server, const std::string& role, const std::string& password) {
  const auto password_file = WriteTempFile(password + "\n");
  const auto config = WriteTempFile("targets:\n  - name: shared\n    dsn: postgresql://" + role +
                                        "@127.0.0.1:" + std::to_string(server.port()) + "/postgres?sslmode=disable\n" +
                                        "    password_file: " + password_file + "\n",
                                    ".yml");
  ExporterProcess exporter({"--config.file=" + config});
  const auto body = exporter.Poll(
      [](const std::string& text) {
        return MetricValue(text, "pg_up", {{"target", "shared"}}) == 1 &&
               MetricValue(text, "pg_sequence_used_ratio", {{"datname", "erp"}, {"sequencename", "later_seq"}});
      },
      30s);
  EXPECT_EQ(MetricValue(body, "pg_up", {{"target", "shared"}}), 1) << body;
  for (const auto& [db, sequence] : {std::pair{"cafe", "orders_id_seq"}, std::pair{"erp", "later_seq"}}) {
    EXPECT_TRUE(MetricValue(body, "pg_sequence_used_ratio", {{"datname", db}, {"sequencename", sequence}}))
        << db << "." << sequence << " is not read:\n"
        << body;
  }
  for (const auto& collector : {"sequences", "stat_statements", "stat_statements_totals", "wal"}) {
    EXPECT_EQ(MetricValue(body, "pgpulse_collector_enabled", {{"target", "shared"}, {"collector", collector}}), 1)
        << collector << ":\n"
        << body;
  }
  EXPECT_TRUE(MetricValue(body, "pg_stat_statements_calls_total", {{"target", "shared"}})) << body;
  const auto log = exporter.process().Output();
  EXPECT_EQ(log.find("lacks pg_monitor"), std::string::npos) << log;
  EXPECT_EQ(log.find("administrator role"), std::string::npos) << log;
}

// Objects owned by the service's role: a sequence before the first run, one after it (default privileges), a
// database created between the two runs with PUBLIC's CONNECT revoked.
void AddServiceObjects(const PgServer& server, const std::string& stage) {
  if (stage == "before") {
    server.Exec("cafe",
                "SET ROLE app_user; CREATE TABLE orders (id bigserial PRIMARY KEY); INSERT INTO orders DEFAULT VALUES");
  } else {
    server.Exec("erp", "SET ROLE app_user; CREATE SEQUENCE later_seq; SELECT nextval('later_seq')");
    server.Exec("postgres", "CREATE DATABASE ledger OWNER app_user");
    server.Exec("postgres", "REVOKE CONNECT ON DATABASE ledger FROM PUBLIC");
  }
}

TEST(ReportingRoleTest, SuperuserScriptTwiceMakesAReadOnlyMonitoringRoleOnEveryDatabase) {
  PgCluster cluster;
  auto& server = cluster.primary();
  const std::string password = "reporting-pw-7f3a9c1e";
  const auto password_file = WriteTempFile(password + "\n");
  AddServiceObjects(server, "before");
  const auto first = RunScript(server, PgCluster::kSuperuser, cluster.superuser_password(),
                               kSqlDir + "/reporting-role.sql", {{"reporting_password_file", password_file}});
  ASSERT_EQ(first.exit_code, 0) << first.output;
  AddServiceObjects(server, "after");
  // The second run echoes everything psql reads (-a -e): the password still never shows.
  const auto second = RunScript(server, PgCluster::kSuperuser, cluster.superuser_password(),
                                kSqlDir + "/reporting-role.sql", {{"reporting_password", password}}, {"-a", "-e"});
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_EQ(second.output.find("WARNING"), std::string::npos) << second.output;
  for (const auto* output : {&first.output, &second.output}) {
    EXPECT_EQ(output->find(password), std::string::npos) << *output;
  }
  EXPECT_EQ(One(server, "postgres",
                "SELECT count(*) FROM pg_stat_statements WHERE query LIKE " + QuoteSqlLiteral("%" + password + "%")),
            "0");
  EXPECT_EQ(ReadFile(server.log_path()).find(password), std::string::npos);

  ExpectReadOnlyMonitoringRole(server, "pgpulse_reporting", password);
  ExpectPgpulseRunsAs(server, "pgpulse_reporting", password);
}

// A database owner is an untrusted tenant. The script visits every service database as the superuser, so a
// tenant's database-level search_path that puts its own schema before pg_catalog, and a function there named like
// one the script calls, must not run with the superuser's rights.
TEST(ReportingRoleTest, ATenantsSearchPathNeverRunsItsFunctionsAsTheSuperuser) {
  PgCluster cluster;
  auto& server = cluster.primary();
  AddServiceObjects(server, "before");  // a sequence in cafe, so the script's per-sequence check runs there
  server.Exec("cafe",
              "SET ROLE app_user; CREATE SCHEMA tenant_trap;"
              "CREATE FUNCTION tenant_trap.has_table_privilege(text, oid, text) RETURNS boolean LANGUAGE sql"
              " AS 'ALTER ROLE app_user SUPERUSER; SELECT false';"
              "ALTER DATABASE cafe SET search_path = tenant_trap, pg_catalog");
  const auto run = RunScript(server, PgCluster::kSuperuser, cluster.superuser_password(),
                             kSqlDir + "/reporting-role.sql", {{"reporting_password", "reporting-pw-tenant-5c"}});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(One(server, "postgres", "SELECT rolsuper FROM pg_roles WHERE rolname = 'app_user'"), "f")
      << "the tenant's function ran as the superuser";
  ExpectReadOnlyMonitoringRole(server, "pgpulse_reporting", "reporting-pw-tenant-5c");
}

// As on Amazon RDS: the administrator has CREATEROLE and CREATEDB, is a member of the roles it made for the services
// (so it may grant on their objects), owns the postgres database, and on 16+ holds pg_monitor WITH ADMIN OPTION
// (rds_superuser's grant). It is no superuser, so reporting-role.sql itself would stop at the first superuser-only
// step.
TEST(ReportingRoleTest, ManagedServiceScriptWorksForACreateroleAdministrator) {
  PgCluster cluster;
  auto& server = cluster.primary();
  const std::string admin = "rds_admin";
  const std::string admin_password = "admin-pw-19d2e";
  server.Exec("postgres",
              "CREATE ROLE rds_admin LOGIN CREATEROLE CREATEDB PASSWORD " + QuoteSqlLiteral(admin_password));
  server.Exec("postgres", "GRANT app_user TO rds_admin");
  server.Exec("postgres", "ALTER DATABASE postgres OWNER TO rds_admin");
  if (std::stoi(One(server, "postgres", "SHOW server_version_num")) >= 160000) {
    server.Exec("postgres", "GRANT pg_monitor TO rds_admin WITH ADMIN OPTION");
  }
  const std::string password = "reporting-pw-rds-42b1";
  AddServiceObjects(server, "before");
  const auto superuser_only =
      RunScript(server, admin, admin_password, kSqlDir + "/reporting-role.sql", {{"reporting_password", password}});
  EXPECT_NE(superuser_only.exit_code, 0) << superuser_only.output;

  const auto first =
      RunScript(server, admin, admin_password, kSqlDir + "/reporting-role-rds.sql", {{"reporting_password", password}});
  ASSERT_EQ(first.exit_code, 0) << first.output;
  AddServiceObjects(server, "after");
  const auto second = RunScript(server, admin, admin_password, kSqlDir + "/reporting-role-rds.sql",
                                {{"reporting_password", password}}, {"-a"});
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_EQ(second.output.find("WARNING"), std::string::npos) << second.output;
  EXPECT_EQ(second.output.find(password), std::string::npos) << second.output;

  ExpectReadOnlyMonitoringRole(server, "pgpulse_reporting", password);
  ExpectPgpulseRunsAs(server, "pgpulse_reporting", password);
}

}  // namespace
}  // namespace pgpulse::testing
