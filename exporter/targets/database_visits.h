#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "exporter/async/deadline.h"
#include "exporter/async/event.h"
#include "exporter/collector/capabilities.h"
#include "exporter/collector/collector_cache.h"
#include "exporter/config/database_filter.h"
#include "exporter/log/once.h"
#include "exporter/pg/connection.h"
#include "exporter/targets/settings.h"

namespace pgpulse::targets {

// What a target lends its database visits: its connection parameters with the credentials in use, and the
// counters a login feeds.
struct VisitHooks {
  std::function<pg::ConnParams()> connection_params;  // throws pg::PgError when there are no credentials
  std::function<void()> logged_in;
  std::function<void()> auth_failed;
};

// A discovered database and its last visit, for the status page.
struct DatabaseVisit {
  std::string database;
  std::optional<std::chrono::system_clock::time_point> last_visit;  // wall clock, to show; none yet: nullopt
  bool last_failed = false;  // the last attempt could not connect (the page then shows cached results' age)
};

// The database-scope half of a target's refresh: which service databases there are (pg_database, read again every
// discovery_interval), and the connections that visit the due ones in turn, side by side, within the refresh's
// database budget. Everything else is served from the collector cache. Runs on the io_context thread.
class DatabaseVisits : public std::enable_shared_from_this<DatabaseVisits> {
 public:
  DatabaseVisits(boost::asio::any_io_executor executor, std::string target_name, TargetSettings settings,
                 config::DatabaseFilter filter, int connections, VisitHooks hooks);

  // Discovers when due (on `main`, the target's own connection), then visits due databases (the longest-waiting
  // first) and serves the others from `cache`. `replica` is what `main` found, so visits need not ask.
  boost::asio::awaitable<void> Collect(pg::Connection& main, std::optional<bool> replica,
                                       collector::CollectorCache& cache, async::Clock::time_point deadline,
                                       collector::Collected& out);

  // The target's credentials changed: each visiting connection logs in again at its next visit, so that pgpulse's
  // own sessions stop counting as the old password still in use (the PgOldCredentialInUse alert).
  void CredentialsChanged() { ++credentials_generation_; }
  int open_connections() const;
  // The discovered databases in discovery order, each with its last visit.
  std::vector<DatabaseVisit> visited() const;
  void Shutdown();

 private:
  // One connection that visits databases in turn. It is reconnected to each database it visits.
  struct Slot {
    explicit Slot(boost::asio::any_io_executor executor) : conn(executor), idle_timer(executor) {}
    pg::Connection conn;
    std::string database;                      // what conn is connected to
    std::uint64_t credentials_generation = 0;  // of the credentials conn logged in with
    boost::asio::steady_timer idle_timer;
  };
  struct WorkerGroup {
    explicit WorkerGroup(boost::asio::any_io_executor executor) : finished(std::move(executor)) {}
    std::size_t running = 0;
    async::Event finished;
  };
  // What one refresh's workers share; it lives in Collect's frame, which waits for them.
  struct Round {
    std::deque<std::string> queue;
    std::optional<bool> replica;
    collector::CollectorCache& cache;
    async::Clock::time_point deadline;
    collector::Collected& out;
  };

  boost::asio::awaitable<void> Discover(pg::Connection& main, collector::CollectorCache& cache,
                                        async::Clock::time_point deadline);
  // A visiting worker: takes due databases from the round's queue until it is empty or the deadline passes, then
  // tells the group. Static, holding the visits in its frame, since it runs detached.
  static boost::asio::awaitable<void> Work(std::shared_ptr<DatabaseVisits> self, Slot& slot, Round& round,
                                           std::shared_ptr<WorkerGroup> group);
  boost::asio::awaitable<void> Visit(Slot& slot, Round& round);
  void CloseWhenIdle(Slot& slot);
  // A database dropped since discovery: it leaves the list and the cache at once, so its series go with this refresh
  // instead of being served stale (and every database collector failing) until the next discovery; cached
  // cluster-wide results that name it are refreshed by the next refresh.
  void Dropped(const std::string& database, collector::CollectorCache& cache);

  boost::asio::any_io_executor executor_;
  std::string target_name_;
  TargetSettings settings_;
  config::DatabaseFilter filter_;
  VisitHooks hooks_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<std::string> databases_;                            // discovered and filtered
  std::map<std::string, collector::Capabilities> database_caps_;  // per database, until rediscovery
  std::map<std::string, DatabaseVisit> last_visits_;              // kept across rediscovery: a database may return
  async::Clock::time_point next_discovery_{};
  std::uint64_t credentials_generation_ = 0;
  log::Once logged_errors_;  // a database that refuses pgpulse (CONNECT revoked) must not flood the log
};

}  // namespace pgpulse::targets
