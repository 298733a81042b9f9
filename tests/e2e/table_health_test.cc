// Per-table and per-index health (collectors/stat_user_tables.yaml, collectors/stat_user_indexes.yaml) against
// the views they stand in for, read by psql around the same scrape: pg_stat_user_tables and pg_stat_user_indexes.
#include "tests/e2e/collectors_fixture.h"

namespace pgpulse::testing {
namespace {

const std::vector<std::string> kTableCounters = {
    "seq_scan",  "seq_tup_read",  "idx_scan",     "idx_tup_fetch",    "n_tup_ins",     "n_tup_upd",
    "n_tup_del", "n_tup_hot_upd", "vacuum_count", "autovacuum_count", "analyze_count", "autoanalyze_count"};
const std::vector<std::string> kTableGauges = {"n_live_tup", "n_dead_tup", "n_mod_since_analyze"};
const std::vector<std::string> kTableTimes = {"last_vacuum", "last_autovacuum", "last_analyze", "last_autoanalyze"};

// Every exported column of pg_stat_user_tables, times as Unix seconds, in this order: counters, gauges, times.
std::string TableColumns() {
  std::string select;
  for (const auto& column : kTableCounters) select += ", " + column;
  for (const auto& column : kTableGauges) select += ", " + column;
  for (const auto& column : kTableTimes) select += ", extract(epoch FROM " + column + ")::float8";
  return select;
}

std::optional<double> Number(const std::optional<std::string>& cell) {
  return cell ? std::optional<double>(std::stod(*cell)) : std::nullopt;
}

size_t SeriesIn(const std::string& body, const std::string& name, const std::string& target, const std::string& db) {
  size_t series = 0;
  for (const auto& sample : ParseSamples(body)) {
    series += sample.name == name && sample.labels.at("target") == target && sample.labels.at("datname") == db;
  }
  return series;
}

TEST_F(CollectorsTest, TableStatisticsMatchPgStatUserTables) {
  auto& primary = cluster.primary();
  const std::string table = "health_" + std::to_string(::getpid());
  Undo drop([&primary, table] { primary.Exec("cafe", "DROP TABLE IF EXISTS " + table); });
  // Autovacuum stays away from this table, so its gauges hold still and its auto* columns stay NULL.
  primary.Exec("cafe", "CREATE TABLE " + table +
                           " (id int PRIMARY KEY, n int, pad text) WITH (autovacuum_enabled = off, fillfactor = 50)");
  int pid = 0;
  {
    HeldSession session(primary.Dsn(PgCluster::kSuperuser, cluster.superuser_password(), "cafe"));
    pid = session.pid();
    session.Exec("INSERT INTO " + table + " SELECT g, 0, 'x' FROM generate_series(1, 300) g");
    session.Exec("UPDATE " + table + " SET n = n + 1 WHERE id <= 40");       // HOT: no indexed column changes
    session.Exec("UPDATE " + table + " SET id = id + 1000 WHERE id > 290");  // not HOT
    session.Exec("DELETE FROM " + table + " WHERE id BETWEEN 100 AND 119");
    session.Exec("SELECT count(*) FROM " + table);
    session.Exec("SET enable_seqscan = off; SET enable_bitmapscan = off; SELECT n FROM " + table + " WHERE id = 7");
  }
  ASSERT_TRUE(WaitForExit(primary, {pid}));
  primary.Exec("cafe", "VACUUM " + table);
  primary.Exec("cafe", "ANALYZE " + table);
  primary.Exec("cafe", "UPDATE " + table + " SET n = n + 1 WHERE id <= 5");
  // Before 15 the statistics collector takes VACUUM's and ANALYZE's reports a moment later.
  ASSERT_TRUE(WaitUntil(primary, "cafe",
                        "SELECT last_vacuum IS NOT NULL AND last_analyze IS NOT NULL AND n_mod_since_analyze = 5 "
                        "FROM pg_stat_user_tables WHERE relname = '" +
                            table + "'"));

  const std::string sql =
      "SELECT schemaname, relname" + TableColumns() + " FROM pg_stat_user_tables ORDER BY schemaname, relname";
  const std::vector<std::string> databases = {"cafe", "erp"};
  const auto [before, after, body] = ScrapeBetweenRows(databases, sql);
  EXPECT_EQ(Value(body, "pgpulse_collector_success", {{"target", "primary"}, {"collector", "stat_user_tables"}}), 1);
  EXPECT_EQ(Value(body, "pgpulse_collector_series_limit_hits_total",
                  {{"target", "primary"}, {"collector", "stat_user_tables"}}),
            0);
  for (size_t d = 0; d < databases.size(); ++d) {
    ASSERT_EQ(before[d].size(), after[d].size()) << "tables came or went in " << databases[d];
    ASSERT_GT(before[d].size(), 0u) << databases[d];
    for (size_t i = 0; i < before[d].size(); ++i) {
      const auto& was = before[d][i];
      const auto& now = after[d][i];
      ASSERT_EQ(was[1], now[1]);
      const std::map<std::string, std::string> labels = {
          {"target", "primary"}, {"datname", databases[d]}, {"schemaname", *was[0]}, {"relname", *was[1]}};
      size_t column = 2;
      for (const auto& name : kTableCounters) {
        ExpectCounter(body, "pg_stat_user_tables_" + name, labels, Number(was[column]), Number(now[column]));
        ++column;
      }
      // Autovacuum may change a gauge during the scrape (erp's pgbench tables): then it lies between the reads.
      for (size_t g = 0; g < kTableGauges.size() + kTableTimes.size(); ++g, ++column) {
        const auto& name = g < kTableGauges.size() ? kTableGauges[g] : kTableTimes[g - kTableGauges.size()];
        const auto low = Number(was[column]), high = Number(now[column]);
        const auto value = Value(body, "pg_stat_user_tables_" + name, labels);
        if (!low && !high) {
          EXPECT_FALSE(value) << name << Describe(labels) << " is exported where PostgreSQL has NULL";
        } else if (low && high) {
          ExpectWithin(value, std::min(*low, *high), std::max(*low, *high), name + Describe(labels));
        }
      }
    }
    EXPECT_EQ(SeriesIn(body, "pg_stat_user_tables_n_tup_ins", "primary", databases[d]), before[d].size())
        << "one series per table of " << databases[d];
  }

  // The test's own table, which only this test touches: exact values.
  const std::map<std::string, std::string> mine = {
      {"target", "primary"}, {"datname", "cafe"}, {"schemaname", "public"}, {"relname", table}};
  const auto expect = [&](const std::string& column, double value) {
    EXPECT_EQ(Value(body, "pg_stat_user_tables_" + column, mine), value) << column;
  };
  expect("n_tup_ins", 300);
  expect("n_tup_upd", 55);
  expect("n_tup_del", 20);
  expect("n_live_tup", 280);
  expect("n_mod_since_analyze", 5);
  expect("vacuum_count", 1);
  expect("analyze_count", 1);
  expect("autovacuum_count", 0);
  expect("autoanalyze_count", 0);
  EXPECT_GT(Value(body, "pg_stat_user_tables_n_tup_hot_upd", mine).value_or(-1), 0);
  EXPECT_GE(Value(body, "pg_stat_user_tables_seq_scan", mine).value_or(-1), 1);
  EXPECT_GE(Value(body, "pg_stat_user_tables_idx_scan", mine).value_or(-1), 1);
  // Unix seconds, to the microsecond PostgreSQL keeps.
  const auto times = Row(primary, "cafe",
                         "SELECT extract(epoch FROM last_vacuum)::float8, extract(epoch FROM last_analyze)::float8 "
                         "FROM pg_stat_user_tables WHERE relname = '" +
                             table + "'");
  EXPECT_EQ(Value(body, "pg_stat_user_tables_last_vacuum", mine), times[0]);
  EXPECT_EQ(Value(body, "pg_stat_user_tables_last_analyze", mine), times[1]);
  EXPECT_GT(times[0].value_or(0), UnixNow() - 600);
  EXPECT_FALSE(Value(body, "pg_stat_user_tables_last_autovacuum", mine)) << "never: absent, not 0";
  EXPECT_FALSE(Value(body, "pg_stat_user_tables_last_autoanalyze", mine)) << "never: absent, not 0";
  // A table without an index has no index scans to count: absent, as the view's NULL.
  EXPECT_FALSE(Value(body, "pg_stat_user_tables_idx_scan", {{"target", "primary"}, {"relname", "pgbench_history"}}));
  EXPECT_TRUE(Value(body, "pg_stat_user_tables_seq_scan", {{"target", "primary"}, {"relname", "pgbench_history"}}));
}

TEST_F(CollectorsTest, IndexStatisticsShowUnusedAndInvalidIndexes) {
  auto& primary = cluster.primary();
  const std::string table = "health_idx_" + std::to_string(::getpid());
  Undo drop([&primary, table] { primary.Exec("cafe", "DROP TABLE IF EXISTS " + table); });
  primary.Exec("cafe", "CREATE TABLE " + table + " (id int PRIMARY KEY, code int) WITH (autovacuum_enabled = off)");
  primary.Exec("cafe", "INSERT INTO " + table + " SELECT g, g % 10 FROM generate_series(1, 2000) g");
  primary.Exec("cafe", "CREATE INDEX " + table + "_unused ON " + table + " (code)");
  // Duplicate codes make the unique build fail, and a failed CREATE INDEX CONCURRENTLY leaves its index behind,
  // invalid. Each statement on its own: CONCURRENTLY refuses to run in a transaction block.
  EXPECT_THROW(primary.Exec("cafe", "CREATE UNIQUE INDEX CONCURRENTLY " + table + "_invalid ON " + table + " (code)"),
               std::runtime_error);
  int pid = 0;
  {
    HeldSession session(primary.Dsn(PgCluster::kSuperuser, cluster.superuser_password(), "cafe"));
    pid = session.pid();
    session.Exec("SET enable_seqscan = off; SET enable_bitmapscan = off; SELECT code FROM " + table +
                 " WHERE id BETWEEN 5 AND 9");
  }
  ASSERT_TRUE(WaitForExit(primary, {pid}));
  // Before 15, the exiting session's counts reach readers through the statistics collector, a moment later.
  ASSERT_TRUE(WaitUntil(primary, "cafe",
                        "SELECT idx_scan >= 1 FROM pg_stat_user_indexes WHERE indexrelname = '" + table + "_pkey'"));

  const std::string sql =
      "SELECT s.schemaname, s.relname, s.indexrelname, s.idx_scan, s.idx_tup_read, s.idx_tup_fetch, "
      "c.relpages::bigint * current_setting('block_size')::bigint, i.indisvalid::int "
      "FROM pg_stat_user_indexes s JOIN pg_index i USING (indexrelid) JOIN pg_class c ON c.oid = s.indexrelid "
      "ORDER BY 1, 2, 3";
  const std::vector<std::string> databases = {"cafe", "erp"};
  const auto [before, after, body] = ScrapeBetweenRows(databases, sql);
  EXPECT_EQ(Value(body, "pgpulse_collector_success", {{"target", "primary"}, {"collector", "stat_user_indexes"}}), 1);
  const std::vector<std::string> counters = {"idx_scans_total", "idx_tup_reads_total", "idx_tup_fetches_total"};
  for (size_t d = 0; d < databases.size(); ++d) {
    ASSERT_EQ(before[d].size(), after[d].size()) << "indexes came or went in " << databases[d];
    ASSERT_GT(before[d].size(), 0u) << databases[d];
    for (size_t i = 0; i < before[d].size(); ++i) {
      const auto& was = before[d][i];
      const auto& now = after[d][i];
      const std::map<std::string, std::string> labels = {{"target", "primary"},
                                                         {"datname", databases[d]},
                                                         {"schemaname", *was[0]},
                                                         {"relname", *was[1]},
                                                         {"indexrelname", *was[2]}};
      for (size_t c = 0; c < counters.size(); ++c) {
        ExpectCounter(body, "pg_stat_user_indexes_" + counters[c], labels, Number(was[3 + c]), Number(now[3 + c]));
      }
      // relpages changes only under VACUUM, ANALYZE or CREATE INDEX; a concurrent autovacuum is bracketed.
      const double size_low = std::min(std::stod(*was[6]), std::stod(*now[6]));
      const double size_high = std::max(std::stod(*was[6]), std::stod(*now[6]));
      ExpectWithin(Value(body, "pg_stat_user_indexes_size_bytes", labels), size_low, size_high,
                   "size_bytes" + Describe(labels));
      EXPECT_EQ(Value(body, "pg_stat_user_indexes_valid", labels), std::stod(*was[7])) << Describe(labels);
    }
    EXPECT_EQ(SeriesIn(body, "pg_stat_user_indexes_valid", "primary", databases[d]), before[d].size())
        << "one series per index of " << databases[d];
  }

  const auto index = [&](const std::string& name) {
    return std::map<std::string, std::string>{
        {"target", "primary"}, {"datname", "cafe"}, {"relname", table}, {"indexrelname", table + name}};
  };
  EXPECT_EQ(Value(body, "pg_stat_user_indexes_valid", index("_invalid")), 0);
  EXPECT_EQ(Value(body, "pg_stat_user_indexes_size_bytes", index("_invalid")), 0) << "a failed build sets no size";
  EXPECT_EQ(Value(body, "pg_stat_user_indexes_valid", index("_unused")), 1);
  EXPECT_EQ(Value(body, "pg_stat_user_indexes_idx_scans_total", index("_unused")), 0);
  // CREATE INDEX records the size it built: a brand-new index has one without any VACUUM or ANALYZE.
  EXPECT_EQ(Value(body, "pg_stat_user_indexes_size_bytes", index("_unused")),
            Psql("cafe", "SELECT pg_relation_size('" + table + "_unused')"));
  EXPECT_GE(Value(body, "pg_stat_user_indexes_idx_scans_total", index("_pkey")).value_or(-1), 1);
  EXPECT_GE(Value(body, "pg_stat_user_indexes_idx_tup_fetches_total", index("_pkey")).value_or(-1), 5);
}

// max_rows keeps the largest tables of a database (and the invalid indexes first), counts the refreshes that
// dropped rows, and logs once. The suite's exporter skips scratch databases, so this one has an exporter of its own.
TEST_F(CollectorsTest, MaxRowsKeepsTheLargestTablesOfADatabase) {
  auto& primary = cluster.primary();
  ScratchDatabase scratch(primary, "max_rows");
  // 50 tables of distinct sizes, t01 the smallest, each with an index; ANALYZE records their sizes in relpages.
  primary.Exec(scratch.name(),
               "DO $$ BEGIN FOR i IN 1..50 LOOP "
               "EXECUTE format('CREATE TABLE t%s (id int PRIMARY KEY) WITH (autovacuum_enabled = off)', "
               "lpad(i::text, 2, '0'));"
               "EXECUTE format('INSERT INTO t%s SELECT generate_series(1, %s)', lpad(i::text, 2, '0'), i * 500);"
               "END LOOP; END $$");
  primary.Exec(scratch.name(), "CREATE TABLE dup (code int) WITH (autovacuum_enabled = off)");
  primary.Exec(scratch.name(), "INSERT INTO dup VALUES (1), (1)");
  EXPECT_THROW(primary.Exec(scratch.name(), "CREATE UNIQUE INDEX CONCURRENTLY dup_invalid ON dup (code)"),
               std::runtime_error);
  primary.Exec(scratch.name(), "ANALYZE");
  const auto largest = [&](const std::string& sql) {
    std::set<std::string> names;
    for (const auto& row : primary.Query(scratch.name(), sql)) names.insert(*row[0]);
    return names;
  };
  const auto tables = largest(
      "SELECT relname FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace "
      "ORDER BY relpages DESC, relname LIMIT 10");
  const auto indexes = largest(
      "SELECT c.relname FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid "
      "WHERE c.relnamespace = 'public'::regnamespace ORDER BY i.indisvalid, c.relpages DESC, c.relname LIMIT 5");
  ASSERT_EQ(tables.size(), 10u);
  ASSERT_TRUE(tables.count("t50") && !tables.count("t40")) << "distinct sizes, t41 to t50 the largest";
  ASSERT_TRUE(indexes.count("dup_invalid"));

  const auto config = WriteTempFile(
      "targets:\n"
      "  - name: capped\n"
      "    dsn: '" +
          primary.Dsn(PgCluster::kReportingUser, cluster.reporting_password()) +
          "'\n"
          "    databases: {include: [" +
          scratch.name() +
          "]}\n"
          "collectors:\n"
          "  stat_user_tables: {ttl: 0s, max_rows: 10}\n"
          "  stat_user_indexes: {ttl: 0s, max_rows: 5}\n",
      ".yml");
  ExporterProcess capped({"--config.file=" + config});
  capped.Get("/metrics");
  const auto body = capped.Get("/metrics").body;
  std::set<std::string> kept_tables, kept_indexes;
  for (const auto& sample : ParseSamples(body)) {
    if (sample.name == "pg_stat_user_tables_seq_scan") kept_tables.insert(sample.labels.at("relname"));
    if (sample.name == "pg_stat_user_indexes_valid") kept_indexes.insert(sample.labels.at("indexrelname"));
  }
  EXPECT_EQ(kept_tables, tables) << body;
  EXPECT_EQ(kept_indexes, indexes) << body;
  EXPECT_EQ(CountSamples(body, "pg_stat_user_tables_n_live_tup"), 10u);
  EXPECT_EQ(Value(body, "pg_stat_user_tables_n_live_tup", {{"relname", "t50"}}), 25000);
  for (const std::string collector : {"stat_user_tables", "stat_user_indexes"}) {
    EXPECT_EQ(Value(body, "pgpulse_collector_success", {{"collector", collector}}), 1) << collector;
    // One hit per refresh that dropped rows: the start's and each scrape's that did not share it.
    EXPECT_GE(Value(body, "pgpulse_collector_series_limit_hits_total", {{"collector", collector}}).value_or(0), 1)
        << collector;
  }
  const auto output = capped.process().Output();
  const auto first = output.find("collector hit max_rows");
  ASSERT_NE(first, std::string::npos) << output;
  EXPECT_NE(output.find("stat_user_tables", first), std::string::npos);
  size_t logs = 0;
  for (auto at = first; at != std::string::npos; at = output.find("collector hit max_rows", at + 1)) ++logs;
  EXPECT_EQ(logs, 2u) << "logged once per collector:\n" << output;
  EXPECT_EQ(output.find("collector hit max_series"), std::string::npos) << output;
}

}  // namespace
}  // namespace pgpulse::testing
