#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "exporter/async/event.h"
#include "exporter/collector/collector_cache.h"
#include "exporter/config/config.h"
#include "exporter/pg/connection.h"
#include "exporter/targets/backoff.h"
#include "exporter/targets/credential_watch.h"
#include "exporter/targets/database_visits.h"
#include "exporter/targets/role_warnings.h"
#include "exporter/targets/settings.h"

namespace pgpulse::targets {

enum class State { kDown, kConnecting, kReady, kBackoff };
const char* StateName(State state);

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
  // pg_is_in_recovery() at this refresh: a standby. Asked by every refresh, in the version query's round trip, so a
  // promotion shows at the next refresh (/health?role=, pgpulse check).
  bool in_recovery = false;
  // The server let the role in, but pgpulse refused the session (a superuser, or a member of one, without
  // allow_superuser); `error` says why. pgpulse check tells it apart from a server that cannot be reached.
  bool refused = false;
  double duration_seconds = 0;
  collector::Collected collected;
};

// One refresh, shared by every scrape that asks while it runs (singleflight).
struct Refresh {
  explicit Refresh(boost::asio::any_io_executor executor) : done(std::move(executor)) {}
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
  // When the last refresh ended (the epoch before the first): /health answers from a recent one.
  async::Clock::time_point last_at() const { return last_at_; }
  // What the target's own connection found (extensions in its database, replica or not), once connected.
  const std::optional<collector::Capabilities>& capabilities() const { return caps_; }
  const CredentialWatch& credentials() const { return credentials_; }
  // Open connections to this instance right now (the main one and visiting ones), for tests and the status page.
  int open_connections() const;
  // The discovered databases and when each was last visited, for the status page.
  std::vector<DatabaseVisit> visited_databases() const { return visits_->visited(); }
  void Shutdown();

 private:
  boost::asio::awaitable<void> Run(async::Clock::time_point deadline, std::shared_ptr<Refresh> refresh);
  boost::asio::awaitable<void> Connect(async::Clock::time_point deadline);
  // The liveness check of every refresh: server_version_num and version() on the target's own connection.
  boost::asio::awaitable<Snapshot> ReadServerVersion(async::Clock::time_point deadline);
  boost::asio::awaitable<void> Collect(async::Clock::time_point deadline, collector::Collected& out);
  pg::ConnParams ConnectionParams() const;
  // After the server rejected the credentials: count it, and read them again before the next attempt.
  void OnAuthFailure();
  void PollCredentials();
  // Reads the credentials again (only if a file changed, unless `force`); new ones end a backoff at once.
  void ReadCredentials(bool force, const char* reason);

  boost::asio::any_io_executor executor_;
  config::TargetConfig config_;
  TargetSettings settings_;
  pg::Connection conn_;
  std::optional<collector::Capabilities> caps_;  // of conn_; reset on every new connection
  std::optional<collector::CollectorCache> cache_;
  std::shared_ptr<DatabaseVisits> visits_;
  CredentialWatch credentials_;
  boost::asio::steady_timer credential_timer_;
  RoleWarnings role_warnings_;
  Backoff backoff_;
  async::Clock::time_point retry_at_{};
  std::string last_connect_error_;
  std::shared_ptr<Refresh> in_flight_;
  Snapshot last_;
  async::Clock::time_point last_at_{};
  State state_ = State::kDown;
  bool tried_ = false;
};

// "15.4.0" from 150004, "9.6.24" from 90624.
std::string ShortVersion(int server_version_num);

}  // namespace pgpulse::targets
