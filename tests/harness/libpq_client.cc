#include "tests/harness/libpq_client.h"

#include <libpq-fe.h>

#include <memory>
#include <stdexcept>

namespace pgpulse::testing {
namespace {

struct ConnectionCloser {
  void operator()(PGconn* connection) const { PQfinish(connection); }
};
struct ResultClearer {
  void operator()(PGresult* result) const { PQclear(result); }
};
using Connection = std::unique_ptr<PGconn, ConnectionCloser>;
using Result = std::unique_ptr<PGresult, ResultClearer>;

std::string TrimTrailingNewlines(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

}  // namespace

Rows PgQuery(const std::string& conninfo, const std::string& sql) {
  Connection connection(PQconnectdb(conninfo.c_str()));
  if (!connection) throw std::runtime_error("libpq: out of memory");
  if (PQstatus(connection.get()) != CONNECTION_OK) {
    throw std::runtime_error("cannot connect (" + RedactConninfo(conninfo) +
                             "): " + TrimTrailingNewlines(PQerrorMessage(connection.get())));
  }
  Result result(PQexec(connection.get(), sql.c_str()));
  const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK && status != PGRES_EMPTY_QUERY) {
    const std::string message = result ? PQresultErrorMessage(result.get()) : PQerrorMessage(connection.get());
    throw std::runtime_error("query failed (" + RedactConninfo(conninfo) + "): " + TrimTrailingNewlines(message) +
                             "\n  in: " + sql);
  }
  Rows rows;
  const int row_count = PQntuples(result.get());
  const int column_count = PQnfields(result.get());
  rows.reserve(static_cast<size_t>(row_count));
  for (int row = 0; row < row_count; ++row) {
    auto& values = rows.emplace_back();
    for (int column = 0; column < column_count; ++column) {
      if (PQgetisnull(result.get(), row, column)) {
        values.emplace_back(std::nullopt);
      } else {
        values.emplace_back(std::string(PQgetvalue(result.get(), row, column),
                                        static_cast<size_t>(PQgetlength(result.get(), row, column))));
      }
    }
  }
  return rows;
}

std::string PgConnectError(const std::string& conninfo) {
  Connection connection(PQconnectdb(conninfo.c_str()));
  if (!connection) return "libpq: out of memory";
  if (PQstatus(connection.get()) == CONNECTION_OK) return "";
  std::string message = TrimTrailingNewlines(PQerrorMessage(connection.get()));
  return message.empty() ? "connection failed" : message;
}

std::string RedactConninfo(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (options == nullptr) {
    PQfreemem(error);
    return "<unparsable conninfo>";
  }
  std::string redacted;
  for (const PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
    if (option->val == nullptr) continue;
    if (!redacted.empty()) redacted += ' ';
    const bool secret = std::string(option->keyword) == "password";
    redacted += std::string(option->keyword) + "=" + (secret ? "***" : QuoteConninfoValue(option->val));
  }
  PQconninfoFree(options);
  return redacted;
}

std::string QuoteConninfoValue(const std::string& value) {
  if (!value.empty() && value.find_first_of(" \t\n\r\f\v'\\") == std::string::npos) return value;
  std::string quoted = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "'";
}

std::string QuoteSqlLiteral(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) {
    if (c == '\'') quoted += '\'';
    quoted += c;
  }
  return quoted + "'";
}

std::string QuoteSqlIdentifier(const std::string& name) {
  std::string quoted = "\"";
  for (char c : name) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

std::string PercentEncode(const std::string& text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string encoded;
  for (unsigned char c : text) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                            c == '.' || c == '_' || c == '~';
    if (unreserved) {
      encoded += static_cast<char>(c);
    } else {
      encoded += '%';
      encoded += kHex[c >> 4];
      encoded += kHex[c & 0x0F];
    }
  }
  return encoded;
}

}  // namespace pgpulse::testing
