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

  // The server process serving this session, to find it in pg_stat_activity.
  int pid() const { return PQbackendPID(conn_); }

  void Exec(const std::string& sql) {
    PGresult* result = PQexec(conn_, sql.c_str());
    const auto status = PQresultStatus(result);
    std::string message = PQresultErrorMessage(result);
    PQclear(result);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) throw std::runtime_error("HeldSession: " + message);
  }

  // Sends `sql` without waiting for it, for a statement that blocks (on a lock) while the test goes on. Wait()
  // collects its outcome; nothing else may run on the session in between.
  void Send(const std::string& sql) {
    if (!PQsendQuery(conn_, sql.c_str()))
      throw std::runtime_error("HeldSession: " + std::string(PQerrorMessage(conn_)));
  }

  // Blocks until what Send() started has finished; the error message of its first failing statement, else "".
  std::string Wait() {
    std::string error;
    while (PGresult* result = PQgetResult(conn_)) {
      const auto status = PQresultStatus(result);
      if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && error.empty())
        error = PQresultErrorMessage(result);
      PQclear(result);
    }
    return error;
  }

 private:
  PGconn* conn_;
};

}  // namespace pgpulse::testing
