// Open connections per exporter role, sampled every 100 ms for the whole run.
#ifndef PGPULSE_TESTS_BENCH_CONNECTION_SAMPLER_H_
#define PGPULSE_TESTS_BENCH_CONNECTION_SAMPLER_H_

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "tests/harness/pg_server.h"

namespace pgpulse::bench {

struct ConnectionSample {
  double epoch = 0;  // the server's clock_timestamp()
  int pgpulse = 0;
  int peer = 0;
};

// One superuser session (never the measured roles) counts pg_stat_activity rows per role, then waits 100 ms, until
// Stop(). Kept open: a login every 100 ms would load the server it measures.
class ConnectionSampler {
 public:
  explicit ConnectionSampler(const testing::PgServer& server);
  ~ConnectionSampler();  // stops
  ConnectionSampler(const ConnectionSampler&) = delete;
  ConnectionSampler& operator=(const ConnectionSampler&) = delete;

  void Stop();
  // Valid after Stop().
  const std::vector<ConnectionSample>& samples() const { return samples_; }
  const std::string& error() const { return error_; }  // why sampling ended early, if it did

  // The most connections of one role (`pgpulse` true: pgpulse's, else the peer's) in samples taken within
  // [from, to] (epoch seconds).
  int MaxWithin(bool pgpulse, double from, double to) const;
  int Max(bool pgpulse) const;

 private:
  void Run(const testing::PgServer& server);

  std::atomic<bool> stop_{false};
  std::vector<ConnectionSample> samples_;
  std::string error_;
  std::thread thread_;
};

}  // namespace pgpulse::bench

#endif  // PGPULSE_TESTS_BENCH_CONNECTION_SAMPLER_H_
