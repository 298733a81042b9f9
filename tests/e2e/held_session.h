#pragma once

#include <libpq-fe.h>

#include <stdexcept>
#include <string>

namespace pgpulse::testing {

// A client session that stays open for a test, so it shows up in pg_stat_activity (blocking libpq: test code).
class HeldSession {
 public:
  explicit HeldSession(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str())) {
    if (PQstatus(conn_) != CONNECTION_OK) {
      std::string message = PQerrorMessage(conn_);
      PQfinish(conn_);
      throw std::runtime_error("HeldSession: " + message);
    }
  }
  ~HeldSession() { PQfinish(conn_); }
  HeldSession(const HeldSession&) = delete;
  HeldSession& operator=(const HeldSession&) = delete;

  void Exec(const std::string& sql) {
    PGresult* result = PQexec(conn_, sql.c_str());
    const auto status = PQresultStatus(result);
    std::string message = PQresultErrorMessage(result);
    PQclear(result);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) throw std::runtime_error("HeldSession: " + message);
  }

 private:
  PGconn* conn_;
};

}  // namespace pgpulse::testing
