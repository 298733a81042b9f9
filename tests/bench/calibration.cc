#include "tests/bench/calibration.h"

#include <sys/resource.h>

#include <algorithm>

#include "tests/bench/database_shape.h"
#include "tests/bench/pg_session.h"
#include "tests/bench/proc_stats.h"
#include "tests/bench/run_control.h"
#include "tests/harness/libpq_client.h"

namespace pgpulse::bench {
namespace {

// This thread's CPU (user + system) in ms: the logins run on it, whatever other threads do meanwhile.
double ThreadCpuMs() {
  rusage usage{};
  getrusage(RUSAGE_THREAD, &usage);
  return (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e3 +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e3;
}

std::string LoginConninfo(const testing::PgServer& server, const std::string& role, const std::string& password) {
  std::string conninfo =
      "host=127.0.0.1 port=" + std::to_string(server.port()) + " user=" + role + " dbname=svc_001 sslmode=disable";
  if (!password.empty()) conninfo += " password=" + testing::QuoteConninfoValue(password);
  return conninfo;
}

// The client CPU of one login in ms ("%.3f"), over `count` logins after one outside the measurement (library and
// provider initialisation is a one-time cost).
std::string ClientCpuPerLogin(const std::string& conninfo, const std::string& role, int count) {
  try {
    PgSession first(conninfo);
  } catch (const BenchError& error) {
    Die("calibration logins as " + role + " failed: " + error.what());
  }
  const double start = ThreadCpuMs();
  for (int i = 0; i < count; ++i) {
    try {
      PgSession session(conninfo);
    } catch (const BenchError& error) {
      Die("calibration logins as " + role + " failed: " + error.what());
    }
  }
  return Fixed((ThreadCpuMs() - start) / count, 3);
}

}  // namespace

LoginCosts MeasureLoginCosts(const testing::PgServer& server) {
  LoginCosts costs;
  Log("calibrating the server CPU of a new connection");
  const std::string probe_password = Secret();
  server.Exec("postgres", "CREATE ROLE bench_probe LOGIN PASSWORD " + testing::QuoteSqlLiteral(probe_password) +
                              " IN ROLE pg_monitor");
  const pid_t postmaster = server.postmaster_pid();
  auto reaped_ticks = [&] {
    const auto ticks = ReapedChildrenCpuTicks(postmaster);
    if (!ticks) Die("cannot read the postmaster's /proc/" + std::to_string(postmaster) + "/stat");
    return *ticks;
  };
  const std::string probe = LoginConninfo(server, "bench_probe", probe_password);
  const long long c0 = reaped_ticks();
  const double started = EpochNow();
  for (int i = 0; i < costs.logins; ++i) {
    CheckInterrupted();
    try {
      PgSession session(probe);
      session.Exec("SELECT 1");
    } catch (const BenchError& error) {
      Die(std::string("calibration connection failed: ") + error.what());
    }
  }
  SleepFor(0.5);
  const long long c1 = reaped_ticks();
  SleepFor(Number(Fixed(EpochNow() - started, 3)));
  const long long c2 = reaped_ticks();
  const double busy = std::max(0LL, (c1 - c0) - (c2 - c1));
  costs.server_cpu_ms = Fixed(busy * 1000 / ClockTicksPerSecond() / costs.logins, 2);

  Log("calibrating the client CPU of a SCRAM login");
  server.Exec("postgres", "CREATE ROLE bench_trust LOGIN IN ROLE pg_monitor");
  const double scram = Number(ClientCpuPerLogin(probe, "bench_probe", costs.logins));
  const double trust = Number(ClientCpuPerLogin(LoginConninfo(server, "bench_trust", ""), "bench_trust", costs.logins));
  costs.scram_client_ms = Fixed(std::max(0.0, scram - trust), 2);
  return costs;
}

}  // namespace pgpulse::bench
