#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <deque>
#include <memory>
#include <set>
#include <string>

#include "exporter/async/event.h"
#include "exporter/collector/runner.h"
#include "exporter/config/config.h"
#include "exporter/pg/connection.h"
#include "exporter/targets/backoff.h"
#include "exporter/targets/credential_watch.h"

namespace pgpulse::target {

enum class State { kDown, kConnecting, kReady, kBackoff };
const char* StateName(State state);

struct TargetSettings {
  std::shared_ptr<const collector::CollectorSet> collectors;  // none: only pg_up and the version
  std::chrono::milliseconds connect_timeout{5000};
  pg::SessionSettings session;
  std::chrono::milliseconds backoff_initial{500};
  std::chrono::milliseconds backoff_max{10000};
  std::chrono::milliseconds discovery_interval{300000};  // how often pg_database is read again
  // Time one refresh may spend visiting databases; the rest wait for the next refresh (oldest results first).
  std::chrono::milliseconds database_budget{3000};
  // A visiting connection kept open (few databases) is closed after this long unused, e.g. when scrapes stop.
  std::chrono::milliseconds idle_timeout{300000};
  // How often the credential files are checked for a change (stat(); read only when it changed).
  std::chrono::milliseconds credential_poll{2000};
};

// What one refresh of a target learned.
struct Snapshot {
  bool up = false;  // this refresh's connection worked and answered a query
  int server_version_num = 0;
  std::string version;        // version()
  std::string short_version;  // "15.4.0", postgres_exporter's format
  std::string error;          // why up is 0; never holds a secret
  std::string role;           // the role logged in as
  bool superuser = false;
  bool pg_monitor = false;
  std::string superuser_roles;      // superuser roles the role is a member of (see pg::SessionInfo)
  std::string managed_admin_roles;  // managed services' administrator roles it is a member of
  double duration_seconds = 0;
  collector::Collected collected;
};

// One refresh, shared by every scrape that asks while it runs (singleflight).
struct Refresh {
  async::Event done;
  Snapshot snapshot;
};

// One monitored PostgreSQL instance: its connection, reconnect backoff and last result. All methods run on the
// io_context thread.
class Target : public std::enable_shared_from_this<Target> {
 public:
  Target(boost::asio::any_io_executor executor, config::TargetConfig config, TargetSettings settings);

  // Starts a first refresh (so /readyz and the status page know the target's state before the first scrape) and
  // the watch on its credential files.
  void Start();
  // Reads the credential files again (a configuration reload asks for this).
  void ReloadCredentials();

  // Starts a refresh bounded by `deadline`, or joins the one in flight. The refresh runs to completion (or to its
  // own deadline) even if the scrape that started it gives up.
  std::shared_ptr<Refresh> StartRefresh(async::Clock::time_point deadline);

  const config::TargetConfig& config() const { return config_; }
  const std::string& name() const { return config_.name; }
  State state() const { return state_; }
  bool tried() const { return tried_; }
  const Snapshot& last() const { return last_; }
  const CredentialWatch& credentials() const { return credentials_; }
  // Open connections to this instance right now (the main one and visiting ones), for tests and the status page.
  int open_connections() const;
  void Shutdown();

 private:
  boost::asio::awaitable<void> Run(async::Clock::time_point deadline, std::shared_ptr<Refresh> refresh);
  boost::asio::awaitable<void> Connect(async::Clock::time_point deadline);
  boost::asio::awaitable<Snapshot> Probe(async::Clock::time_point deadline);
  boost::asio::awaitable<void> Collect(async::Clock::time_point deadline, collector::Collected& out);
  boost::asio::awaitable<void> CollectDatabases(async::Clock::time_point deadline, collector::Collected& out);
  boost::asio::awaitable<void> Discover(async::Clock::time_point deadline);
  pg::ConnParams ConnectionParams() const;
  // After the server rejected the credentials: count it, and read them again before the next attempt.
  void OnAuthFailure();
  void PollCredentials();
  // Reads the credentials again (only if a file changed, unless `force`); new ones end a backoff at once.
  void ReadCredentials(bool force, const char* reason);

  // One of the connections that visit service databases in turn. It is reconnected to each database it visits.
  struct DatabaseSlot {
    explicit DatabaseSlot(boost::asio::any_io_executor executor) : conn(executor), idle_timer(executor) {}
    pg::Connection conn;
    std::string database;                      // what conn is connected to
    std::uint64_t credentials_generation = 0;  // of the credentials conn logged in with
    boost::asio::steady_timer idle_timer;
  };
  void CloseWhenIdle(DatabaseSlot& slot);
  struct WorkerGroup {
    std::size_t running = 0;
    async::Event finished;
  };
  // A visiting worker: takes due databases from `queue` until it is empty or `deadline` passes, then tells the
  // group. Static, holding the target in its frame, since it runs detached.
  static boost::asio::awaitable<void> VisitDatabases(std::shared_ptr<Target> self, DatabaseSlot& slot,
                                                     std::deque<std::string>& queue, async::Clock::time_point deadline,
                                                     collector::Collected& out, std::shared_ptr<WorkerGroup> group);
  boost::asio::awaitable<void> VisitQueue(DatabaseSlot& slot, std::deque<std::string>& queue,
                                          async::Clock::time_point deadline, collector::Collected& out);

  boost::asio::any_io_executor executor_;
  config::TargetConfig config_;
  TargetSettings settings_;
  pg::Connection conn_;
  std::optional<collector::Capabilities> caps_;                   // of conn_; reset on every new connection
  std::vector<std::unique_ptr<DatabaseSlot>> slots_;              // max_connections - 1 of them
  std::vector<std::string> databases_;                            // discovered and filtered
  std::map<std::string, collector::Capabilities> database_caps_;  // per database, until rediscovery
  async::Clock::time_point next_discovery_{};
  std::set<std::string> logged_database_errors_;
  std::optional<collector::Runner> runner_;
  CredentialWatch credentials_;
  std::uint64_t credentials_generation_ = 0;  // counts credential changes, for DatabaseSlot::credentials_generation
  boost::asio::steady_timer credential_timer_;
  std::string warned_role_;        // the role last warned about for lacking pg_monitor
  std::string warned_admin_role_;  // the role last warned about for being a managed-service administrator
  Backoff backoff_;
  async::Clock::time_point retry_at_{};
  std::string last_connect_error_;
  std::shared_ptr<Refresh> in_flight_;
  Snapshot last_;
  State state_ = State::kDown;
  bool tried_ = false;
};

// "15.4.0" from 150004, "9.6.24" from 90624.
std::string ShortVersion(int server_version_num);

}  // namespace pgpulse::target
