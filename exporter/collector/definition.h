#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pgpulse::collector {

// The oldest PostgreSQL the built-in collectors are written and tested for (scripts/test-matrix.sh runs 13 to 18).
// 12 is past its end of life; its SQL variants were dropped rather than shipped untested.
inline constexpr int kOldestSupportedServer = 130000;

enum class Scope { kCluster, kDatabase };
enum class Usage { kLabel, kGauge, kCounter };

// One SQL text for a range of server versions (server_version_num, both ends inclusive).
struct QueryVariant {
  int min_version = 0;
  int max_version = 0;  // 0: no upper bound
  std::string sql;
};

// How one result column becomes a label or a sample.
struct ColumnMapping {
  std::string column;
  Usage usage = Usage::kLabel;
  std::string label;  // label name (kLabel)
  std::string name;   // metric name (kGauge, kCounter)
  std::string help;
};

// Keeps the top rows of a high-cardinality result, with hysteresis, and sums the rest into one row per group.
struct TopSpec {
  std::string rank_by;                       // a gauge/counter column
  int limit = 100;                           // rows kept per group
  std::vector<std::string> group_by;         // label names (the loader translates from column names)
  std::chrono::milliseconds keep{600000};    // a kept row stays this long after leaving the top
  std::map<std::string, std::string> other;  // label name -> value for the remainder row
};

// A collector: SQL and a mapping from its columns to metrics, as loaded from one YAML file.
struct Definition {
  std::string name;
  std::string help;
  std::string origin;  // file it came from, for messages
  std::string source;  // the YAML text it was parsed from: a reload compares it to tell whether the collector changed
  Scope scope = Scope::kCluster;
  std::chrono::milliseconds ttl{0};
  std::chrono::milliseconds timeout{5000};
  bool primary_only = false;
  bool replica_only = false;
  std::string requires_extension;
  std::string requires_function;  // a regprocedure text, e.g. "pg_ls_waldir()"
  std::vector<QueryVariant> queries;
  std::vector<ColumnMapping> columns;
  std::optional<TopSpec> top;
  std::size_t max_series = 100000;  // per target and refresh; beyond it samples are dropped and the hit counted
  // Per result (each database's, for database scope): rows past it, in the query's order, are dropped and the hit
  // counted, so one database with thousands of tables cannot crowd out the others. 0: no cap.
  std::size_t max_rows = 0;
};

}  // namespace pgpulse::collector
