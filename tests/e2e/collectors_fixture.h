// The collectors' ground-truth fixture: one exporter watching a real primary and standby, and the helpers that
// compare what it exports with what psql reads around the same scrape. Shared by every CollectorsTest file, so the
// version matrix (scripts/test-matrix.sh) runs them all with one filter and one pair of servers.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cfloat>
#include <chrono>
#include <cmath>
#include <functional>
#include <set>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "exporter/collector/loader.h"
#include "tests/e2e/held_session.h"
#include "tests/e2e/promtool_check.h"
#include "tests/harness/exporter_process.h"
#include "tests/harness/metrics_text.h"
#include "tests/harness/pg_cluster.h"
#include "tests/harness/process.h"

namespace pgpulse::testing {

using namespace std::chrono_literals;

// A row of numbers read with psql, column by column; NULL is nullopt.
using Numbers = std::vector<std::optional<double>>;

inline double UnixNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Runs `undo` when the scope ends, also when a failed assertion ends the test early: the servers are shared, and a
// setting changed for one test must not leak into the next.
class Undo {
 public:
  explicit Undo(std::function<void()> undo) : undo_(std::move(undo)) {}
  ~Undo() { Now(); }
  Undo(const Undo&) = delete;
  Undo& operator=(const Undo&) = delete;

  void Now() {
    if (!undo_) return;
    auto undo = std::exchange(undo_, nullptr);
    try {
      undo();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "could not undo a test's change to the shared servers: " << e.what();
    }
  }

 private:
  std::function<void()> undo_;
};

// ALTER SYSTEM SET for one test, reloaded; RESET (and reloaded) when the scope ends, also on an early failure.
class SystemSetting {
 public:
  SystemSetting(PgServer& server, const std::string& name, const std::string& value)
      : undo_([&server, name] {
          server.Exec("postgres", "ALTER SYSTEM RESET " + name);
          server.Exec("postgres", "SELECT pg_reload_conf()");
        }) {
    server.Exec("postgres", "ALTER SYSTEM SET " + name + " = '" + value + "'");
    server.Exec("postgres", "SELECT pg_reload_conf()");
  }
  void Reset() { undo_.Now(); }  // before the scope ends

 private:
  Undo undo_;
};

// A database made for one test and dropped after it. The exporter is configured not to visit scratch_* databases,
// so only the test's own sessions (and autovacuum) move its counters.
class ScratchDatabase {
 public:
  ScratchDatabase(const PgServer& server, const std::string& purpose, const std::string& options = "")
      : server_(server),
        name_("scratch_" + purpose + "_" + std::to_string(::getpid()) + "_" + std::to_string(++made_)) {
    server_.Exec("postgres", "CREATE DATABASE " + name_ + " " + options);
  }
  ~ScratchDatabase() {
    try {
      server_.Exec("postgres", "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    } catch (const std::exception& e) {
      ADD_FAILURE() << "could not drop " << name_ << ": " << e.what();
    }
  }
  ScratchDatabase(const ScratchDatabase&) = delete;
  ScratchDatabase& operator=(const ScratchDatabase&) = delete;

  const std::string& name() const { return name_; }

 private:
  static inline int made_ = 0;  // names stay unique under --gtest_repeat
  const PgServer& server_;
  std::string name_;
};

// The built-in collectors that run on the target's own connection, one after another (scope: cluster).
inline std::set<std::string> ClusterScopeCollectors() {
  std::set<std::string> names;
  for (const auto& def : collector::LoadCollectors({})) {
    if (def.scope == collector::Scope::kCluster) names.insert(def.name);
  }
  return names;
}

inline std::string Describe(const std::map<std::string, std::string>& labels) {
  std::string text = "{";
  for (const auto& [name, value] : labels) text += (text.size() > 1 ? "," : "") + name + "=\"" + value + "\"";
  return text + "}";
}

// Polls `sql` (one boolean) on `server` until it is true. A failed poll is retried: on a standby, replay may cancel
// it.
inline bool WaitUntil(const PgServer& server, const std::string& db, const std::string& sql,
                      std::chrono::seconds timeout = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  do {
    try {
      if (server.QueryValue(db, sql) == "t") return true;
    } catch (const std::runtime_error&) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  } while (std::chrono::steady_clock::now() < deadline);
  return false;
}

// The `targets:` of a config that watches the shared cluster, both labelled cluster="shared": the primary (password
// from a file, a storage limit) and the standby, both leaving out the tests' scratch databases; `more_targets` go in
// between.
inline std::string PrimaryAndStandbyTargets(PgCluster& cluster, const std::string& more_targets = "") {
  return "targets:\n"
         "  - name: primary\n"
         "    dsn: '" +
         cluster.primary().DsnNoPassword(PgCluster::kReportingUser) +
         "'\n"
         "    password_file: " +
         WriteTempFile(cluster.reporting_password() + "\n") +
         "\n"
         "    storage_limit_bytes: 21474836480\n"
         "    labels: {cluster: shared}\n"
         "    databases: {exclude: ['/^scratch_/']}\n" +
         more_targets +
         "  - name: standby\n"
         "    dsn: '" +
         cluster.standby().Dsn(PgCluster::kReportingUser, cluster.reporting_password()) +
         "'\n"
         "    labels: {cluster: shared}\n"
         "    databases: {exclude: ['/^scratch_/']}\n";
}

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
        PrimaryAndStandbyTargets(cluster,
                                 "  - name: treasury-db\n"
                                 "    dsn: '" +
                                     primary.Dsn(PgCluster::kReportingUser, cluster.reporting_password(), "treasury") +
                                     "'\n"
                                     "    databases: {include: [treasury]}\n") +
            "collectors:\n"
            "  database: {ttl: 0s}\n"
            "  stat_statements: {ttl: 0s}\n"
            "  stat_statements_totals: {ttl: 0s}\n"
            "  statio_user_tables: {ttl: 0s}\n"
            "  statio_user_indexes: {ttl: 0s}\n"
            "  table_sizes: {ttl: 0s}\n"
            "  sequences: {ttl: 0s}\n"
            "  stat_user_tables: {ttl: 0s}\n"
            "  stat_user_indexes: {ttl: 0s}\n"
            "custom_collectors: [" +
            custom_dir_->path() + "]\n",
        ".yml");
    exporter_ = new ExporterProcess({"--config.file=" + config});
    // Every target refreshes once at startup, and a scrape that arrives meanwhile shares that refresh, whose reads
    // predate the scrape. Waiting it out here gives every test's scrape a refresh of its own.
    Scrape();
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

  // The first row `sql` returns on `server`, as numbers.
  static Numbers Row(const PgServer& server, const std::string& db, const std::string& sql) {
    const auto rows = server.Query(db, sql);
    if (rows.empty()) throw std::runtime_error("no row from: " + sql);
    Numbers numbers;
    for (const auto& cell : rows[0]) numbers.push_back(cell ? std::optional<double>(std::stod(*cell)) : std::nullopt);
    return numbers;
  }

  // A query read just before and just after a scrape.
  struct Read {
    const PgServer& server;
    std::string db;
    std::string sql;
  };

  // What the reads saw around one scrape. The exporter read the servers in between, so a counter it exports lies
  // between the two reads, and a value both reads agree on is, in practice, the one it saw.
  struct Between {
    std::vector<Numbers> before, after;  // one row per Read
    std::string body;
    double start = 0, end = 0;  // Unix time just before the request and just after the answer
  };

  static Between ScrapeBetween(const std::vector<Read>& reads) {
    Between between;
    for (const auto& read : reads) between.before.push_back(Row(read.server, read.db, read.sql));
    between.start = UnixNow();
    between.body = Scrape();
    between.end = UnixNow();
    for (const auto& read : reads) between.after.push_back(Row(read.server, read.db, read.sql));
    return between;
  }

  // Every row `sql` returns in each of `databases` on the primary, read just before and just after one scrape: the
  // per-table and per-index families, compared row by row.
  struct RowsAround {
    std::vector<Rows> before, after;  // one entry per database
    std::string body;
  };

  static RowsAround ScrapeBetweenRows(const std::vector<std::string>& databases, const std::string& sql) {
    const auto& primary = PgCluster::Shared().primary();
    RowsAround around;
    for (const auto& db : databases) around.before.push_back(primary.Query(db, sql));
    around.body = Scrape();
    for (const auto& db : databases) around.after.push_back(primary.Query(db, sql));
    return around;
  }

  // ScrapeBetween, again until `settled`: values that change only now and then (a standby's reply, a new WAL
  // segment) can change during a scrape, and such a scrape is retried rather than misjudged.
  static Between ScrapeUntil(const std::vector<Read>& reads, const std::function<bool(const Between&)>& settled) {
    Between between;
    for (int attempt = 0; attempt < 5; ++attempt) {
      between = ScrapeBetween(reads);
      if (settled(between)) break;
    }
    return between;
  }

  static bool Still(const Between& between) { return between.before == between.after; }

  // `value` lies in [low, high], give or take the rounding of a 16-digit exposition.
  static void ExpectWithin(std::optional<double> value, double low, double high, const std::string& what) {
    ASSERT_TRUE(value) << what << " is not exported";
    const double slack = 4 * DBL_EPSILON * std::max(std::abs(low), std::abs(high));
    EXPECT_GE(*value, low - slack) << what;
    EXPECT_LE(*value, high + slack) << what;
  }

  // A counter the exporter read between two reads of it; absent where PostgreSQL has NULL.
  static void ExpectCounter(const std::string& body, const std::string& name,
                            const std::map<std::string, std::string>& labels, std::optional<double> before,
                            std::optional<double> after) {
    const auto value = Value(body, name, labels);
    if (!before && !after) {
      EXPECT_FALSE(value) << name << Describe(labels) << " is exported where PostgreSQL has NULL";
      return;
    }
    ASSERT_TRUE(before && after) << name << Describe(labels) << " turned NULL or non-NULL during the scrape";
    ExpectWithin(value, *before, *after, name + Describe(labels));
  }

  // Before 15, statistics reach readers through the statistics collector's file, which a reader accepts up to 500 ms
  // old: two readers close in time can see different counts. Waits until `sql` reads the same twice, 600 ms apart, so
  // that every reader (the exporter included) sees what psql sees.
  static bool WaitForSettledStatistics(const PgServer& server, const std::string& db, const std::string& sql,
                                       std::chrono::seconds timeout = 30s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto previous = server.Query(db, sql);
    while (std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(600ms);
      auto current = server.Query(db, sql);
      if (current == previous) return true;
      previous = std::move(current);
    }
    return false;
  }

  // A session hands its statistics over when it exits, before it leaves pg_stat_activity; this waits for that.
  static bool WaitForExit(const PgServer& server, const std::vector<int>& pids) {
    std::string list;
    for (int pid : pids) list += (list.empty() ? "" : ",") + std::to_string(pid);
    return WaitUntil(server, "postgres",
                     "SELECT NOT EXISTS (SELECT FROM pg_stat_activity WHERE pid IN (" + list + "))");
  }

  // Commits a row on the primary and waits until the standby shows it, so everything before it is replayed.
  bool ReplayedOnStandby() {
    const auto marker = std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
    cluster.primary().Exec("postgres",
                           "SET client_min_messages = warning; CREATE TABLE IF NOT EXISTS replication_probe (n bigint);"
                           "INSERT INTO replication_probe VALUES (" +
                               marker + ")");
    return WaitUntil(cluster.standby(), "postgres",
                     "SELECT EXISTS (SELECT FROM replication_probe WHERE n = " + marker + ")");
  }

  PgCluster& cluster = PgCluster::Shared();
  static inline ExporterProcess* exporter_ = nullptr;
  static inline TempDir* custom_dir_ = nullptr;
};

}  // namespace pgpulse::testing
