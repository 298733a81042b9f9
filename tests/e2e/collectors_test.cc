// The built-in collectors against a real primary and standby: each value equals what PostgreSQL reports at the
// same moment, under the names postgres_exporter uses, with the target label.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <thread>

#include "tests/e2e/held_session.h"
#include "tests/e2e/promtool_check.h"
#include "tests/harness/exporter_process.h"
#include "tests/harness/metrics_text.h"
#include "tests/harness/pg_cluster.h"
#include "tests/harness/process.h"

namespace pgpulse::testing {
namespace {

using namespace std::chrono_literals;

// One exporter for the suite, watching the primary and the standby as two targets in one config file. Collectors
// whose TTL would hide a change made by a test are set to ttl 0s.
class CollectorsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    PgCluster& cluster = PgCluster::Shared();
    auto& primary = cluster.primary();
    // Traffic and objects for the collectors to see.
    primary.Exec("cafe",
                 "CREATE TABLE IF NOT EXISTS orders (id serial PRIMARY KEY, note text);"
                 "INSERT INTO orders (note) SELECT 'n' || g FROM generate_series(1, 500) g;"
                 "ALTER TABLE orders OWNER TO app_user; ALTER SEQUENCE orders_id_seq OWNER TO app_user;"
                 "GRANT SELECT ON SEQUENCE orders_id_seq TO reporting; ANALYZE orders;");
    primary.Exec("treasury",
                 "CREATE SEQUENCE IF NOT EXISTS ledger_seq MAXVALUE 1000;"
                 "SELECT nextval('ledger_seq') FROM generate_series(1, 250);"
                 "GRANT SELECT ON SEQUENCE ledger_seq TO reporting;");
    // In treasury, pg_stat_statements lives in its own schema, as some teams install it.
    primary.Exec("treasury",
                 "CREATE SCHEMA IF NOT EXISTS monitoring; ALTER EXTENSION pg_stat_statements SET SCHEMA monitoring;"
                 "GRANT USAGE ON SCHEMA monitoring TO pg_monitor;");
    RunPgbench(cluster);
    custom_dir_ = new TempDir();
    WriteFile(custom_dir_->path() + "/tables.yaml", R"(name: custom_table_count
help: Tables per database, a custom collector.
scope: database
queries:
  - sql: SELECT current_database() AS datname, count(*) AS tables FROM pg_tables WHERE schemaname = 'public'
metrics:
  - {column: datname, usage: label}
  - {column: tables, usage: gauge, name: custom_public_tables, help: Tables in the public schema.}
)");
    WriteFile(custom_dir_->path() + "/needs_ext.yaml", R"(name: custom_needs_pgcrypto
scope: cluster
requires: {extension: pgcrypto}
queries: [{sql: SELECT 1 AS one}]
metrics: [{column: one, usage: gauge, name: custom_pgcrypto_one, help: Never exported without pgcrypto.}]
)");
    const auto config = WriteTempFile(
        "targets:\n"
        "  - name: primary\n"
        "    dsn: '" +
            primary.DsnNoPassword(PgCluster::kReportingUser) +
            "'\n"
            "    password_file: " +
            WriteTempFile(cluster.reporting_password() + "\n") +
            "\n"
            "    storage_limit_bytes: 21474836480\n"
            "  - name: treasury-db\n"
            "    dsn: '" +
            primary.Dsn(PgCluster::kReportingUser, cluster.reporting_password(), "treasury") +
            "'\n"
            "    databases: {include: [treasury]}\n"
            "  - name: standby\n"
            "    dsn: '" +
            cluster.standby().Dsn(PgCluster::kReportingUser, cluster.reporting_password()) +
            "'\n"
            "collectors:\n"
            "  database: {ttl: 0s}\n"
            "  stat_statements: {ttl: 0s}\n"
            "  stat_statements_totals: {ttl: 0s}\n"
            "  statio_user_tables: {ttl: 0s}\n"
            "  table_sizes: {ttl: 0s}\n"
            "  sequences: {ttl: 0s}\n"
            "custom_collectors: [" +
            custom_dir_->path() + "]\n",
        ".yml");
    exporter_ = new ExporterProcess({"--config.file=" + config});
  }

  static void TearDownTestSuite() {
    delete exporter_;
    delete custom_dir_;
  }

  static void RunPgbench(PgCluster& cluster) {
    const std::map<std::string, std::string> env = {{"PGPASSWORD", cluster.app_password()}};
    const auto port = std::to_string(cluster.primary().port());
    auto init = RunCommand({"/usr/lib/postgresql/15/bin/pgbench", "-i", "-q", "-s", "1", "-h", "127.0.0.1", "-p", port,
                            "-U", PgCluster::kAppUser, "erp"},
                           env, 120s);
    ASSERT_EQ(init.exit_code, 0) << init.output;
    auto run = RunCommand({"/usr/lib/postgresql/15/bin/pgbench", "-t", "200", "-c", "2", "-h", "127.0.0.1", "-p", port,
                           "-U", PgCluster::kAppUser, "erp"},
                          env, 120s);
    ASSERT_EQ(run.exit_code, 0) << run.output;
  }

  static std::string Scrape() {
    auto response = exporter_->Get("/metrics");
    EXPECT_EQ(response.status, 200);
    return response.body;
  }

  static std::optional<double> Value(const std::string& body, const std::string& name,
                                     std::map<std::string, std::string> labels) {
    return MetricValue(body, name, labels);
  }

  static double Psql(const std::string& db, const std::string& sql) {
    return std::stod(PgCluster::Shared().primary().QueryValue(db, sql));
  }

  PgCluster& cluster = PgCluster::Shared();
  static ExporterProcess* exporter_;
  static TempDir* custom_dir_;
};

ExporterProcess* CollectorsTest::exporter_ = nullptr;
TempDir* CollectorsTest::custom_dir_ = nullptr;

TEST_F(CollectorsTest, ExpositionIsValidAndEveryCollectorSucceedsOnThePrimary) {
  const auto body = Scrape();
  ExpectPromtoolAccepts(body);
  size_t collectors = 0;
  for (const auto& sample : ParseSamples(body)) {
    if (sample.name != "pgpulse_collector_success" || sample.labels.at("target") != "primary") continue;
    ++collectors;
    EXPECT_EQ(sample.value, 1) << sample.labels.at("collector") << " failed on the primary";
  }
  EXPECT_GE(collectors, 20u);
  // On the standby too, every collector that applies works under pg_monitor; the rest say why they do not apply.
  for (const auto& sample : ParseSamples(body)) {
    if (sample.name != "pgpulse_collector_success" || sample.labels.at("target") != "standby") continue;
    EXPECT_EQ(sample.value, 1) << sample.labels.at("collector") << " failed on the standby";
  }
  EXPECT_EQ(Value(body, "pg_up", {{"target", "primary"}}), 1);
  EXPECT_EQ(Value(body, "pg_up", {{"target", "standby"}}), 1);
}

TEST_F(CollectorsTest, HeldSessionsShowInActivityCounts) {
  const auto dsn = cluster.primary().Dsn(PgCluster::kAppUser, cluster.app_password(), "cafe");
  HeldSession a(dsn), b(dsn), c(dsn);
  HeldSession idle_in_tx(dsn);
  idle_in_tx.Exec("BEGIN; SELECT 1");
  std::this_thread::sleep_for(1100ms);
  const auto body = Scrape();
  const auto idle = Psql("postgres",
                         "SELECT count(*) FROM pg_stat_activity WHERE datname = 'cafe' AND usename = 'app_user' "
                         "AND state = 'idle'");
  EXPECT_GE(idle, 3);
  EXPECT_EQ(Value(body, "pg_stat_activity_count",
                  {{"target", "primary"}, {"datname", "cafe"}, {"state", "idle"}, {"usename", "app_user"}}),
            idle)
      << body;
  EXPECT_EQ(
      Value(body, "pg_stat_activity_count",
            {{"target", "primary"}, {"datname", "cafe"}, {"state", "idle in transaction"}, {"usename", "app_user"}}),
      1);
  auto oldest_idle = Value(body, "pg_stat_activity_oldest_idle_in_transaction_age_seconds", {{"target", "primary"}});
  ASSERT_TRUE(oldest_idle);
  EXPECT_GE(*oldest_idle, 1.0);
  EXPECT_LT(*oldest_idle, 60.0);
  auto numbackends = Value(body, "pg_stat_database_numbackends", {{"target", "primary"}, {"datname", "cafe"}});
  EXPECT_EQ(numbackends, Psql("postgres", "SELECT numbackends FROM pg_stat_database WHERE datname = 'cafe'"));
}

TEST_F(CollectorsTest, LocksAndLockWaitsAreCounted) {
  const auto dsn = cluster.primary().Dsn(PgCluster::kAppUser, cluster.app_password(), "cafe");
  HeldSession holder(dsn);
  holder.Exec("BEGIN; LOCK TABLE orders IN ACCESS EXCLUSIVE MODE");
  const auto body = Scrape();
  const auto locks = Psql("postgres",
                          "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                          "WHERE d.datname = 'cafe' AND l.mode = 'AccessExclusiveLock'");
  EXPECT_GE(locks, 1);
  EXPECT_EQ(
      Value(body, "pg_locks_count", {{"target", "primary"}, {"datname", "cafe"}, {"mode", "accessexclusivelock"}}),
      locks)
      << body;
  EXPECT_EQ(Value(body, "pg_locks_count", {{"target", "primary"}, {"datname", "erp"}, {"mode", "accessexclusivelock"}}),
            0);
}

TEST_F(CollectorsTest, DatabaseSizeAndLimitsMatch) {
  const auto body = Scrape();
  for (const char* db : {"cafe", "erp", "treasury"}) {
    EXPECT_EQ(Value(body, "pg_database_size_bytes", {{"target", "primary"}, {"datname", db}}),
              Psql("postgres", std::string("SELECT pg_database_size('") + db + "')"))
        << db;
  }
  EXPECT_EQ(Value(body, "pg_settings_max_connections", {{"target", "primary"}}),
            Psql("postgres", "SELECT setting::float FROM pg_settings WHERE name = 'max_connections'"));
  EXPECT_EQ(Value(body, "pg_settings_superuser_reserved_connections", {{"target", "primary"}}),
            Psql("postgres", "SELECT setting::float FROM pg_settings WHERE name = 'superuser_reserved_connections'"));
  EXPECT_EQ(Value(body, "pg_settings_max_wal_senders", {{"target", "primary"}}),
            Psql("postgres", "SELECT setting::float FROM pg_settings WHERE name = 'max_wal_senders'"));
  EXPECT_EQ(Value(body, "pg_target_storage_limit_bytes", {{"target", "primary"}}), 21474836480.0);
  EXPECT_FALSE(Value(body, "pg_target_storage_limit_bytes", {{"target", "standby"}}));
  EXPECT_EQ(Value(body, "pg_postmaster_start_time_seconds", {{"target", "primary"}}),
            Psql("postgres", "SELECT extract(epoch FROM pg_postmaster_start_time())"));
}

TEST_F(CollectorsTest, TableSizesAndCacheHitsMatch) {
  const auto body = Scrape();
  const std::map<std::string, std::string> table = {{"target", "primary"}, {"datname", "cafe"}, {"relname", "orders"}};
  EXPECT_EQ(Value(body, "pg_stat_user_tables_table_size_bytes", table),
            Psql("cafe", "SELECT pg_table_size('public.orders')"));
  EXPECT_EQ(Value(body, "pg_stat_user_tables_index_size_bytes", table),
            Psql("cafe", "SELECT pg_indexes_size('public.orders')"));
  EXPECT_EQ(Value(body, "pg_statio_user_tables_heap_blocks_hit", table),
            Psql("cafe", "SELECT heap_blks_hit FROM pg_statio_user_tables WHERE relname = 'orders'"));
  EXPECT_EQ(Value(body, "pg_statio_user_tables_heap_blocks_read", table),
            Psql("cafe", "SELECT heap_blks_read FROM pg_statio_user_tables WHERE relname = 'orders'"));
  EXPECT_TRUE(Value(body, "pg_statio_user_indexes_idx_blks_hit_total",
                    {{"target", "primary"}, {"datname", "cafe"}, {"indexrelname", "orders_pkey"}}));
  // Every service database is visited: pgbench's tables live in erp.
  EXPECT_EQ(Value(body, "pg_stat_user_tables_table_size_bytes",
                  {{"target", "primary"}, {"datname", "erp"}, {"relname", "pgbench_accounts"}}),
            Psql("erp", "SELECT pg_table_size('public.pgbench_accounts')"));
  auto hits = Value(body, "pg_stat_database_blks_hit", {{"target", "primary"}, {"datname", "erp"}});
  ASSERT_TRUE(hits);
  EXPECT_GT(*hits, 0);
}

TEST_F(CollectorsTest, StatementsAreCountedPerQuery) {
  const auto dsn = cluster.primary().Dsn(PgCluster::kAppUser, cluster.app_password(), "cafe");
  const std::string marker = "pgpulse_probe_" + std::to_string(::getpid());
  {
    HeldSession session(dsn);
    for (int i = 0; i < 7; ++i) session.Exec("SELECT count(*) AS " + marker + " FROM orders");
  }
  const auto queryid = cluster.primary().QueryValue(
      "postgres", "SELECT queryid FROM pg_stat_statements WHERE query LIKE '%" + marker + "%' LIMIT 1");
  const auto body = Scrape();
  const auto calls = Psql("postgres", "SELECT sum(calls) FROM pg_stat_statements WHERE queryid = " + queryid);
  EXPECT_GE(calls, 7);
  const std::map<std::string, std::string> labels = {
      {"target", "primary"}, {"datname", "cafe"}, {"user", "app_user"}, {"queryid", queryid}};
  EXPECT_EQ(Value(body, "pg_stat_statements_calls_total", labels), calls) << body;
  EXPECT_EQ(Value(body, "pg_stat_statements_rows_total", labels),
            Psql("postgres", "SELECT sum(rows) FROM pg_stat_statements WHERE queryid = " + queryid));
  auto seconds = Value(body, "pg_stat_statements_seconds_total", labels);
  ASSERT_TRUE(seconds);
  EXPECT_NEAR(*seconds,
              Psql("postgres", "SELECT sum(total_exec_time) / 1000 FROM pg_stat_statements WHERE queryid = " + queryid),
              1e-6);
  // Per-database totals are always exported.
  EXPECT_TRUE(Value(body, "pg_stat_statements_database_calls_total", {{"target", "primary"}, {"datname", "erp"}}));
}

TEST_F(CollectorsTest, StatementsWorkWhereverTheExtensionWasInstalled) {
  // The other targets' visits to erp run in the same scrape, so the count is bracketed by reads before and after.
  const std::string calls_in_erp =
      "SELECT sum(calls) FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = 'erp'";
  const auto before = Psql("postgres", calls_in_erp);
  const auto body = Scrape();
  const auto after = Psql("postgres", calls_in_erp);
  EXPECT_EQ(Value(body, "pgpulse_collector_success", {{"target", "treasury-db"}, {"collector", "stat_statements"}}), 1)
      << body;
  auto calls = Value(body, "pg_stat_statements_database_calls_total", {{"target", "treasury-db"}, {"datname", "erp"}});
  ASSERT_TRUE(calls);
  EXPECT_GE(*calls, before);
  EXPECT_LE(*calls, after);
}

TEST_F(CollectorsTest, StandbyIsAReplicaAndItsSlotIsActive) {
  cluster.WaitForStreaming();
  const auto body = Scrape();
  EXPECT_EQ(Value(body, "pg_replication_is_replica", {{"target", "standby"}}), 1);
  EXPECT_EQ(Value(body, "pg_replication_is_replica", {{"target", "primary"}}), 0);
  EXPECT_EQ(Value(body, "pg_replication_slots_active", {{"target", "primary"}, {"slot_name", "pgpulse_standby_slot"}}),
            1)
      << body;
  EXPECT_TRUE(Value(body, "pg_replication_slots_pg_wal_lsn_diff",
                    {{"target", "primary"}, {"slot_name", "pgpulse_standby_slot"}}));
  EXPECT_EQ(Value(body, "pg_replication_slots_wal_status",
                  {{"target", "primary"}, {"slot_name", "pgpulse_standby_slot"}, {"wal_status", "reserved"}}),
            1);
  EXPECT_TRUE(Value(body, "pg_stat_replication_pg_wal_lsn_diff", {{"target", "primary"}, {"state", "streaming"}}));
  EXPECT_TRUE(Value(body, "pg_replication_lag_seconds", {{"target", "standby"}}));
  EXPECT_TRUE(Value(body, "pg_stat_wal_receiver_status", {{"target", "standby"}, {"status", "streaming"}}));
  // Facts that only one side has are reported once as not applicable, not as failures.
  EXPECT_EQ(Value(body, "pgpulse_collector_enabled",
                  {{"target", "primary"}, {"collector", "replica_lag"}, {"reason", "primary"}}),
            0);
  EXPECT_EQ(Value(body, "pgpulse_collector_enabled",
                  {{"target", "standby"}, {"collector", "stat_replication"}, {"reason", "replica"}}),
            0);
}

TEST_F(CollectorsTest, PasswordExpiryIsExactAndInfinityIsNotExported) {
  auto& primary = cluster.primary();
  primary.Exec("postgres",
               "DROP ROLE IF EXISTS rotating_app; DROP ROLE IF EXISTS forever_app; DROP ROLE IF EXISTS plain_app;"
               "CREATE ROLE rotating_app LOGIN PASSWORD 'x' VALID UNTIL '2030-01-02 03:04:05+00';"
               "CREATE ROLE forever_app LOGIN PASSWORD 'x' VALID UNTIL 'infinity';"
               "CREATE ROLE plain_app LOGIN PASSWORD 'x';");
  const auto body = Scrape();
  EXPECT_EQ(Value(body, "pg_role_password_valid_until_seconds", {{"target", "primary"}, {"rolname", "rotating_app"}}),
            1893553445.0);
  EXPECT_FALSE(
      Value(body, "pg_role_password_valid_until_seconds", {{"target", "primary"}, {"rolname", "forever_app"}}));
  EXPECT_FALSE(Value(body, "pg_role_password_valid_until_seconds", {{"target", "primary"}, {"rolname", "plain_app"}}));
  EXPECT_EQ(Value(body, "pg_role_info",
                  {{"target", "primary"},
                   {"rolname", "rotating_app"},
                   {"canlogin", "true"},
                   {"superuser", "false"},
                   {"has_expiry", "true"}}),
            1);
  EXPECT_EQ(Value(body, "pg_role_info", {{"target", "primary"}, {"rolname", "postgres"}, {"superuser", "true"}}), 1);
  primary.Exec("postgres", "DROP ROLE rotating_app; DROP ROLE forever_app; DROP ROLE plain_app;");
}

TEST_F(CollectorsTest, OldestSessionPerRole) {
  HeldSession session(cluster.primary().Dsn(PgCluster::kAppUser, cluster.app_password(), "erp"));
  const auto body = Scrape();
  EXPECT_EQ(Value(body, "pg_role_oldest_session_start_seconds", {{"target", "primary"}, {"rolname", "app_user"}}),
            Psql("postgres",
                 "SELECT extract(epoch FROM min(backend_start)) FROM pg_stat_activity WHERE usename = 'app_user'"));
}

TEST_F(CollectorsTest, CapacityFacts) {
  const auto body = Scrape();
  const auto age = Value(body, "pg_database_datfrozenxid_age", {{"target", "primary"}, {"datname", "cafe"}});
  ASSERT_TRUE(age);
  // Ages move with every transaction anywhere in the cluster; read right after the scrape, they differ by a few.
  EXPECT_NEAR(*age, Psql("postgres", "SELECT age(datfrozenxid) FROM pg_database WHERE datname = 'cafe'"), 5);
  EXPECT_NEAR(*Value(body, "pg_database_datminmxid_age", {{"target", "primary"}, {"datname", "cafe"}}),
              Psql("postgres", "SELECT mxid_age(datminmxid) FROM pg_database WHERE datname = 'cafe'"), 5);
  EXPECT_DOUBLE_EQ(*Value(body, "pg_sequence_used_ratio",
                          {{"target", "primary"}, {"datname", "treasury"}, {"sequencename", "ledger_seq"}}),
                   249.0 / 999.0);
  EXPECT_TRUE(Value(body, "pg_settings_max_replication_slots", {{"target", "primary"}}));
  EXPECT_TRUE(Value(body, "pg_settings_autovacuum_freeze_max_age", {{"target", "primary"}}));
  EXPECT_TRUE(Value(body, "pg_stat_bgwriter_checkpoints_timed_total", {{"target", "primary"}}));
  EXPECT_TRUE(Value(body, "pg_wal_size_bytes", {{"target", "primary"}}));
  EXPECT_TRUE(Value(body, "pg_stat_database_deadlocks", {{"target", "primary"}, {"datname", "erp"}}));
  EXPECT_TRUE(Value(body, "pg_stat_archiver_archived_count", {{"target", "primary"}}));
}

TEST_F(CollectorsTest, CustomCollectorsRunAndMissingExtensionsAreReportedOnce) {
  const auto body = Scrape();
  EXPECT_EQ(Value(body, "custom_public_tables", {{"target", "primary"}, {"datname", "erp"}}),
            Psql("erp", "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"));
  EXPECT_EQ(Value(body, "pgpulse_collector_enabled",
                  {{"target", "primary"}, {"collector", "custom_needs_pgcrypto"}, {"reason", "extension_missing"}}),
            0);
  EXPECT_EQ(CountSamples(body, "custom_pgcrypto_one"), 0u);
  Scrape();
  Scrape();
  const auto output = exporter_->process().Output();
  size_t mentions = 0;
  for (auto at = output.find("collector=custom_needs_pgcrypto"); at != std::string::npos;
       at = output.find("collector=custom_needs_pgcrypto", at + 1)) {
    ++mentions;
  }
  EXPECT_EQ(mentions, 3u) << "once per target (three here), not once per scrape:\n" << output;
}

}  // namespace
}  // namespace pgpulse::testing
