// One libpq session kept open for many statements, where a connection per statement (the harness's
// PgServer::Query) would cost the server a backend start each time: the 100 ms connection sampler, the CREATE
// DATABASE loop, the logins measured for their CPU.
#ifndef PGPULSE_TESTS_BENCH_PG_SESSION_H_
#define PGPULSE_TESTS_BENCH_PG_SESSION_H_

#include <libpq-fe.h>

#include <string>

#include "tests/harness/libpq_client.h"
#include "tests/harness/pg_server.h"

namespace pgpulse::bench {

class PgSession {
 public:
  // The superuser over the server's Unix socket, as the harness's own queries.
  PgSession(const testing::PgServer& server, const std::string& db);
  // Any conninfo; throws BenchError with libpq's message (password redacted) if the login fails.
  explicit PgSession(const std::string& conninfo);
  ~PgSession();
  PgSession(const PgSession&) = delete;
  PgSession& operator=(const PgSession&) = delete;

  // Throws BenchError with the server's message.
  testing::Rows Query(const std::string& sql);
  void Exec(const std::string& sql) { Query(sql); }

 private:
  PGconn* connection_ = nullptr;
};

}  // namespace pgpulse::bench

#endif  // PGPULSE_TESTS_BENCH_PG_SESSION_H_
