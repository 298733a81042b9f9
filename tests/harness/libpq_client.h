// Small blocking libpq helpers for tests, plus the quoting rules of conninfo strings, URIs and SQL.
#ifndef PGPULSE_TESTS_HARNESS_LIBPQ_CLIENT_H_
#define PGPULSE_TESTS_HARNESS_LIBPQ_CLIENT_H_

#include <optional>
#include <string>
#include <vector>

namespace pgpulse::testing {

// Query results as text; NULL is nullopt.
using Rows = std::vector<std::vector<std::optional<std::string>>>;

// Connects with `conninfo` (key=value or URI), runs `sql` (several statements allowed; the last result is returned)
// and disconnects. Throws std::runtime_error with the server's message; passwords are redacted from the message.
Rows PgQuery(const std::string& conninfo, const std::string& sql);

// Empty if a connection with `conninfo` succeeds (it is closed at once), else libpq's error message.
std::string PgConnectError(const std::string& conninfo);

// `conninfo` with any password replaced by "***", for error messages and logs.
std::string RedactConninfo(const std::string& conninfo);

// A value for a key=value conninfo string, single-quoted and escaped where libpq needs it.
std::string QuoteConninfoValue(const std::string& value);
// 'text' with quotes doubled (standard_conforming_strings is on by default).
std::string QuoteSqlLiteral(const std::string& text);
// "name" with quotes doubled.
std::string QuoteSqlIdentifier(const std::string& name);
// RFC 3986 percent-encoding of everything but unreserved characters, for URI user, password and path parts.
std::string PercentEncode(const std::string& text);

}  // namespace pgpulse::testing

#endif  // PGPULSE_TESTS_HARNESS_LIBPQ_CLIENT_H_
