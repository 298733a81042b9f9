// What one login costs, measured at the end of the run on the same server: the server's CPU to open a connection,
// which pg_stat_statements never sees, and the client's CPU of the SCRAM exchange, which every exporter pays in its
// own process.
#ifndef PGPULSE_TESTS_BENCH_CALIBRATION_H_
#define PGPULSE_TESTS_BENCH_CALIBRATION_H_

#include <string>

#include "tests/harness/pg_server.h"

namespace pgpulse::bench {

struct LoginCosts {
  int logins = 200;             // of each kind
  std::string server_cpu_ms;    // per new connection: fork, SCRAM, backend start ("%.2f")
  std::string scram_client_ms;  // per SCRAM login, more than a trust login ("%.2f")
};

// Creates the roles bench_probe (SCRAM) and bench_trust (trust in pg_hba.conf, 127.0.0.1 only), both in pg_monitor.
// Server side: 200 connections of bench_probe that run SELECT 1 each; the growth of the postmaster's cutime + cstime
// (exited backends' CPU lands there), minus its growth over the same time idle (autovacuum workers). Client side:
// 200 logins in this process (libpq and OpenSSL initialised once, as in a running exporter) as bench_probe and 200 as
// bench_trust; the difference of the CPU per login, which is libpq's side of SCRAM-SHA-256.
LoginCosts MeasureLoginCosts(const testing::PgServer& server);

}  // namespace pgpulse::bench

#endif  // PGPULSE_TESTS_BENCH_CALIBRATION_H_
