#include "tests/bench/connection_sampler.h"

#include <algorithm>
#include <chrono>
#include <exception>

#include "tests/bench/database_shape.h"
#include "tests/bench/pg_session.h"
#include "tests/bench/run_control.h"

namespace pgpulse::bench {

ConnectionSampler::ConnectionSampler(const testing::PgServer& server) : thread_([this, &server] { Run(server); }) {}

ConnectionSampler::~ConnectionSampler() { Stop(); }

void ConnectionSampler::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void ConnectionSampler::Run(const testing::PgServer& server) {
  const std::string sql = std::string("SELECT round(extract(epoch FROM clock_timestamp())::numeric, 3),") +
                          " count(*) FILTER (WHERE usename = '" + kPgpulseRole + "')," +
                          " count(*) FILTER (WHERE usename = '" + kPeerRole + "') FROM pg_stat_activity";
  try {
    PgSession session(server, "postgres");
    while (!stop_) {
      const testing::Rows rows = session.Query(sql);
      samples_.push_back({Number(*rows.at(0).at(0)), std::stoi(*rows.at(0).at(1)), std::stoi(*rows.at(0).at(2))});
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  } catch (const std::exception& error) {
    error_ = error.what();
  }
}

int ConnectionSampler::MaxWithin(bool pgpulse, double from, double to) const {
  int most = 0;
  for (const ConnectionSample& sample : samples_) {
    if (sample.epoch >= from && sample.epoch <= to) most = std::max(most, pgpulse ? sample.pgpulse : sample.peer);
  }
  return most;
}

int ConnectionSampler::Max(bool pgpulse) const {
  int most = 0;
  for (const ConnectionSample& sample : samples_) most = std::max(most, pgpulse ? sample.pgpulse : sample.peer);
  return most;
}

}  // namespace pgpulse::bench
