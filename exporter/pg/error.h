#pragma once

#include <stdexcept>
#include <string>

namespace pgpulse::pg {

// Why a connection or a query failed. The kind decides what happens next: an auth failure re-reads credentials
// (later) and backs off, a timeout drops the connection, a query error keeps it.
enum class ErrorKind {
  kConnect,  // network, DNS, server not accepting
  kAuth,     // the server rejected the credentials
  kRefused,  // connected, but pgpulse refuses the session (e.g. a superuser without allow_superuser)
  kTimeout,  // the deadline passed; the connection was dropped
  kBroken,   // the connection died mid-query
  kQuery,    // the server answered with an error; the connection is still usable
};

const char* ErrorKindName(ErrorKind kind);

class PgError : public std::runtime_error {
 public:
  PgError(ErrorKind kind, const std::string& message, std::string sqlstate = {})
      : std::runtime_error(message), kind_(kind), sqlstate_(std::move(sqlstate)) {}
  ErrorKind kind() const { return kind_; }
  const std::string& sqlstate() const { return sqlstate_; }

 private:
  ErrorKind kind_;
  std::string sqlstate_;
};

}  // namespace pgpulse::pg
