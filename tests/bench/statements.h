// What pg_stat_statements says each exporter's role ran. Only top-level statements count: track=all also records
// statements nested in functions, which must not be counted twice.
#ifndef PGPULSE_TESTS_BENCH_STATEMENTS_H_
#define PGPULSE_TESTS_BENCH_STATEMENTS_H_

#include <string>
#include <vector>

#include "tests/harness/pg_server.h"

namespace pgpulse::bench {

// Sums over the role's statements, as the server prints them (times rounded to 3 decimals).
struct StatementTotals {
  std::string exec_ms = "0";
  std::string plan_ms = "0";
  std::string calls = "0";
};
StatementTotals Totals(const testing::PgServer& server, const std::string& role);
void Reset(const testing::PgServer& server, const std::string& role);

// Calls of pgpulse's table statistics statement (the one tagged /* pgpulse:statio_user_tables */) per database.
struct DatabaseCalls {
  std::string datname;
  double calls = 0;
};
std::vector<DatabaseCalls> StatioCallsByDatabase(const testing::PgServer& server, const std::string& role);

// Calls of the cluster-wide pg_stat_database query: how many refreshes ran.
std::string StatDatabaseCalls(const testing::PgServer& server, const std::string& role);

// Per scrape of a window of `scrapes` scrapes.
struct TimeShare {
  std::string name;  // a query (whitespace squeezed, first 90 characters) or a collector ("-": untagged)
  double calls = 0;
  double exec_ms = 0;
  double plan_ms = 0;
};
// The 8 queries (summed over all databases by queryid) with the most execution + planning time.
std::vector<TimeShare> TopQueries(const testing::PgServer& server, const std::string& role, int scrapes);
// pgpulse's time by collector: it names the collector in a comment in each collector statement,
// /* pgpulse:<name> */, which pg_stat_statements keeps in its text (the queryid ignores comments). Untagged: session
// set-up, capability checks, BEGIN/ROLLBACK around each collector statement.
std::vector<TimeShare> TimeByCollector(const testing::PgServer& server, const std::string& role, int scrapes);

// pg_stat_statements_info.dealloc: entries evicted since the last full reset (must be 0).
std::string Deallocations(const testing::PgServer& server);

}  // namespace pgpulse::bench

#endif  // PGPULSE_TESTS_BENCH_STATEMENTS_H_
