// A database owner on a shared instance is an untrusted tenant (security issue 9). The real binary visits databases
// whose owners have planted functions and operators that shadow every catalog name pgpulse could use, set
// search_path and client_encoding at the database and role-in-database level, and named tables in bytes that are not
// UTF-8. None of the planted objects may ever run, and the exposition stays valid. Also: the superuser refusal
// through role membership, and collectors that try to leave the session writable.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "tests/e2e/promtool_check.h"
#include "tests/harness/exporter_process.h"
#include "tests/harness/libpq_client.h"
#include "tests/harness/metrics_text.h"
#include "tests/harness/pg_cluster.h"
#include "tests/harness/process.h"

namespace pgpulse::testing {
namespace {

using namespace std::chrono_literals;

// Planted by the tenant, in its own database: records every call, as a row in a table anyone may write (when the
// session can write) and as a line in the server log (always, read-only or not).
constexpr const char* kTrapSql = R"sql(
CREATE TABLE public.pwned (what text, by_role text, at timestamptz DEFAULT pg_catalog.now());
GRANT INSERT ON public.pwned TO PUBLIC;
CREATE FUNCTION public.pgpulse_trap(what text) RETURNS void LANGUAGE plpgsql AS $f$
BEGIN
  RAISE LOG 'PGPULSE-TRAP % ran as %', what, pg_catalog."current_user"();
  BEGIN
    INSERT INTO public.pwned (what, by_role) VALUES (what, pg_catalog."current_user"());
  EXCEPTION WHEN OTHERS THEN NULL;
  END;
END $f$;
)sql";

// Shadows every plain function of pg_catalog (same signature, and an all-text variant that beats the catalog's
// for unknown literals even under the default search_path), and every common operator, each calling the trap and
// then the real thing. Returns the count of objects made, in a NOTICE-free SELECT afterwards.
constexpr const char* kShadowSql = R"sql(
DO $do$
DECLARE
  f record;
  o record;
  args text;
  texts text;
  made int := 0;
BEGIN
  PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
  FOR f IN
    SELECT p.oid, p.proname, p.pronargs, p.proretset,
           pg_catalog.pg_get_function_identity_arguments(p.oid) AS ident,
           pg_catalog.format_type(p.prorettype, NULL) AS rettype
    FROM pg_catalog.pg_proc p
    WHERE p.pronamespace = 'pg_catalog'::regnamespace AND p.prokind = 'f' AND p.proallargtypes IS NULL
      AND p.provariadic = 0
      AND (SELECT t.typtype FROM pg_catalog.pg_type t WHERE t.oid = p.prorettype) <> 'p'
      AND NOT EXISTS (SELECT FROM pg_catalog.unnest(p.proargtypes::oid[]) a JOIN pg_catalog.pg_type t ON t.oid = a
                      WHERE t.typtype = 'p')
  LOOP
    SELECT coalesce(string_agg('$' || i, ', '), ''), coalesce(string_agg('text', ', '), '')
      INTO args, texts FROM generate_series(1, f.pronargs) i;
    BEGIN
      IF f.proretset THEN
        EXECUTE format('CREATE FUNCTION public.%I(%s) RETURNS SETOF %s LANGUAGE plpgsql AS $b$ BEGIN '
                       'PERFORM public.pgpulse_trap(%L); RETURN QUERY SELECT * FROM pg_catalog.%I(%s); END $b$',
                       f.proname, f.ident, f.rettype, f.proname, f.proname, args);
      ELSE
        EXECUTE format('CREATE FUNCTION public.%I(%s) RETURNS %s LANGUAGE plpgsql AS $b$ BEGIN '
                       'PERFORM public.pgpulse_trap(%L); RETURN pg_catalog.%I(%s); END $b$',
                       f.proname, f.ident, f.rettype, f.proname, f.proname, args);
      END IF;
      made := made + 1;
    EXCEPTION WHEN OTHERS THEN NULL;
    END;
    IF f.pronargs > 0 AND NOT f.proretset THEN
      BEGIN
        EXECUTE format('CREATE FUNCTION public.%I(%s) RETURNS %s LANGUAGE plpgsql AS $b$ BEGIN '
                       'PERFORM public.pgpulse_trap(%L); RETURN NULL; END $b$',
                       f.proname, texts, f.rettype, f.proname || '(text...)');
        made := made + 1;
      EXCEPTION WHEN OTHERS THEN NULL;
      END;
    END IF;
  END LOOP;
  FOR o IN
    SELECT op.oprname, pg_catalog.format_type(op.oprleft, NULL) AS l, pg_catalog.format_type(op.oprright, NULL) AS r,
           pg_catalog.format_type(op.oprresult, NULL) AS res, pg_catalog.row_number() OVER () AS n
    FROM pg_catalog.pg_operator op
    JOIN pg_catalog.pg_type lt ON lt.oid = op.oprleft
    JOIN pg_catalog.pg_type rt ON rt.oid = op.oprright
    WHERE op.oprnamespace = 'pg_catalog'::regnamespace AND op.oprkind = 'b'
      AND op.oprname IN ('=', '<>', '<', '>', '<=', '>=', '+', '-', '*', '/', '~~', '!~~', '~', '!~', '||')
      AND lt.typtype <> 'p' AND rt.typtype <> 'p'
  LOOP
    BEGIN
      EXECUTE format('CREATE FUNCTION public.pgpulse_trap_op_%s(%s, %s) RETURNS %s LANGUAGE plpgsql AS $b$ BEGIN '
                     'PERFORM public.pgpulse_trap(%L); RETURN $1 OPERATOR(pg_catalog.%s) $2; END $b$',
                     o.n, o.l, o.r, o.res, 'operator ' || o.oprname, o.oprname);
      EXECUTE format('CREATE OPERATOR public.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = public.pgpulse_trap_op_%s)',
                     o.oprname, o.l, o.r, o.n);
      made := made + 1;
    EXCEPTION WHEN OTHERS THEN NULL;
    END;
  END LOOP;
  PERFORM pg_catalog.set_config('pgpulse_test.made', made::text, false);
END $do$;
)sql";

// The harness reads the tenant's databases as a superuser: it must not fall into the traps itself.
constexpr const char* kCatalogOnly = "SET search_path = pg_catalog, pg_temp; ";

class TenantTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto& server = PgCluster::Shared().primary();
    for (const auto& sql : {
             "DROP DATABASE IF EXISTS tenantdb WITH (FORCE)",
             "DROP DATABASE IF EXISTS tenantdb_role WITH (FORCE)",
             "DROP DATABASE IF EXISTS latin_db WITH (FORCE)",
             "DROP DATABASE IF EXISTS ascii_db WITH (FORCE)",
             "DROP ROLE IF EXISTS tenant",
             "CREATE ROLE tenant LOGIN PASSWORD 'tenant-pw'",
             "CREATE DATABASE tenantdb OWNER tenant",
             "CREATE DATABASE tenantdb_role OWNER tenant",
             "CREATE DATABASE latin_db OWNER tenant",
             "CREATE DATABASE ascii_db OWNER tenant TEMPLATE template0 ENCODING 'SQL_ASCII' LC_COLLATE 'C' "
             "LC_CTYPE 'C'",
         }) {
      server.Exec("postgres", sql);
    }
    // What the review did, as the owner: planted objects, then put public first for every visitor. The second
    // database does it at the role-in-database level (which only a superuser can set: the harness plays one).
    for (const char* db : {"tenantdb", "tenantdb_role"}) {
      TenantExec(db, kTrapSql);
      TenantExec(db, kShadowSql);
    }
    TenantExec("tenantdb", "ALTER DATABASE tenantdb SET search_path = public, pg_catalog");
    server.Exec("postgres", std::string("ALTER ROLE ") + PgCluster::kReportingUser +
                                " IN DATABASE tenantdb_role SET search_path = public, pg_catalog");
    // Names that are fine in the database's encoding, but reach a client in LATIN1 unless it asks for UTF-8.
    server.Exec("latin_db", "CREATE TABLE public.\"café\" (id int)");
    TenantExec("latin_db", "ALTER DATABASE latin_db SET client_encoding = 'LATIN1'");
    // SQL_ASCII stores bytes as given: this table's name holds a lone 0xE9, which no conversion can repair.
    server.Exec("ascii_db", "CREATE TABLE public.\"caf\xE9_raw\" (id int)");
  }

  static void TearDownTestSuite() {
    auto& server = PgCluster::Shared().primary();
    server.Exec("postgres", std::string("ALTER ROLE ") + PgCluster::kReportingUser +
                                " IN DATABASE tenantdb_role RESET search_path");
    for (const char* db : {"tenantdb", "tenantdb_role", "latin_db", "ascii_db"}) {
      server.Exec("postgres", std::string("DROP DATABASE IF EXISTS ") + db + " WITH (FORCE)");
    }
    server.Exec("postgres", "DROP ROLE IF EXISTS tenant");
  }

  // SQL as the tenant itself, over TCP with its password: the objects it makes are its own.
  static void TenantExec(const std::string& db, const std::string& sql) {
    auto& server = PgCluster::Shared().primary();
    PgQuery(server.Dsn("tenant", "tenant-pw", db), sql);
  }

  static int MadeShadows(const std::string& db) {
    auto& server = PgCluster::Shared().primary();
    const auto count = server.QueryValue(
        db, std::string(kCatalogOnly) + "SELECT count(*) FROM pg_proc WHERE pronamespace = 'public'::regnamespace");
    return std::stoi(count);
  }

  static std::string TrapRows(const std::string& db) {
    std::string rows;
    for (const auto& row : PgCluster::Shared().primary().Query(
             db, std::string(kCatalogOnly) + "SELECT what, by_role FROM public.pwned")) {
      rows += row.at(0).value_or("") + " as " + row.at(1).value_or("") + "\n";
    }
    return rows;
  }

  static std::string TrapLogLines(std::size_t from) {
    const auto log = ReadFile(PgCluster::Shared().primary().log_path());
    std::string lines;
    for (auto at = log.find("PGPULSE-TRAP", from); at != std::string::npos; at = log.find("PGPULSE-TRAP", at + 1)) {
      lines += log.substr(at, log.find('\n', at) - at) + "\n";
    }
    return lines;
  }

  static std::string ConfigFor(const std::string& dbname, const std::string& extra = "") {
    auto& server = PgCluster::Shared().primary();
    return "targets:\n  - name: shared\n    dsn: '" +
           server.Dsn(PgCluster::kReportingUser, PgCluster::Shared().reporting_password(), dbname) + "'\n" + extra;
  }
};

TEST_F(TenantTest, PlantedFunctionsAndOperatorsNeverRun) {
  ASSERT_GT(MadeShadows("tenantdb"), 2000) << "the tenant's shadows were not made; the test would prove nothing";
  ASSERT_GT(MadeShadows("tenantdb_role"), 2000);
  const auto log_start = ReadFile(PgCluster::Shared().primary().log_path()).size();
  // The target's own database is a tenant's: its first statement runs there. Every database is visited.
  ExporterProcess exporter({"--config.file=" + WriteTempFile(ConfigFor("tenantdb"), ".yml")});
  std::string body;
  for (int scrape = 0; scrape < 3; ++scrape) {
    body = exporter.Poll(
        [](const std::string& text) {
          return MetricValue(text, "pg_up", {{"target", "shared"}}) == 1 &&
                 MetricValue(text, "pg_stat_user_tables_table_size_bytes", {{"datname", "tenantdb_role"}}) &&
                 MetricValue(text, "pg_stat_user_tables_table_size_bytes", {{"datname", "tenantdb"}});
        },
        20s);
  }
  EXPECT_EQ(MetricValue(body, "pg_up", {{"target", "shared"}}), 1) << body;
  // Nothing planted ran: no row, no log line, whichever way search_path was set.
  EXPECT_EQ(TrapRows("tenantdb"), "");
  EXPECT_EQ(TrapRows("tenantdb_role"), "");
  EXPECT_EQ(TrapLogLines(log_start), "");
  // And the collectors still ran there: the shadows did not break the engine either.
  for (const auto& sample : ParseSamples(body)) {
    if (sample.name == "pgpulse_collector_success") {
      EXPECT_EQ(sample.value, 1) << sample.labels.at("collector") << "\n" << exporter.process().Output();
    }
  }
  ExpectPromtoolAccepts(body);
}

TEST_F(TenantTest, LabelValuesAreUtf8WhateverTheDatabaseSays) {
  ExporterProcess exporter({"--config.file=" + WriteTempFile(ConfigFor("postgres"), ".yml")});
  const auto body = exporter.Poll(
      [](const std::string& text) {
        return MetricValue(text, "pg_stat_user_tables_table_size_bytes", {{"datname", "latin_db"}}).has_value() &&
               MetricValue(text, "pg_stat_user_tables_table_size_bytes", {{"datname", "ascii_db"}}).has_value();
      },
      20s);
  // LATIN1 asked for by the owner: pgpulse asks for UTF-8, and the server converts.
  EXPECT_TRUE(MetricValue(body, "pg_stat_user_tables_table_size_bytes", {{"datname", "latin_db"}, {"relname", "café"}}))
      << body;
  // SQL_ASCII: no conversion exists; the invalid byte becomes U+FFFD and is counted.
  EXPECT_TRUE(MetricValue(body, "pg_stat_user_tables_table_size_bytes",
                          {{"datname", "ascii_db"}, {"relname", "caf\uFFFD_raw"}}))
      << body;
  EXPECT_GE(MetricValue(body, "pgpulse_collector_utf8_replacements_total", {{"collector", "table_sizes"}}).value_or(0),
            1)
      << body;
  EXPECT_EQ(MetricValue(body, "pgpulse_collector_utf8_replacements_total", {{"collector", "database"}}), 0) << body;
  ExpectPromtoolAccepts(body);
}

TEST_F(TenantTest, CollectorsCannotLeaveTheSessionWritableOrChangeItsSettings) {
  TempDir dir;
  // Named so that the loosening one runs first in each refresh; its effects must be gone for the next.
  WriteFile(dir.path() + "/a_loosen.yaml", R"(name: a_loosen
scope: cluster
queries:
  - sql: |
      SELECT pg_catalog.set_config('default_transaction_read_only', 'off', false) AS ro,
             pg_catalog.set_config('search_path', 'public, pg_catalog', false) AS sp,
             1 AS v
metrics:
  - {column: ro, usage: label}
  - {column: sp, usage: label}
  - {column: v, usage: gauge, name: tenant_test_loosened, help: h}
)");
  WriteFile(dir.path() + "/b_observe.yaml", R"(name: b_observe
scope: cluster
queries:
  - sql: |
      SELECT current_setting('default_transaction_read_only') AS ro,
             current_setting('search_path') AS sp,
             1 AS v
metrics:
  - {column: ro, usage: label}
  - {column: sp, usage: label}
  - {column: v, usage: gauge, name: tenant_test_session, help: h}
)");
  WriteFile(dir.path() + "/c_write.yaml", R"(name: c_write
scope: cluster
queries:
  - sql: |
      WITH w AS (INSERT INTO public.pwned (what) VALUES ('written by a collector') RETURNING 1)
      SELECT count(*) AS n FROM w
metrics:
  - {column: n, usage: gauge, name: tenant_test_written, help: h}
)");
  ExporterProcess exporter(
      {"--config.file=" + WriteTempFile(ConfigFor("tenantdb", "custom_collectors: [" + dir.path() + "]\n"), ".yml")});
  std::string body;
  for (int scrape = 0; scrape < 3; ++scrape) body = exporter.Get("/metrics").body;
  EXPECT_EQ(MetricValue(body, "tenant_test_loosened", {{"ro", "off"}}), 1) << body;
  EXPECT_EQ(MetricValue(body, "tenant_test_session", {{"ro", "on"}, {"sp", "pg_catalog, pg_temp"}}), 1) << body;
  EXPECT_EQ(MetricValue(body, "pgpulse_collector_success", {{"collector", "c_write"}}), 0) << body;
  EXPECT_EQ(TrapRows("tenantdb"), "");
  // pgpulse's own statements after the collectors still resolve in pg_catalog only.
  EXPECT_EQ(MetricValue(body, "pgpulse_collector_success", {{"collector", "database"}}), 1) << body;
}

TEST_F(TenantTest, MembershipInASuperuserRoleIsRefusedUnlessAllowed) {
  auto& server = PgCluster::Shared().primary();
  server.Exec("postgres", "DROP ROLE IF EXISTS rep_su");
  server.Exec("postgres", "CREATE ROLE rep_su LOGIN PASSWORD 'rep-su-pw' IN ROLE pg_monitor");
  server.Exec("postgres", "GRANT postgres TO rep_su");
  const auto dsn = server.Dsn("rep_su", "rep-su-pw");
  {
    ExporterProcess refused({"--config.file=" + WriteTempFile("targets:\n  - name: su\n    dsn: '" + dsn + "'\n")});
    const auto body = refused.Poll(
        [](const std::string& text) {
          return MetricValue(text, "pg_up", {{"target", "su"}}) == 0;
        },
        10s);
    EXPECT_EQ(MetricValue(body, "pg_up", {{"target", "su"}}), 0) << body;
    EXPECT_TRUE(refused.process().WaitForOutput("can become a superuser through membership in postgres", 5s))
        << refused.process().Output();
  }
  {
    ExporterProcess allowed({"--config.file=" + WriteTempFile("targets:\n  - name: su\n    dsn: '" + dsn +
                                                              "'\n    allow_superuser: true\n")});
    const auto body = allowed.Poll(
        [](const std::string& text) {
          return MetricValue(text, "pg_up", {{"target", "su"}}) == 1;
        },
        10s);
    EXPECT_EQ(MetricValue(body, "pgpulse_target_role_info",
                          {{"rolname", "rep_su"}, {"superuser", "false"}, {"superuser_via", "postgres"}}),
              1)
        << body;
  }
  server.Exec("postgres", "DROP ROLE rep_su");
}

TEST_F(TenantTest, ManagedAdminRoleMembershipIsReportedAndWarned) {
  auto& server = PgCluster::Shared().primary();
  server.Exec("postgres", "DROP ROLE IF EXISTS rep_rds");
  server.Exec("postgres", "DROP ROLE IF EXISTS rds_superuser");
  server.Exec("postgres", "CREATE ROLE rds_superuser NOLOGIN");
  server.Exec("postgres", "CREATE ROLE rep_rds LOGIN PASSWORD 'rep-rds-pw' IN ROLE pg_monitor, rds_superuser");
  {
    ExporterProcess exporter({"--config.file=" + WriteTempFile("targets:\n  - name: rds\n    dsn: '" +
                                                               server.Dsn("rep_rds", "rep-rds-pw") + "'\n")});
    const auto body = exporter.Poll(
        [](const std::string& text) {
          return MetricValue(text, "pg_up", {{"target", "rds"}}) == 1;
        },
        10s);
    EXPECT_EQ(MetricValue(body, "pgpulse_target_role_info",
                          {{"rolname", "rep_rds"}, {"superuser_via", ""}, {"managed_admin", "rds_superuser"}}),
              1)
        << body;
    EXPECT_TRUE(exporter.process().WaitForOutput("managed service's administrator role", 5s))
        << exporter.process().Output();
  }
  server.Exec("postgres", "DROP ROLE rep_rds");
  server.Exec("postgres", "DROP ROLE rds_superuser");
}

}  // namespace
}  // namespace pgpulse::testing
