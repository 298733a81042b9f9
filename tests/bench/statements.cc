#include "tests/bench/statements.h"

#include "tests/bench/run_control.h"
#include "tests/harness/libpq_client.h"

namespace pgpulse::bench {
namespace {

std::string OfRole(const std::string& role) {
  return " WHERE userid = " + testing::QuoteSqlLiteral(role) + "::regrole AND toplevel";
}

std::vector<TimeShare> Shares(const testing::Rows& rows) {
  std::vector<TimeShare> shares;
  for (const auto& row : rows) {
    shares.push_back({row.at(0).value_or(""), Number(row.at(1).value_or("0")), Number(row.at(2).value_or("0")),
                      Number(row.at(3).value_or("0"))});
  }
  return shares;
}

}  // namespace

StatementTotals Totals(const testing::PgServer& server, const std::string& role) {
  const testing::Rows rows = server.Query(
      "postgres",
      "SELECT round(coalesce(sum(total_exec_time), 0)::numeric, 3), round(coalesce(sum(total_plan_time), 0)::numeric, "
      "3), coalesce(sum(calls), 0) FROM pg_stat_statements" +
          OfRole(role));
  return {rows.at(0).at(0).value_or("0"), rows.at(0).at(1).value_or("0"), rows.at(0).at(2).value_or("0")};
}

void Reset(const testing::PgServer& server, const std::string& role) {
  server.Exec("postgres", "SELECT pg_stat_statements_reset(" + testing::QuoteSqlLiteral(role) + "::regrole::oid)");
}

std::vector<DatabaseCalls> StatioCallsByDatabase(const testing::PgServer& server, const std::string& role) {
  const testing::Rows rows =
      server.Query("postgres",
                   "SELECT d.datname, s.calls FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid"
                   " WHERE s.userid = " +
                       testing::QuoteSqlLiteral(role) +
                       "::regrole AND s.toplevel AND s.query LIKE '%/* pgpulse:statio_user_tables */%'");
  std::vector<DatabaseCalls> calls;
  for (const auto& row : rows) calls.push_back({row.at(0).value_or(""), Number(row.at(1).value_or("0"))});
  return calls;
}

std::string StatDatabaseCalls(const testing::PgServer& server, const std::string& role) {
  return server.QueryValue("postgres", "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements" + OfRole(role) +
                                           " AND query ILIKE '%FROM pg_stat_database%'"
                                           " AND query NOT ILIKE '%pg_stat_database_conflicts%'");
}

std::vector<TimeShare> TopQueries(const testing::PgServer& server, const std::string& role, int scrapes) {
  const std::string n = std::to_string(scrapes);
  return Shares(server.Query(
      "postgres", "SELECT left(regexp_replace(min(query), '\\s+', ' ', 'g'), 90), sum(calls)::float8 / " + n +
                      ", sum(total_exec_time) / " + n + ", sum(total_plan_time) / " + n + " FROM pg_stat_statements" +
                      OfRole(role) + " GROUP BY queryid ORDER BY sum(total_exec_time + total_plan_time) DESC LIMIT 8"));
}

std::vector<TimeShare> TimeByCollector(const testing::PgServer& server, const std::string& role, int scrapes) {
  const std::string n = std::to_string(scrapes);
  return Shares(server.Query(
      "postgres",
      "SELECT coalesce(substring(query FROM '/\\* pgpulse:([a-z0-9_]+) \\*/'), '-'), sum(calls)::float8 / " + n +
          ", sum(total_exec_time) / " + n + ", sum(total_plan_time) / " + n + " FROM pg_stat_statements" +
          OfRole(role) + " GROUP BY 1 ORDER BY sum(total_exec_time + total_plan_time) DESC"));
}

std::string Deallocations(const testing::PgServer& server) {
  return server.QueryValue("postgres", "SELECT dealloc FROM pg_stat_statements_info");
}

}  // namespace pgpulse::bench
