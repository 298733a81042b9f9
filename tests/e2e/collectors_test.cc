// The built-in collectors against a real primary and standby: each value equals what PostgreSQL reports at the
// same moment, under the names postgres_exporter uses, with the target label.
#include "tests/e2e/collectors_fixture.h"

namespace pgpulse::testing {
namespace {

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
  auto numbackends = Value(body, "pg_stat_database_numbackends", {{"target", "primary"}, {"datname", "cafe"}});
  EXPECT_EQ(numbackends, Psql("postgres", "SELECT numbackends FROM pg_stat_database WHERE datname = 'cafe'"));
}

TEST_F(CollectorsTest, LocksAndLockWaitsAreCounted) {
  auto& primary = cluster.primary();
  const auto dsn = primary.Dsn(PgCluster::kAppUser, cluster.app_password(), "cafe");
  HeldSession holder(dsn), waiter(dsn);
  holder.Exec("BEGIN; LOCK TABLE orders IN ACCESS EXCLUSIVE MODE");
  waiter.Send("SELECT max(note) FROM orders");
  ASSERT_TRUE(WaitUntil(primary, "postgres",
                        "SELECT coalesce(bool_or(wait_event_type = 'Lock'), false) FROM pg_stat_activity WHERE pid = " +
                            std::to_string(waiter.pid())));
  // Nothing else takes or waits for locks on orders (table_sizes reads the catalog only), so both reads agree.
  const auto between = ScrapeUntil(
      {{primary, "postgres",
        "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
        "WHERE d.datname = 'cafe' AND l.mode = 'AccessExclusiveLock'"},
       {primary, "postgres",
        "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND wait_event_type = 'Lock'"}},
      Still);
  ASSERT_TRUE(Still(between));
  const auto locks = *between.before[0][0];
  EXPECT_GE(locks, 1);
  EXPECT_EQ(Value(between.body, "pg_locks_count",
                  {{"target", "primary"}, {"datname", "cafe"}, {"mode", "accessexclusivelock"}}),
            locks)
      << between.body;
  EXPECT_EQ(Value(between.body, "pg_locks_count",
                  {{"target", "primary"}, {"datname", "erp"}, {"mode", "accessexclusivelock"}}),
            0);
  EXPECT_EQ(*between.before[1][0], 1);
  EXPECT_EQ(Value(between.body, "pg_stat_activity_waiting_on_lock", {{"target", "primary"}}), *between.before[1][0]);
  holder.Exec("ROLLBACK");
  EXPECT_EQ(waiter.Wait(), "");
}

TEST_F(CollectorsTest, DatabaseSizeAndLimitsMatch) {
  auto& primary = cluster.primary();
  // Limits other than the default -1, on a database and a role made for this test.
  ScratchDatabase limited(primary, "limits", "CONNECTION LIMIT 7");
  primary.Exec("postgres",
               "SET client_min_messages = warning; DROP ROLE IF EXISTS limited_app; CREATE ROLE limited_app LOGIN "
               "CONNECTION LIMIT 3");
  Undo drop_role([&primary] { primary.Exec("postgres", "DROP ROLE limited_app"); });
  // Autovacuum and the other tests' traffic can grow a database (a new visibility map, a page) during the scrape, so
  // the sizes are read around it, and a scrape during which one changed is retried.
  const std::vector<std::string> sized = {"cafe", "erp", "treasury"};
  std::vector<Read> sizes;
  for (const auto& db : sized) sizes.push_back({primary, "postgres", "SELECT pg_database_size('" + db + "')"});
  const auto between = ScrapeUntil(sizes, Still);
  ASSERT_TRUE(Still(between)) << "the databases kept growing during every scrape";
  const auto& body = between.body;
  for (size_t i = 0; i < sized.size(); ++i) {
    EXPECT_EQ(Value(body, "pg_database_size_bytes", {{"target", "primary"}, {"datname", sized[i]}}),
              *between.before[i][0])
        << sized[i];
  }
  // One series per database that accepts connections and one per login role, each with PostgreSQL's limit.
  const auto databases = primary.Query("postgres", "SELECT datname, datconnlimit FROM pg_database WHERE datallowconn");
  for (const auto& row : databases) {
    EXPECT_EQ(Value(body, "pg_database_connection_limit", {{"target", "primary"}, {"datname", *row[0]}}),
              std::stod(*row[1]))
        << *row[0];
  }
  EXPECT_EQ(Value(body, "pg_database_connection_limit", {{"target", "primary"}, {"datname", limited.name()}}), 7);
  const auto roles = primary.Query(
      "postgres", "SELECT rolname, rolconnlimit FROM pg_roles WHERE rolcanlogin AND NOT starts_with(rolname, 'pg_')");
  for (const auto& row : roles) {
    EXPECT_EQ(Value(body, "pg_roles_connection_limit", {{"target", "primary"}, {"rolname", *row[0]}}),
              std::stod(*row[1]))
        << *row[0];
  }
  EXPECT_EQ(Value(body, "pg_roles_connection_limit", {{"target", "primary"}, {"rolname", "limited_app"}}), 3);
  size_t database_series = 0, role_series = 0;
  for (const auto& sample : ParseSamples(body)) {
    if (sample.labels.count("target") == 0 || sample.labels.at("target") != "primary") continue;
    database_series += sample.name == "pg_database_connection_limit";
    role_series += sample.name == "pg_roles_connection_limit";
  }
  EXPECT_EQ(database_series, databases.size());
  EXPECT_EQ(role_series, roles.size());
  EXPECT_EQ(Value(body, "pg_target_storage_limit_bytes", {{"target", "primary"}}), 21474836480.0);
  EXPECT_FALSE(Value(body, "pg_target_storage_limit_bytes", {{"target", "standby"}}));
  EXPECT_EQ(Value(body, "pg_postmaster_start_time_seconds", {{"target", "primary"}}),
            Psql("postgres", "SELECT extract(epoch FROM pg_postmaster_start_time())"));
}

TEST_F(CollectorsTest, TableSizesAndCacheHitsMatch) {
  // Table sizes are the page counts the server recorded at the table's last VACUUM or ANALYZE (VACUUM also counts
  // the TOAST table's pages), not pg_table_size: after a VACUUM they are what relpages says, close to the real size.
  // ANALYZE apart: within VACUUM (ANALYZE), an index that VACUUM's cleanup skipped keeps its old page count.
  for (const char* statement : {"VACUUM", "ANALYZE"}) {
    cluster.primary().Exec("cafe", std::string(statement) + " public.orders");
    cluster.primary().Exec("erp", std::string(statement) + " public.pgbench_accounts");
  }
  const std::string io = "SELECT heap_blks_hit, heap_blks_read FROM pg_statio_user_tables WHERE relname = 'orders'";
  ASSERT_TRUE(WaitForSettledStatistics(cluster.primary(), "cafe", io));
  const auto between = ScrapeBetween({{cluster.primary(), "cafe", io}});
  const auto& body = between.body;
  const std::map<std::string, std::string> table = {{"target", "primary"}, {"datname", "cafe"}, {"relname", "orders"}};
  const std::string heap_pages =
      "SELECT (c.relpages::bigint + coalesce(t.relpages, 0) + coalesce((SELECT sum(x.relpages) FROM pg_index i "
      "JOIN pg_class x ON x.oid = i.indexrelid WHERE i.indrelid = c.reltoastrelid), 0)) * "
      "current_setting('block_size')::bigint FROM pg_class c LEFT JOIN pg_class t ON t.oid = c.reltoastrelid "
      "WHERE c.oid = ";
  const std::string index_pages =
      "SELECT sum(x.relpages)::bigint * current_setting('block_size')::bigint FROM pg_index i "
      "JOIN pg_class x ON x.oid = i.indexrelid WHERE i.indrelid = ";
  const auto table_size = Value(body, "pg_stat_user_tables_table_size_bytes", table);
  const auto index_size = Value(body, "pg_stat_user_tables_index_size_bytes", table);
  EXPECT_EQ(table_size, Psql("cafe", heap_pages + "'public.orders'::regclass"));
  EXPECT_EQ(index_size, Psql("cafe", index_pages + "'public.orders'::regclass"));
  // Left out: the free space and visibility maps (up to 4 pages each for a small table and its TOAST table).
  const double block = Psql("cafe", "SELECT current_setting('block_size')::bigint");
  const double exact_table = Psql("cafe", "SELECT pg_table_size('public.orders')");
  ASSERT_TRUE(table_size);
  EXPECT_GT(*table_size, 0);
  EXPECT_LE(*table_size, exact_table);
  EXPECT_GE(*table_size, exact_table - 8 * block - 0.01 * exact_table);
  EXPECT_EQ(index_size, Psql("cafe", "SELECT pg_indexes_size('public.orders')"));
  ExpectCounter(body, "pg_statio_user_tables_heap_blocks_hit", table, between.before[0][0], between.after[0][0]);
  ExpectCounter(body, "pg_statio_user_tables_heap_blocks_read", table, between.before[0][1], between.after[0][1]);
  // Every service database is visited: pgbench's tables live in erp.
  const auto accounts = Value(body, "pg_stat_user_tables_table_size_bytes",
                              {{"target", "primary"}, {"datname", "erp"}, {"relname", "pgbench_accounts"}});
  EXPECT_EQ(accounts, Psql("erp", heap_pages + "'public.pgbench_accounts'::regclass"));
  const double exact_accounts = Psql("erp", "SELECT pg_table_size('public.pgbench_accounts')");
  ASSERT_TRUE(accounts);
  EXPECT_LE(*accounts, exact_accounts);
  EXPECT_GE(*accounts, exact_accounts - 8 * block - 0.01 * exact_accounts);
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
  for (const std::string column : {"shared_blks_hit", "shared_blks_read", "wal_bytes"}) {
    EXPECT_EQ(Value(body, "pg_stat_statements_" + column + "_total", labels),
              Psql("postgres", "SELECT sum(" + column + ") FROM pg_stat_statements WHERE queryid = " + queryid))
        << column;
  }
  EXPECT_GT(Value(body, "pg_stat_statements_shared_blks_hit_total", labels).value_or(-1), 0);
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
  EXPECT_EQ(Value(body, "pg_replication_slots_wal_status",
                  {{"target", "primary"}, {"slot_name", "pgpulse_standby_slot"}, {"wal_status", "reserved"}}),
            1);
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

TEST_F(CollectorsTest, TransactionAgesAreTakenAtTheScrape) {
  auto& primary = cluster.primary();
  const auto dsn = primary.Dsn(PgCluster::kAppUser, cluster.app_password(), "cafe");
  HeldSession idle(dsn), in_transaction(dsn);
  in_transaction.Exec("BEGIN; SELECT 1");
  // A second old, the ages cannot pass for the 0 that stands for "none".
  std::this_thread::sleep_for(1s);
  const auto mine = Row(primary, "postgres",
                        "SELECT extract(epoch FROM xact_start), extract(epoch FROM state_change) FROM pg_stat_activity "
                        "WHERE pid = " +
                            std::to_string(in_transaction.pid()));
  const auto between = ScrapeBetween(
      {{primary, "postgres",
        "SELECT extract(epoch FROM min(xact_start)),"
        "       extract(epoch FROM min(xact_start) FILTER (WHERE datname = 'cafe' AND usename = 'app_user'"
        "                                                   AND state = 'idle in transaction')),"
        "       extract(epoch FROM min(state_change) FILTER (WHERE state LIKE 'idle in transaction%'))"
        " FROM pg_stat_activity WHERE backend_type = 'client backend'"}});
  // The exporter's now() falls within the scrape. Our transaction was open then, so each age is at least the scrape's
  // start minus its start; a transaction older than ours would have been open at the read before, so each age is at
  // most the scrape's end minus the oldest start read then.
  const auto& oldest = between.before[0];
  EXPECT_GE(between.start - *mine[0], 1.0);
  ExpectWithin(Value(between.body, "pg_stat_activity_oldest_xact_age_seconds", {{"target", "primary"}}),
               between.start - *mine[0], between.end - *oldest[0], "oldest_xact_age_seconds");
  ExpectWithin(
      Value(between.body, "pg_stat_activity_max_tx_duration",
            {{"target", "primary"}, {"datname", "cafe"}, {"state", "idle in transaction"}, {"usename", "app_user"}}),
      between.start - *mine[0], between.end - *oldest[1], "max_tx_duration");
  ExpectWithin(Value(between.body, "pg_stat_activity_oldest_idle_in_transaction_age_seconds", {{"target", "primary"}}),
               between.start - *mine[1], between.end - *oldest[2], "oldest_idle_in_transaction_age_seconds");
  // Sessions without a transaction have no transaction age.
  EXPECT_EQ(Value(between.body, "pg_stat_activity_max_tx_duration",
                  {{"target", "primary"}, {"datname", "cafe"}, {"state", "idle"}, {"usename", "app_user"}}),
            0);
}

TEST_F(CollectorsTest, CapacitySettingsEqualPgSettings) {
  const auto body = Scrape();
  for (const auto& [target, server] : {std::pair<std::string, const PgServer*>{"primary", &cluster.primary()},
                                       std::pair<std::string, const PgServer*>{"standby", &cluster.standby()}}) {
    for (const std::string name :
         {"max_connections", "superuser_reserved_connections", "reserved_connections", "max_wal_senders",
          "max_replication_slots", "autovacuum_freeze_max_age", "autovacuum_multixact_freeze_max_age"}) {
      const auto rows = server->Query("postgres", "SELECT setting FROM pg_settings WHERE name = '" + name + "'");
      const auto value = Value(body, "pg_settings_" + name, {{"target", target}});
      if (rows.empty()) {
        // reserved_connections is new in PostgreSQL 16.
        EXPECT_FALSE(value) << name << " is exported, but " << target << " has no such setting";
        continue;
      }
      EXPECT_EQ(value, std::stod(*rows[0][0])) << name << " on " << target;
    }
    // pg_size_bytes reads the setting with its unit, as SHOW prints it; -1 stays -1.
    EXPECT_EQ(Value(body, "pg_settings_max_slot_wal_keep_size_bytes", {{"target", target}}),
              Row(*server, "postgres", "SELECT pg_size_bytes(current_setting('max_slot_wal_keep_size'))")[0])
        << target;
  }
}

TEST_F(CollectorsTest, DatabaseCountersMatchPgStatDatabaseInAScratchDatabase) {
  auto& primary = cluster.primary();
  ScratchDatabase scratch(primary, "counters");
  const auto dsn = primary.Dsn(PgCluster::kSuperuser, cluster.superuser_password(), scratch.name());
  std::vector<int> pids;
  {
    HeldSession a(dsn), b(dsn);
    pids = {a.pid(), b.pid()};
    // Superuser-only settings: timed I/O for blk_read_time and blk_write_time, a quick deadlock check.
    for (auto* session : {&a, &b}) session->Exec("SET track_io_timing = on; SET deadlock_timeout = '50ms'");
    // A sort bigger than work_mem spills to a temporary file.
    a.Exec(
        "SET work_mem = '64kB';"
        "SELECT count(*) FROM (SELECT g FROM generate_series(1, 50000) g ORDER BY g DESC OFFSET 0) sorted");
    // A table bigger than the 16 MB ring of a bulk write leaves most of its blocks out of shared buffers; the backend
    // writes them out itself, and the scan reads them back.
    a.Exec(
        "CREATE TABLE big WITH (autovacuum_enabled = off) AS "
        "SELECT g, repeat('x', 500) AS pad FROM generate_series(1, 45000) g;"
        "SELECT count(*) FROM big");
    // One deadlock: a waits for b's row, then b for a's, and the deadlock detector cancels one of them.
    a.Exec(
        "CREATE TABLE pair (id int PRIMARY KEY, n int) WITH (autovacuum_enabled = off);"
        "INSERT INTO pair VALUES (1, 0), (2, 0)");
    a.Exec("BEGIN; UPDATE pair SET n = n + 1 WHERE id = 1");
    b.Exec("BEGIN; UPDATE pair SET n = n + 1 WHERE id = 2");
    a.Send("UPDATE pair SET n = n + 1 WHERE id = 2");
    ASSERT_TRUE(WaitUntil(primary, "postgres",
                          "SELECT coalesce(bool_or(wait_event_type = 'Lock'), false) FROM pg_stat_activity "
                          "WHERE pid = " +
                              std::to_string(a.pid())));
    std::string b_error;
    try {
      b.Exec("UPDATE pair SET n = n + 1 WHERE id = 1");
    } catch (const std::runtime_error& e) {
      b_error = e.what();
    }
    const auto a_error = a.Wait();
    EXPECT_NE(a_error.empty(), b_error.empty()) << "one victim, a: " << a_error << " b: " << b_error;
    a.Exec("ROLLBACK");
    b.Exec("ROLLBACK");
  }
  ASSERT_TRUE(WaitForExit(primary, pids));
  const std::vector<std::string> columns = {"numbackends", "xact_commit",  "xact_rollback", "blks_read",
                                            "blks_hit",    "tup_returned", "tup_fetched",   "tup_inserted",
                                            "tup_updated", "tup_deleted",  "conflicts",     "temp_files",
                                            "temp_bytes",  "deadlocks",    "blk_read_time", "blk_write_time"};
  const std::vector<std::string> conflicts = {"confl_tablespace", "confl_lock", "confl_snapshot", "confl_bufferpin",
                                              "confl_deadlock"};
  std::string select;
  for (const auto& column : columns) select += (select.empty() ? "" : ", ") + column;
  std::string select_conflicts;
  for (const auto& column : conflicts) select_conflicts += (select_conflicts.empty() ? "" : ", ") + column;
  const std::string where = " WHERE datname = '" + scratch.name() + "'";
  const auto between =
      ScrapeBetween({{primary, "postgres", "SELECT " + select + " FROM pg_stat_database" + where},
                     {primary, "postgres", "SELECT " + select_conflicts + " FROM pg_stat_database_conflicts" + where}});
  const std::map<std::string, std::string> labels = {{"target", "primary"}, {"datname", scratch.name()}};
  // Autovacuum may look into the new database meanwhile: it moves the block and transaction counters, which are
  // bracketed, and numbackends, a gauge, which is left out.
  std::map<std::string, double> read;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i] == "numbackends") continue;
    ExpectCounter(between.body, "pg_stat_database_" + columns[i], labels, between.before[0][i], between.after[0][i]);
    read[columns[i]] = between.after[0][i].value_or(-1);
  }
  // Only the test's sessions deadlock, spill to disk or conflict here: these are exact.
  for (const std::string column : {"deadlocks", "temp_files", "temp_bytes", "conflicts"}) {
    EXPECT_EQ(Value(between.body, "pg_stat_database_" + column, labels), read[column]) << column;
  }
  EXPECT_EQ(read["deadlocks"], 1);
  EXPECT_GE(read["temp_files"], 1);
  EXPECT_GT(read["temp_bytes"], 0);
  EXPECT_GT(read["blks_read"], 0);
  EXPECT_GT(read["blk_read_time"], 0);
  EXPECT_GT(read["blk_write_time"], 0);
  for (size_t i = 0; i < conflicts.size(); ++i) {
    EXPECT_EQ(between.before[1][i], 0) << conflicts[i];
    EXPECT_EQ(Value(between.body, "pg_stat_database_conflicts_" + conflicts[i], labels), between.after[1][i])
        << conflicts[i];
  }
}

TEST_F(CollectorsTest, RecoveryConflictOnTheStandbyIsCounted) {
  auto& primary = cluster.primary();
  auto& standby = cluster.standby();
  cluster.WaitForStreaming();
  primary.Exec("postgres", "SET client_min_messages = warning; CREATE TABLE IF NOT EXISTS conflict_probe (n int)");
  ASSERT_TRUE(WaitUntil(standby, "postgres", "SELECT to_regclass('conflict_probe') IS NOT NULL"));
  const std::string conflicts =
      "SELECT confl_tablespace, confl_lock, confl_snapshot, confl_bufferpin, confl_deadlock "
      "FROM pg_stat_database_conflicts WHERE datname = 'postgres'";
  const auto lock_conflicts = static_cast<long long>(*Row(standby, "postgres", conflicts)[1]);
  // Replay cancels a conflicting session at once instead of after max_standby_streaming_delay's 30 s.
  SystemSetting no_delay(standby, "max_standby_streaming_delay", "0");
  ASSERT_TRUE(WaitUntil(standby, "postgres", "SELECT current_setting('max_standby_streaming_delay') = '0'"));
  {
    HeldSession reader(standby.Dsn(PgCluster::kSuperuser, cluster.superuser_password(), "postgres"));
    // The reader holds a lock that the primary's ACCESS EXCLUSIVE lock, once replayed, conflicts with.
    reader.Exec("BEGIN; SELECT count(*) FROM conflict_probe");
    primary.Exec("postgres", "BEGIN; LOCK TABLE conflict_probe IN ACCESS EXCLUSIVE MODE; COMMIT");
    // Should the startup process not have seen the new delay yet, the conflict comes 30 s late, not never.
    ASSERT_TRUE(WaitUntil(standby, "postgres",
                          "SELECT confl_lock > " + std::to_string(lock_conflicts) +
                              " FROM pg_stat_database_conflicts WHERE datname = 'postgres'",
                          60s));
    EXPECT_THROW(reader.Exec("SELECT 1"), std::runtime_error) << "replay ended the reader's session";
  }
  no_delay.Reset();
  const auto between =
      ScrapeBetween({{standby, "postgres", conflicts},
                     {standby, "postgres", "SELECT conflicts FROM pg_stat_database WHERE datname = 'postgres'"},
                     {primary, "postgres", conflicts}});
  const std::vector<std::string> columns = {"confl_tablespace", "confl_lock", "confl_snapshot", "confl_bufferpin",
                                            "confl_deadlock"};
  for (const std::string target : {"standby", "primary"}) {
    const size_t read = target == "standby" ? 0 : 2;
    const std::map<std::string, std::string> labels = {{"target", target}, {"datname", "postgres"}};
    for (size_t i = 0; i < columns.size(); ++i) {
      ExpectCounter(between.body, "pg_stat_database_conflicts_" + columns[i], labels, between.before[read][i],
                    between.after[read][i]);
    }
  }
  const std::map<std::string, std::string> standby_postgres = {{"target", "standby"}, {"datname", "postgres"}};
  EXPECT_GT(Value(between.body, "pg_stat_database_conflicts_confl_lock", standby_postgres).value_or(-1),
            lock_conflicts);
  ExpectCounter(between.body, "pg_stat_database_conflicts", standby_postgres, between.before[1][0],
                between.after[1][0]);
  EXPECT_GT(Value(between.body, "pg_stat_database_conflicts", standby_postgres).value_or(-1), 0);
}

TEST_F(CollectorsTest, IndexBlockCountersMatchPgStatioUserIndexes) {
  auto& primary = cluster.primary();
  int pid = 0;
  {
    // An index scan, so orders_pkey has buffer hits to count.
    HeldSession session(primary.Dsn(PgCluster::kAppUser, cluster.app_password(), "cafe"));
    pid = session.pid();
    session.Exec("SET enable_seqscan = off; SET enable_bitmapscan = off; SELECT note FROM orders WHERE id = 42");
  }
  ASSERT_TRUE(WaitForExit(primary, {pid}));
  const std::string sql =
      "SELECT schemaname, relname, indexrelname, idx_blks_read, idx_blks_hit FROM pg_statio_user_indexes ORDER BY 1, "
      "2, 3";
  const std::vector<std::string> databases = {"cafe", "erp"};
  const auto [before, after, body] = ScrapeBetweenRows(databases, sql);
  EXPECT_EQ(Value(body, "pgpulse_collector_success", {{"target", "primary"}, {"collector", "statio_user_indexes"}}), 1);
  for (size_t d = 0; d < databases.size(); ++d) {
    ASSERT_EQ(before[d].size(), after[d].size()) << "indexes came or went in " << databases[d];
    EXPECT_GT(before[d].size(), 0u) << databases[d];
    for (size_t i = 0; i < before[d].size(); ++i) {
      const auto& row = before[d][i];
      const std::map<std::string, std::string> labels = {{"target", "primary"},
                                                         {"datname", databases[d]},
                                                         {"schemaname", *row[0]},
                                                         {"relname", *row[1]},
                                                         {"indexrelname", *row[2]}};
      ExpectCounter(body, "pg_statio_user_indexes_idx_blks_read_total", labels, std::stod(*row[3]),
                    std::stod(*after[d][i][3]));
      ExpectCounter(body, "pg_statio_user_indexes_idx_blks_hit_total", labels, std::stod(*row[4]),
                    std::stod(*after[d][i][4]));
    }
    size_t series = 0;
    for (const auto& sample : ParseSamples(body)) {
      series += sample.name == "pg_statio_user_indexes_idx_blks_hit_total" && sample.labels.at("target") == "primary" &&
                sample.labels.at("datname") == databases[d];
    }
    EXPECT_EQ(series, before[d].size()) << "one series per index of " << databases[d];
  }
  EXPECT_GT(Value(body, "pg_statio_user_indexes_idx_blks_hit_total",
                  {{"target", "primary"}, {"datname", "cafe"}, {"indexrelname", "orders_pkey"}})
                .value_or(-1),
            0);
}

TEST_F(CollectorsTest, StatementWalBytesMatchPgStatStatements) {
  {
    HeldSession session(cluster.primary().Dsn(PgCluster::kAppUser, cluster.app_password(), "cafe"));
    session.Exec("SET client_min_messages = warning; CREATE TABLE IF NOT EXISTS statement_wal_probe (n int)");
    for (int i = 0; i < 3; ++i) session.Exec("INSERT INTO statement_wal_probe SELECT g FROM generate_series(1, 100) g");
  }
  // The table is this test's own, so nothing else runs the statement: the figures stand still.
  const auto queryid = cluster.primary().QueryValue(
      "postgres",
      "SELECT queryid FROM pg_stat_statements WHERE query LIKE 'INSERT INTO statement_wal_probe %' LIMIT 1");
  const auto body = Scrape();
  const std::map<std::string, std::string> labels = {
      {"target", "primary"}, {"datname", "cafe"}, {"user", "app_user"}, {"queryid", queryid}};
  for (const std::string column : {"calls", "rows", "shared_blks_hit", "shared_blks_read", "wal_bytes"}) {
    EXPECT_EQ(Value(body, "pg_stat_statements_" + column + "_total", labels),
              Psql("postgres", "SELECT sum(" + column + ") FROM pg_stat_statements WHERE queryid = " + queryid))
        << column;
  }
  EXPECT_GT(Value(body, "pg_stat_statements_wal_bytes_total", labels).value_or(-1), 0);
}

TEST_F(CollectorsTest, WalSegmentsMatchPgLsWaldir) {
  const std::string sql =
      "SELECT count(*), coalesce(sum(size), 0), pg_size_bytes(current_setting('wal_segment_size')) "
      "FROM pg_ls_waldir() WHERE name ~ '^[0-9A-F]{24}$'";
  // Segments come and go only at a segment switch or a checkpoint, so reads that agree saw what the exporter saw.
  const auto between = ScrapeUntil({{cluster.primary(), "postgres", sql}, {cluster.standby(), "postgres", sql}}, Still);
  ASSERT_TRUE(Still(between)) << "WAL segments kept changing";
  for (const auto& [target, read] :
       {std::pair<std::string, size_t>{"primary", 0}, std::pair<std::string, size_t>{"standby", 1}}) {
    const auto& wal = between.before[read];
    EXPECT_GT(*wal[0], 0) << target;
    EXPECT_EQ(Value(between.body, "pg_wal_segments", {{"target", target}}), wal[0]) << target;
    EXPECT_EQ(Value(between.body, "pg_wal_size_bytes", {{"target", target}}), wal[1]) << target;
    // Segment files are created at their full size.
    EXPECT_EQ(*wal[1], *wal[0] * *wal[2]) << target;
  }
}

TEST_F(CollectorsTest, ReplicationPositionsAndLagMatchWhileReplayIsPaused) {
  auto& primary = cluster.primary();
  auto& standby = cluster.standby();
  cluster.WaitForStreaming();
  // A commit replayed just before the pause: the standby has a last replay time.
  ASSERT_TRUE(ReplayedOnStandby());
  standby.Exec("postgres", "SELECT pg_wal_replay_pause()");
  Undo resume([&standby] { standby.Exec("postgres", "SELECT pg_wal_replay_resume()"); });
  // WAL that the standby receives but does not replay: it lags behind by a fixed amount and a growing time.
  primary.Exec("postgres", "INSERT INTO replication_probe SELECT g FROM generate_series(1, 1000) g");
  ASSERT_TRUE(WaitUntil(standby, "postgres",
                        // pg_get_wal_replay_pause_state() is 14+; before, requested and done were one state.
                        std::string(Psql("postgres", "SHOW server_version_num") >= 140000
                                        ? "SELECT pg_get_wal_replay_pause_state() = 'paused' "
                                        : "SELECT pg_is_wal_replay_paused() ") +
                            "AND pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn()"));
  // Positions only grow, so each difference lies between its smallest and largest combination of the two reads;
  // the lag times change only when the standby replies, and are retried until a scrape missed every reply.
  const auto between = ScrapeUntil(
      {{primary, "postgres",
        "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0'), pg_wal_lsn_diff(r.replay_lsn, '0/0'),"
        "       pg_wal_lsn_diff(s.restart_lsn, '0/0'), extract(epoch FROM r.write_lag),"
        "       extract(epoch FROM r.flush_lag), extract(epoch FROM r.replay_lag)"
        " FROM pg_stat_replication r CROSS JOIN pg_replication_slots s WHERE s.slot_name = 'pgpulse_standby_slot'"},
       {standby, "postgres",
        "SELECT extract(epoch FROM pg_last_xact_replay_timestamp()), extract(epoch FROM last_msg_receipt_time),"
        "       pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())"
        " FROM pg_stat_wal_receiver"}},
      [](const Between& b) {
        return std::equal(b.before[0].begin() + 3, b.before[0].end(), b.after[0].begin() + 3) &&
               b.before[1][0] == b.after[1][0];
      });
  const auto& body = between.body;
  const auto& p0 = between.before[0];
  const auto& p1 = between.after[0];
  ASSERT_EQ(std::vector(p0.begin() + 3, p0.end()), std::vector(p1.begin() + 3, p1.end())) << "lag times kept changing";
  const std::map<std::string, std::string> sender = {{"target", "primary"}, {"state", "streaming"}};
  ExpectWithin(Value(body, "pg_stat_replication_pg_wal_lsn_diff", sender), *p0[0] - *p1[1], *p1[0] - *p0[1],
               "pg_stat_replication_pg_wal_lsn_diff");
  EXPECT_GT(Value(body, "pg_stat_replication_pg_wal_lsn_diff", sender).value_or(-1), 0);
  // The WAL position (the WAL generation rate's source on every version) lies between the primary's two reads.
  ExpectCounter(body, "pg_wal_written_bytes_total", {{"target", "primary"}}, p0[0], p1[0]);
  EXPECT_FALSE(Value(body, "pg_wal_written_bytes_total", {{"target", "standby"}})) << "a standby writes no WAL";
  ExpectWithin(Value(body, "pg_replication_slots_pg_wal_lsn_diff",
                     {{"target", "primary"}, {"slot_name", PgCluster::kStandbySlot}}),
               *p0[0] - *p1[2], *p1[0] - *p0[2], "pg_replication_slots_pg_wal_lsn_diff");
  const std::vector<std::string> lags = {"write", "flush", "replay"};
  for (size_t i = 0; i < lags.size(); ++i) {
    const auto value = Value(body, "pg_stat_replication_" + lags[i] + "_lag_seconds", sender);
    if (!p0[3 + i]) {
      EXPECT_FALSE(value) << lags[i] << " lag is exported where PostgreSQL has NULL";
    } else {
      ASSERT_TRUE(value) << lags[i] << " lag";
      EXPECT_DOUBLE_EQ(*value, *p0[3 + i]) << lags[i] << " lag";
    }
  }
  // On the standby: replay stands still at its last commit, and the lag is the time since that commit.
  const double last_replay = *between.before[1][0];
  EXPECT_DOUBLE_EQ(Value(body, "pg_replication_last_replay_seconds", {{"target", "standby"}}).value_or(-1),
                   last_replay);
  ExpectWithin(Value(body, "pg_replication_lag_seconds", {{"target", "standby"}}), between.start - last_replay,
               between.end - last_replay, "pg_replication_lag_seconds");
  ExpectCounter(body, "pg_stat_wal_receiver_last_msg_receipt_seconds", {{"target", "standby"}}, between.before[1][1],
                between.after[1][1]);
  // Received but not replayed: replay stands still, so the backlog only grows between the reads.
  ExpectWithin(Value(body, "pg_replication_replay_lag_bytes", {{"target", "standby"}}), *between.before[1][2],
               *between.after[1][2], "pg_replication_replay_lag_bytes");
  EXPECT_GT(Value(body, "pg_replication_replay_lag_bytes", {{"target", "standby"}}).value_or(-1), 0);

  // Caught up again, the standby has no lag: when both reads find all received WAL replayed, and nothing received
  // in between, the exporter found the same.
  resume.Now();
  ASSERT_TRUE(ReplayedOnStandby());
  const auto caught_up = ScrapeUntil({{standby, "postgres",
                                       "SELECT (pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn())::int,"
                                       "       pg_wal_lsn_diff(pg_last_wal_receive_lsn(), '0/0'),"
                                       "       extract(epoch FROM pg_last_xact_replay_timestamp())"}},
                                     [](const Between& b) { return Still(b) && b.before[0][0] == 1; });
  ASSERT_TRUE(Still(caught_up) && caught_up.before[0][0] == 1) << "the standby kept receiving WAL";
  EXPECT_EQ(Value(caught_up.body, "pg_replication_lag_seconds", {{"target", "standby"}}), 0);
  EXPECT_EQ(Value(caught_up.body, "pg_replication_replay_lag_bytes", {{"target", "standby"}}), 0);
  EXPECT_DOUBLE_EQ(Value(caught_up.body, "pg_replication_last_replay_seconds", {{"target", "standby"}}).value_or(-1),
                   *caught_up.before[0][2]);
}

TEST_F(CollectorsTest, SlotSafeWalSizeAppearsOnceMaxSlotWalKeepSizeIsSet) {
  auto& primary = cluster.primary();
  const std::map<std::string, std::string> slot = {{"target", "primary"}, {"slot_name", PgCluster::kStandbySlot}};
  const std::string sql =
      "SELECT safe_wal_size, pg_size_bytes(current_setting('max_slot_wal_keep_size')) FROM pg_replication_slots "
      "WHERE slot_name = 'pgpulse_standby_slot'";
  // Unlimited (the default): PostgreSQL has no safe size, and no sample is exported.
  const auto unlimited = ScrapeBetween({{primary, "postgres", sql}});
  ASSERT_EQ(unlimited.before[0], (Numbers{std::nullopt, -1.0}));
  EXPECT_FALSE(Value(unlimited.body, "pg_replication_slots_safe_wal_size_bytes", slot));
  EXPECT_EQ(Value(unlimited.body, "pg_settings_max_slot_wal_keep_size_bytes", {{"target", "primary"}}), -1);

  SystemSetting keep_size(primary, "max_slot_wal_keep_size", "1GB");
  // A new session sees the setting once the postmaster has reloaded and signalled every session, the exporter's
  // too; they take it up before their next statement.
  ASSERT_TRUE(WaitUntil(primary, "postgres", "SELECT current_setting('max_slot_wal_keep_size') = '1GB'"));
  // The safe size shrinks with every WAL write, which an idle primary makes rarely.
  const auto limited = ScrapeUntil({{primary, "postgres", sql}}, Still);
  ASSERT_TRUE(Still(limited)) << "WAL kept being written";
  ASSERT_TRUE(limited.before[0][0]);
  EXPECT_GT(*limited.before[0][0], 0);
  EXPECT_EQ(Value(limited.body, "pg_replication_slots_safe_wal_size_bytes", slot), limited.before[0][0]);
  EXPECT_EQ(Value(limited.body, "pg_settings_max_slot_wal_keep_size_bytes", {{"target", "primary"}}), 1073741824.0);
}

TEST_F(CollectorsTest, ArchiverCountersMatchPgStatArchiver) {
  // The shared primary archives (with archive_command '/bin/true'); the standby archives nothing while in recovery,
  // and has no age. Whatever PostgreSQL says is compared.
  const std::string sql =
      "SELECT archived_count, failed_count, extract(epoch FROM last_archived_time) FROM pg_stat_archiver";
  const auto between = ScrapeBetween({{cluster.primary(), "postgres", sql}, {cluster.standby(), "postgres", sql}});
  for (const auto& [target, read] :
       {std::pair<std::string, size_t>{"primary", 0}, std::pair<std::string, size_t>{"standby", 1}}) {
    const auto& before = between.before[read];
    const auto& after = between.after[read];
    ExpectCounter(between.body, "pg_stat_archiver_archived_count", {{"target", target}}, before[0], after[0]);
    ExpectCounter(between.body, "pg_stat_archiver_failed_count", {{"target", target}}, before[1], after[1]);
    const auto age = Value(between.body, "pg_stat_archiver_last_archive_age", {{"target", target}});
    if (!before[2] && !after[2]) {
      EXPECT_FALSE(age) << target << ": no WAL was ever archived";
    } else {
      ASSERT_TRUE(before[2] && after[2]);
      ExpectWithin(age, between.start - *after[2], between.end - *before[2], target + " last_archive_age");
    }
  }
}

TEST_F(CollectorsTest, CheckpointerAndBgwriterCountersMatchPgStatBgwriter) {
  auto& primary = cluster.primary();
  // PostgreSQL 17 moved the checkpoint counters to pg_stat_checkpointer (renamed) and dropped the backend ones;
  // the collector keeps the bgwriter names, so the ground truth reads the same columns under their new names.
  const bool checkpointer = Psql("postgres", "SHOW server_version_num") >= 170000;
  const std::string requested_column = checkpointer ? "num_requested" : "checkpoints_req";
  const std::string requested_view = checkpointer ? " FROM pg_stat_checkpointer" : " FROM pg_stat_bgwriter";
  // A requested checkpoint, so that its counters are not all 0. The checkpointer reports it a moment after
  // CHECKPOINT returns.
  const auto requested = static_cast<long long>(Psql("postgres", "SELECT " + requested_column + requested_view));
  primary.Exec("postgres", "CHECKPOINT");
  ASSERT_TRUE(WaitUntil(primary, "postgres",
                        "SELECT " + requested_column + " > " + std::to_string(requested) + requested_view));
  const std::vector<std::string> columns = {
      "checkpoints_timed", "checkpoints_req",  "checkpoint_write_time", "checkpoint_sync_time",  "buffers_checkpoint",
      "buffers_clean",     "maxwritten_clean", "buffers_backend",       "buffers_backend_fsync", "buffers_alloc"};
  std::string sql =
      checkpointer ? "SELECT extract(epoch FROM greatest(b.stats_reset, c.stats_reset)), c.num_timed, c.num_requested,"
                     // In recovery these three are a restartpoint's work, under other names (version_families_test).
                     " CASE WHEN NOT pg_is_in_recovery() THEN c.write_time END,"
                     " CASE WHEN NOT pg_is_in_recovery() THEN c.sync_time END,"
                     " CASE WHEN NOT pg_is_in_recovery() THEN c.buffers_written END,"
                     " b.buffers_clean, b.maxwritten_clean, NULL, NULL,"
                     " b.buffers_alloc FROM pg_stat_bgwriter b CROSS JOIN pg_stat_checkpointer c"
                   : "SELECT extract(epoch FROM stats_reset)";
  if (!checkpointer) {
    for (const auto& column : columns) sql += ", " + column;
    sql += " FROM pg_stat_bgwriter";
  }
  const auto between = ScrapeBetween({{primary, "postgres", sql}, {cluster.standby(), "postgres", sql}});
  for (const auto& [target, read] :
       {std::pair<std::string, size_t>{"primary", 0}, std::pair<std::string, size_t>{"standby", 1}}) {
    const auto& before = between.before[read];
    const auto& after = between.after[read];
    ExpectCounter(between.body, "pg_stat_bgwriter_stats_reset_total", {{"target", target}}, before[0], after[0]);
    for (size_t i = 0; i < columns.size(); ++i) {
      ExpectCounter(between.body, "pg_stat_bgwriter_" + columns[i] + "_total", {{"target", target}}, before[1 + i],
                    after[1 + i]);
    }
  }
  EXPECT_GT(Value(between.body, "pg_stat_bgwriter_checkpoints_req_total", {{"target", "primary"}}).value_or(-1),
            requested);
  EXPECT_GT(Value(between.body, "pg_stat_bgwriter_buffers_alloc_total", {{"target", "primary"}}).value_or(-1), 0);
}

TEST_F(CollectorsTest, CollectorDurationsFitInTheScrape) {
  const auto start = std::chrono::steady_clock::now();
  const auto body = Scrape();
  const double scrape = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto cluster_scope = ClusterScopeCollectors();
  ASSERT_GE(cluster_scope.size(), 15u);
  for (const std::string target : {"primary", "standby"}) {
    double cluster_total = 0;
    size_t ran = 0;
    for (const auto& sample : ParseSamples(body)) {
      if (sample.name != "pgpulse_collector_duration_seconds" || sample.labels.at("target") != target) continue;
      const auto& collector = sample.labels.at("collector");
      EXPECT_GE(sample.value, 0) << target << " " << collector;
      // A database-scope collector adds up the time of its visits, which run side by side, so only the cluster-scope
      // ones are bounded by the scrape; with ttl 0 (or none) they all ran in this one.
      if (!cluster_scope.count(collector)) continue;
      EXPECT_FALSE(Value(body, "pgpulse_collector_cache_age_seconds", {{"target", target}, {"collector", collector}}))
          << target << " " << collector << " was served from cache";
      EXPECT_LT(sample.value, scrape) << target << " " << collector;
      cluster_total += sample.value;
      ++ran;
    }
    EXPECT_GE(ran, 10u) << target;
    EXPECT_GT(cluster_total, 0) << target;
    // They run one after another on the target's connection, so even their sum fits in the scrape.
    EXPECT_LT(cluster_total, scrape) << target;
  }
}

}  // namespace
}  // namespace pgpulse::testing
