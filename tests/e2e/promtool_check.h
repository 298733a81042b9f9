#pragma once

#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <string>

#include "tests/harness/metrics_text.h"

namespace pgpulse::testing {

// Names pgpulse keeps from postgres_exporter so existing dashboards work, which promtool's naming lint dislikes
// (counters without _total, gauges ending in _count). Exactly these may draw lint remarks; nothing else may.
inline const std::set<std::string>& PostgresExporterNames() {
  static const std::set<std::string> names = {
      "pg_locks_count",
      "pg_stat_activity_count",
      "pg_stat_archiver_archived_count",
      "pg_stat_archiver_failed_count",
      "pg_stat_database_blk_read_time",
      "pg_stat_database_blk_write_time",
      "pg_stat_database_blks_hit",
      "pg_stat_database_blks_read",
      "pg_stat_database_conflicts",
      "pg_stat_database_conflicts_confl_bufferpin",
      "pg_stat_database_conflicts_confl_deadlock",
      "pg_stat_database_conflicts_confl_lock",
      "pg_stat_database_conflicts_confl_snapshot",
      "pg_stat_database_conflicts_confl_tablespace",
      "pg_stat_database_deadlocks",
      "pg_stat_database_temp_bytes",
      "pg_stat_database_temp_files",
      "pg_stat_database_tup_deleted",
      "pg_stat_database_tup_fetched",
      "pg_stat_database_tup_inserted",
      "pg_stat_database_tup_returned",
      "pg_stat_database_tup_updated",
      "pg_stat_database_xact_commit",
      "pg_stat_database_xact_rollback",
      "pg_stat_user_tables_analyze_count",
      "pg_stat_user_tables_autoanalyze_count",
      "pg_stat_user_tables_autovacuum_count",
      "pg_stat_user_tables_idx_scan",
      "pg_stat_user_tables_idx_tup_fetch",
      "pg_stat_user_tables_n_tup_del",
      "pg_stat_user_tables_n_tup_hot_upd",
      "pg_stat_user_tables_n_tup_ins",
      "pg_stat_user_tables_n_tup_upd",
      "pg_stat_user_tables_seq_scan",
      "pg_stat_user_tables_seq_tup_read",
      "pg_stat_user_tables_vacuum_count",
      "pg_statio_user_tables_heap_blocks_hit",
      "pg_statio_user_tables_heap_blocks_read",
      "pg_statio_user_tables_idx_blocks_hit",
      "pg_statio_user_tables_idx_blocks_read",
      "pg_statio_user_tables_tidx_blocks_hit",
      "pg_statio_user_tables_tidx_blocks_read",
      "pg_statio_user_tables_toast_blocks_hit",
      "pg_statio_user_tables_toast_blocks_read",
  };
  return names;
}

// promtool must parse the exposition (exit 1 means it could not), and its lint may only remark on the names above.
inline void ExpectPromtoolAccepts(const std::string& exposition) {
  const auto check = PromtoolCheckMetrics(exposition);
  EXPECT_TRUE(check.exit_code == 0 || check.exit_code == 3) << "promtool rejected the exposition:\n" << check.output;
  std::istringstream lines(check.output);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    const auto metric = line.substr(0, line.find(' '));
    EXPECT_TRUE(PostgresExporterNames().count(metric)) << "promtool remark on a name pgpulse chose: " << line;
  }
}

}  // namespace pgpulse::testing
