// What changed across PostgreSQL versions, against the real servers of whichever major the run uses: the 17+
// checkpointer's restartpoints (and 18's num_done and slru_written), pg_stat_wal (14+), pg_stat_database's session
// statistics (14+) and checksum failures, and pg_settings' pending restarts. Where the server has the family, each
// value equals what psql reads around the same scrape, after the test made it move; where it lacks it, the series are
// absent and the collector still succeeds or says it does not apply.
#include <libpq-fe.h>
#include <sys/socket.h>

#include "tests/e2e/collectors_fixture.h"

namespace pgpulse::testing {
namespace {

int ServerVersion(const PgServer& server) {
  return std::stoi(server.QueryValue("postgres", "SHOW server_version_num"));
}

// The collector ran on the target and succeeded.
void ExpectSucceeded(const std::string& body, const std::string& target, const std::string& collector) {
  EXPECT_EQ(MetricValue(body, "pgpulse_collector_success", {{"target", target}, {"collector", collector}}), 1)
      << collector << " on " << target;
}

// The collector has no query for this server's version: it says so once instead of failing.
void ExpectUnsupportedVersion(const std::string& body, const std::string& target, const std::string& collector) {
  EXPECT_EQ(MetricValue(body, "pgpulse_collector_enabled",
                        {{"target", target}, {"collector", collector}, {"reason", "unsupported_version"}}),
            0)
      << collector << " on " << target;
  EXPECT_FALSE(MetricValue(body, "pgpulse_collector_success", {{"target", target}, {"collector", collector}}))
      << collector << " on " << target;
}

void ExpectAbsent(const std::string& body, const std::string& name, const std::map<std::string, std::string>& labels) {
  EXPECT_FALSE(MetricValue(body, name, labels)) << name << Describe(labels) << " is exported";
}

// A session whose client goes away without saying goodbye: the socket is shut before PQfinish can send its
// Terminate message, so the server sees end-of-file, which PostgreSQL counts as an abandoned session.
int AbandonSession(const std::string& conninfo) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = PQerrorMessage(conn);
    PQfinish(conn);
    throw std::runtime_error("AbandonSession: " + message);
  }
  const int pid = PQbackendPID(conn);
  ::shutdown(PQsocket(conn), SHUT_RDWR);
  PQfinish(conn);
  return pid;
}

TEST_F(CollectorsTest, RestartpointsHaveTheirOwnSeriesAndStandbyWritesAreNotCheckpointWrites) {
  auto& primary = cluster.primary();
  auto& standby = cluster.standby();
  const int version = ServerVersion(primary);
  if (version < 170000) {
    const auto body = Scrape();
    for (const std::string target : {"primary", "standby"}) {
      ExpectSucceeded(body, target, "bgwriter");
      EXPECT_TRUE(Value(body, "pg_stat_bgwriter_buffers_checkpoint_total", {{"target", target}})) << target;
      for (const std::string name : {"restartpoints_timed_total", "restartpoints_req_total", "restartpoints_done_total",
                                     "restartpoint_buffers_written_total", "restartpoint_write_time_seconds_total",
                                     "restartpoint_sync_time_seconds_total", "num_done_total", "slru_written_total",
                                     "restartpoint_slru_written_total"}) {
        ExpectAbsent(body, "pg_stat_checkpointer_" + name, {{"target", target}});
      }
    }
    return;
  }
  const bool v18 = version >= 180000;
  // Dirty buffers on both servers (the standby dirties them replaying), a checkpoint on the primary, and once the
  // standby has replayed its record, a CHECKPOINT on the standby, which makes a restartpoint that writes them.
  Undo drop([&primary] { primary.Exec("postgres", "DROP TABLE IF EXISTS version_families_restartpoint"); });
  primary.Exec("postgres",
               "CREATE TABLE IF NOT EXISTS version_families_restartpoint (n int, pad text);"
               "INSERT INTO version_families_restartpoint SELECT g, repeat('x', 200) FROM generate_series(1, 20000) g");
  primary.Exec("postgres", "CHECKPOINT");
  ASSERT_TRUE(ReplayedOnStandby());
  const std::string counters =
      "SELECT restartpoints_timed, restartpoints_req, restartpoints_done, num_requested FROM pg_stat_checkpointer";
  const auto standby_before = Row(standby, "postgres", counters);
  standby.Exec("postgres", "CHECKPOINT");
  // The checkpointer reports a restartpoint a moment after CHECKPOINT returns.
  ASSERT_TRUE(WaitUntil(standby, "postgres",
                        "SELECT restartpoints_done > " + std::to_string(static_cast<long long>(*standby_before[2])) +
                            " FROM pg_stat_checkpointer"));
  const auto standby_after = Row(standby, "postgres", counters);
  EXPECT_GT(*standby_after[1], *standby_before[1]) << "a CHECKPOINT on a standby is a requested restartpoint";
  // From 17 on, num_requested counts checkpoints only: the standby's CHECKPOINT is not one.
  EXPECT_EQ(standby_after[3], standby_before[3]);

  const std::string sql = std::string(
                              "SELECT restartpoints_timed, restartpoints_req, restartpoints_done, buffers_written,"
                              " write_time / 1000, sync_time / 1000, write_time, sync_time, ") +
                          (v18 ? "num_done, slru_written" : "NULL::bigint, NULL::bigint") +
                          ", pg_is_in_recovery()::int FROM pg_stat_checkpointer";
  const auto between = ScrapeBetween({{primary, "postgres", sql}, {standby, "postgres", sql}});
  for (const auto& [target, read] :
       {std::pair<std::string, size_t>{"primary", 0}, std::pair<std::string, size_t>{"standby", 1}}) {
    ExpectSucceeded(between.body, target, "bgwriter");
    const auto& before = between.before[read];
    const auto& after = between.after[read];
    const std::map<std::string, std::string> labels = {{"target", target}};
    const bool recovery = *after[10] == 1;
    ASSERT_EQ(recovery, target == "standby");
    ExpectCounter(between.body, "pg_stat_checkpointer_restartpoints_timed_total", labels, before[0], after[0]);
    ExpectCounter(between.body, "pg_stat_checkpointer_restartpoints_req_total", labels, before[1], after[1]);
    ExpectCounter(between.body, "pg_stat_checkpointer_restartpoints_done_total", labels, before[2], after[2]);
    ExpectCounter(between.body, "pg_stat_checkpointer_num_done_total", labels, before[8], after[8]);
    // What buffers_written, write_time, sync_time and slru_written gain is a restartpoint's in recovery and a
    // checkpoint's out of it: one series or the other, never both.
    const std::string checkpoint_names[] = {
        "pg_stat_bgwriter_buffers_checkpoint_total", "pg_stat_bgwriter_checkpoint_write_time_total",
        "pg_stat_bgwriter_checkpoint_sync_time_total", "pg_stat_checkpointer_slru_written_total"};
    const std::string restartpoint_names[] = {"pg_stat_checkpointer_restartpoint_buffers_written_total",
                                              "pg_stat_checkpointer_restartpoint_write_time_seconds_total",
                                              "pg_stat_checkpointer_restartpoint_sync_time_seconds_total",
                                              "pg_stat_checkpointer_restartpoint_slru_written_total"};
    const size_t checkpoint_columns[] = {3, 6, 7, 9};    // milliseconds, as the old names had them
    const size_t restartpoint_columns[] = {3, 4, 5, 9};  // seconds
    for (size_t i = 0; i < 4; ++i) {
      const auto& exported = recovery ? restartpoint_names[i] : checkpoint_names[i];
      const auto& hidden = recovery ? checkpoint_names[i] : restartpoint_names[i];
      const size_t column = recovery ? restartpoint_columns[i] : checkpoint_columns[i];
      ExpectCounter(between.body, exported, labels, before[column], after[column]);
      ExpectAbsent(between.body, hidden, labels);
    }
  }
  // Not vacuous: the standby's restartpoint wrote the buffers its replay dirtied, and the primary has checkpointed.
  EXPECT_GT(Value(between.body, "pg_stat_checkpointer_restartpoints_done_total", {{"target", "standby"}}).value_or(0),
            *standby_before[2]);
  EXPECT_GT(Value(between.body, "pg_stat_checkpointer_restartpoint_buffers_written_total", {{"target", "standby"}})
                .value_or(0),
            0);
  if (v18) {
    EXPECT_GT(Value(between.body, "pg_stat_checkpointer_num_done_total", {{"target", "primary"}}).value_or(0), 0);
  }
}

TEST_F(CollectorsTest, WalCountersMatchPgStatWal) {
  auto& primary = cluster.primary();
  if (ServerVersion(primary) < 140000) {
    const auto body = Scrape();
    for (const std::string target : {"primary", "standby"}) {
      ExpectUnsupportedVersion(body, target, "stat_wal");
      for (const std::string name : {"records", "fpi", "bytes", "buffers_full"}) {
        ExpectAbsent(body, "pg_stat_wal_" + name + "_total", {{"target", target}});
      }
    }
    return;
  }
  const std::string sql = "SELECT wal_records, wal_fpi, wal_bytes, wal_buffers_full FROM pg_stat_wal";
  const auto start = Row(primary, "postgres", sql);
  // Records and bytes, and full-page images: the test servers run with full_page_writes off, but an index build logs
  // every page it writes as a whole-page image whatever that setting says.
  Undo drop([&primary] { primary.Exec("postgres", "DROP TABLE IF EXISTS version_families_wal"); });
  primary.Exec("postgres",
               "CREATE TABLE IF NOT EXISTS version_families_wal (n int);"
               "INSERT INTO version_families_wal SELECT generate_series(1, 10000);"
               "CREATE INDEX ON version_families_wal (n)");
  // A session hands its WAL statistics over as it exits, a moment after the client has gone.
  ASSERT_TRUE(WaitUntil(primary, "postgres",
                        "SELECT wal_fpi > " + std::to_string(static_cast<long long>(*start[1])) + " FROM pg_stat_wal"));
  const auto between = ScrapeBetween({{primary, "postgres", sql}, {cluster.standby(), "postgres", sql}});
  const std::string names[] = {"records", "fpi", "bytes", "buffers_full"};
  for (const auto& [target, read] :
       {std::pair<std::string, size_t>{"primary", 0}, std::pair<std::string, size_t>{"standby", 1}}) {
    ExpectSucceeded(between.body, target, "stat_wal");
    for (size_t i = 0; i < 4; ++i) {
      ExpectCounter(between.body, "pg_stat_wal_" + names[i] + "_total", {{"target", target}}, between.before[read][i],
                    between.after[read][i]);
    }
  }
  EXPECT_GT(Value(between.body, "pg_stat_wal_records_total", {{"target", "primary"}}).value_or(0), *start[0]);
  EXPECT_GT(Value(between.body, "pg_stat_wal_fpi_total", {{"target", "primary"}}).value_or(0), *start[1]);
  EXPECT_GT(Value(between.body, "pg_stat_wal_bytes_total", {{"target", "primary"}}).value_or(0), *start[2]);
}

TEST_F(CollectorsTest, SessionStatisticsMatchPgStatDatabaseInAScratchDatabase) {
  auto& primary = cluster.primary();
  auto& standby = cluster.standby();
  const bool sessions = ServerVersion(primary) >= 140000;
  ScratchDatabase scratch(primary, "sessions");
  const auto dsn = primary.Dsn(PgCluster::kSuperuser, cluster.superuser_password(), scratch.name());
  std::vector<int> pids;
  {
    // Ends normally, after some active time and some idle-in-transaction time.
    HeldSession normal(dsn);
    normal.Exec("SELECT pg_sleep(0.2)");
    normal.Exec("BEGIN");
    std::this_thread::sleep_for(200ms);
    normal.Exec("COMMIT");
    // Ended by a fatal error: the server closes a session idle in a transaction for too long.
    HeldSession fatal(dsn);
    fatal.Exec("SET idle_in_transaction_session_timeout = '100ms'; BEGIN");
    // Killed by an operator.
    HeldSession killed(dsn);
    pids = {normal.pid(), fatal.pid(), killed.pid()};
    primary.Exec("postgres", "SELECT pg_terminate_backend(" + std::to_string(killed.pid()) + ")");
    pids.push_back(AbandonSession(dsn));
    ASSERT_TRUE(WaitForExit(primary, {fatal.pid(), killed.pid(), pids.back()}));
  }
  ASSERT_TRUE(WaitForExit(primary, pids));
  // One session on the standby too, in the same (replicated) database.
  ASSERT_TRUE(ReplayedOnStandby());
  int standby_pid = 0;
  {
    HeldSession on_standby(standby.Dsn(PgCluster::kSuperuser, cluster.superuser_password(), scratch.name()));
    standby_pid = on_standby.pid();
    on_standby.Exec("SELECT pg_sleep(0.1)");
  }
  ASSERT_TRUE(WaitForExit(standby, {standby_pid}));
  if (sessions) {
    // The statistics of an exiting session arrive a moment after it has left pg_stat_activity.
    ASSERT_TRUE(WaitUntil(primary, "postgres",
                          "SELECT sessions = 4 AND sessions_killed = 1 AND sessions_fatal = 1 AND "
                          "sessions_abandoned = 1 FROM pg_stat_database WHERE datname = '" +
                              scratch.name() + "'"));
    ASSERT_TRUE(WaitUntil(standby, "postgres",
                          "SELECT sessions = 1 FROM pg_stat_database WHERE datname = '" + scratch.name() + "'"));
  }
  const std::vector<std::string> names = {"session_time_seconds_total",
                                          "active_time_seconds_total",
                                          "idle_in_transaction_time_seconds_total",
                                          "sessions_total",
                                          "sessions_abandoned_total",
                                          "sessions_fatal_total",
                                          "sessions_killed_total",
                                          "checksum_failures_total",
                                          "checksum_last_failure_seconds"};
  const std::string session_columns =
      sessions ? "session_time / 1000, active_time / 1000, idle_in_transaction_time / 1000, sessions,"
                 " sessions_abandoned, sessions_fatal, sessions_killed"
               : "NULL::float8, NULL::float8, NULL::float8, NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint";
  const std::string sql = "SELECT " + session_columns +
                          ", checksum_failures, extract(epoch FROM checksum_last_failure)::float8"
                          " FROM pg_stat_database WHERE datname = '" +
                          scratch.name() + "'";
  const auto between = ScrapeBetween({{primary, "postgres", sql}, {standby, "postgres", sql}});
  for (const auto& [target, read] :
       {std::pair<std::string, size_t>{"primary", 0}, std::pair<std::string, size_t>{"standby", 1}}) {
    ExpectSucceeded(between.body, target, "stat_database");
    const std::map<std::string, std::string> labels = {{"target", target}, {"datname", scratch.name()}};
    for (size_t i = 0; i < names.size(); ++i) {
      ExpectCounter(between.body, "pg_stat_database_" + names[i], labels, between.before[read][i],
                    between.after[read][i]);
    }
    // Only the test's sessions connect here (the exporter skips scratch_* databases): the counts are exact (the
    // times, through a 16-digit exposition, are bracketed above).
    for (size_t i = 3; i < 8; ++i) {
      EXPECT_EQ(Value(between.body, "pg_stat_database_" + names[i], labels), between.after[read][i])
          << target << " " << names[i];
    }
    // The series of every version stay.
    EXPECT_TRUE(Value(between.body, "pg_stat_database_xact_commit", labels)) << target;
  }
  if (!sessions) return;
  const std::map<std::string, std::string> primary_labels = {{"target", "primary"}, {"datname", scratch.name()}};
  EXPECT_EQ(Value(between.body, "pg_stat_database_sessions_total", primary_labels), 4);
  EXPECT_EQ(Value(between.body, "pg_stat_database_sessions_killed_total", primary_labels), 1);
  EXPECT_EQ(Value(between.body, "pg_stat_database_sessions_fatal_total", primary_labels), 1);
  EXPECT_EQ(Value(between.body, "pg_stat_database_sessions_abandoned_total", primary_labels), 1);
  EXPECT_GE(Value(between.body, "pg_stat_database_active_time_seconds_total", primary_labels).value_or(0), 0.2);
  EXPECT_GE(Value(between.body, "pg_stat_database_idle_in_transaction_time_seconds_total", primary_labels).value_or(0),
            0.2);
  EXPECT_GE(Value(between.body, "pg_stat_database_session_time_seconds_total", primary_labels).value_or(0), 0.4);
  EXPECT_EQ(
      Value(between.body, "pg_stat_database_sessions_total", {{"target", "standby"}, {"datname", scratch.name()}}), 1);
}

TEST_F(CollectorsTest, SettingsPendingRestartAreCounted) {
  auto& primary = cluster.primary();
  const std::string sql = "SELECT count(*) FILTER (WHERE pending_restart) FROM pg_settings";
  const auto start = Row(primary, "postgres", sql);
  const auto running = primary.QueryValue("postgres", "SHOW max_prepared_transactions");
  // A postmaster-context setting changed and reloaded waits for a restart. The value is first set back to the running
  // one, which clears the flag, and only then reset: a setting merely removed from the files may stay pending.
  SystemSetting changed(primary, "max_prepared_transactions", std::to_string(std::stoi(running) + 1));
  Undo back([&primary, &running] {
    primary.Exec("postgres", "ALTER SYSTEM SET max_prepared_transactions = " + running);
    primary.Exec("postgres", "SELECT pg_reload_conf()");
  });
  ASSERT_TRUE(WaitUntil(primary, "postgres",
                        "SELECT pending_restart FROM pg_settings WHERE name = 'max_prepared_transactions'"));
  const auto between = ScrapeBetween({{primary, "postgres", sql}, {cluster.standby(), "postgres", sql}});
  for (const auto& [target, read] :
       {std::pair<std::string, size_t>{"primary", 0}, std::pair<std::string, size_t>{"standby", 1}}) {
    ExpectSucceeded(between.body, target, "settings");
    ExpectWithin(Value(between.body, "pg_settings_pending_restart", {{"target", target}}), *between.before[read][0],
                 *between.after[read][0], target + " pg_settings_pending_restart");
  }
  EXPECT_EQ(Value(between.body, "pg_settings_pending_restart", {{"target", "primary"}}), *start[0] + 1);
  // ALTER SYSTEM writes the primary's own files only: the standby has nothing pending.
  EXPECT_EQ(Value(between.body, "pg_settings_pending_restart", {{"target", "standby"}}), 0);
  // The other settings' series keep the running value.
  EXPECT_TRUE(Value(between.body, "pg_settings_max_connections", {{"target", "primary"}}));
  back.Now();
  changed.Reset();
  EXPECT_TRUE(WaitUntil(primary, "postgres",
                        "SELECT NOT pending_restart FROM pg_settings WHERE name = 'max_prepared_transactions'"));
}

}  // namespace
}  // namespace pgpulse::testing
