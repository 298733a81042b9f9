#include "tests/bench/pg_session.h"

#include "tests/bench/run_control.h"

namespace pgpulse::bench {
namespace {

std::string Trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

}  // namespace

PgSession::PgSession(const testing::PgServer& server, const std::string& db)
    : PgSession("host=" + testing::QuoteConninfoValue(server.socket_dir()) + " port=" + std::to_string(server.port()) +
                " user=postgres dbname=" + testing::QuoteConninfoValue(db) + " application_name=pgpulse_bench") {}

PgSession::PgSession(const std::string& conninfo) : connection_(PQconnectdb(conninfo.c_str())) {
  if (connection_ == nullptr) throw BenchError("libpq: out of memory");
  if (PQstatus(connection_) != CONNECTION_OK) {
    const std::string message = Trimmed(PQerrorMessage(connection_));
    PQfinish(connection_);
    throw BenchError("cannot connect (" + testing::RedactConninfo(conninfo) + "): " + message);
  }
}

PgSession::~PgSession() { PQfinish(connection_); }

testing::Rows PgSession::Query(const std::string& sql) {
  PGresult* result = PQexec(connection_, sql.c_str());
  const ExecStatusType status = result != nullptr ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    const std::string message = Trimmed(result != nullptr ? PQresultErrorMessage(result) : PQerrorMessage(connection_));
    PQclear(result);
    throw BenchError("query failed: " + message + "\n  in: " + sql);
  }
  testing::Rows rows;
  for (int row = 0; row < PQntuples(result); ++row) {
    auto& values = rows.emplace_back();
    for (int column = 0; column < PQnfields(result); ++column) {
      if (PQgetisnull(result, row, column)) {
        values.emplace_back(std::nullopt);
      } else {
        values.emplace_back(std::string(PQgetvalue(result, row, column), PQgetlength(result, row, column)));
      }
    }
  }
  PQclear(result);
  return rows;
}

}  // namespace pgpulse::bench
