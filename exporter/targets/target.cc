#include "exporter/targets/target.h"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <cstdio>

#include "exporter/log/log.h"
#include "exporter/metrics/names.h"

namespace pgpulse::targets {
namespace asio = boost::asio;
using async::Clock;

namespace {

std::string Seconds(Clock::duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1fs", std::chrono::duration<double>(d).count());
  return buf;
}

}  // namespace

const char* StateName(State state) {
  switch (state) {
    case State::kDown:
      return "down";
    case State::kConnecting:
      return "connecting";
    case State::kReady:
      return "ready";
    case State::kBackoff:
      return "backoff";
  }
  return "unknown";
}

std::string ShortVersion(int v) {
  if (v <= 0) return "";
  if (v >= 100000) return std::to_string(v / 10000) + "." + std::to_string(v % 10000) + ".0";
  return std::to_string(v / 10000) + "." + std::to_string(v / 100 % 100) + "." + std::to_string(v % 100);
}

Target::Target(asio::any_io_executor executor, config::TargetConfig config, TargetSettings settings)
    : executor_(executor),
      config_(std::move(config)),
      settings_(settings),
      conn_(executor),
      credentials_(config_, config_.name),
      credential_timer_(executor),
      backoff_(settings.backoff_initial, settings.backoff_max) {
  settings_.session.allow_superuser = config_.allow_superuser;
  if (settings_.collectors) {
    metrics::Labels labels = config_.labels;
    labels[metrics::own::kTargetLabel] = config_.name;
    cache_.emplace(settings_.collectors, config_.name, std::move(labels));
    // The server-side bound must let the slowest collector finish; each query also has its own client deadline.
    settings_.session.statement_timeout =
        std::max(settings_.session.statement_timeout, settings_.collectors->longest_timeout);
  }
  // The hooks run only while a refresh, which holds the target, visits databases.
  VisitHooks hooks{[this] { return ConnectionParams(); }, [this] { credentials_.CountLogin(); },
                   [this] { OnAuthFailure(); }};
  // One connection for the cluster-wide collectors, the rest visit databases.
  visits_ = std::make_shared<DatabaseVisits>(executor, config_.name, settings_, config_.databases,
                                             config_.max_connections - 1, std::move(hooks));
}

void Target::Start() {
  StartRefresh(Clock::now() + std::chrono::seconds(10));
  PollCredentials();
}

void Target::PollCredentials() {
  credential_timer_.expires_after(settings_.credential_poll);
  // A destroyed or shut down target aborts the timer; the handler only touches a live one.
  credential_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (ec || !self) return;
    self->ReadCredentials(false, "file changed");
    self->PollCredentials();
  });
}

void Target::ReloadCredentials() { ReadCredentials(true, "configuration reloaded"); }

void Target::OnAuthFailure() {
  credentials_.CountAuthFailure();
  // Changed since the attempt (a secret rotated in the database first and in the file a moment later): the next
  // attempt need not wait out the backoff.
  ReadCredentials(true, "authentication failed");
}

void Target::ReadCredentials(bool force, const char* reason) {
  if (!credentials_.Reload(force, reason)) return;
  // Database visits log in again with the new credentials, so that pgpulse's own sessions stop counting as the old
  // password still in use (the PgOldCredentialInUse alert). The target's own connection stays: pg_up must not drop
  // while the new secret reaches the database.
  visits_->CredentialsChanged();
  if (state_ == State::kBackoff) {
    // The target waits out a failed attempt; with new credentials the next scrape tries at once.
    retry_at_ = {};
    backoff_.Reset();
  }
}

void Target::Shutdown() {
  credential_timer_.cancel();
  conn_.Close();
  visits_->Shutdown();
  state_ = State::kDown;
}

std::shared_ptr<Refresh> Target::StartRefresh(Clock::time_point deadline) {
  if (in_flight_) return in_flight_;
  in_flight_ = std::make_shared<Refresh>(executor_);
  asio::co_spawn(executor_, Run(deadline, in_flight_), asio::detached);
  return in_flight_;
}

pg::ConnParams Target::ConnectionParams() const {
  const auto& credentials = credentials_.current();
  if (!credentials) throw pg::PgError(pg::ErrorKind::kConnect, "no credentials: " + credentials_.error());
  pg::ConnParams params = config_.conn;
  if (credentials->user) params["user"] = *credentials->user;
  if (credentials->password) params["password"] = *credentials->password;
  return params;
}

asio::awaitable<void> Target::Run(Clock::time_point deadline, std::shared_ptr<Refresh> refresh) {
  auto self = shared_from_this();  // the refresh outlives any scrape waiting for it
  const auto start = Clock::now();
  Snapshot snapshot;
  try {
    bool fresh = false;
    if (!conn_.IsOpen()) {
      if (start < retry_at_) {
        throw pg::PgError(pg::ErrorKind::kConnect,
                          last_connect_error_ + " (next attempt in " + Seconds(retry_at_ - start) + ")");
      }
      co_await Connect(deadline);
      fresh = true;
    }
    bool reconnect = false;
    try {
      snapshot = co_await ReadServerVersion(deadline);
    } catch (const pg::PgError& e) {
      // An idle connection dies silently when the server restarts; one new attempt tells whether it is back.
      if (fresh || e.kind() != pg::ErrorKind::kBroken) throw;
      log::Info("connection lost, reconnecting", {{"target", name()}, {"err", e.what()}});
      reconnect = true;
    }
    if (reconnect) {  // outside the handler: C++ forbids co_await in a catch block
      co_await Connect(deadline);
      snapshot = co_await ReadServerVersion(deadline);
    }
  } catch (const pg::PgError& e) {
    snapshot = Snapshot{};
    snapshot.error = e.what();
    snapshot.refused = e.kind() == pg::ErrorKind::kRefused;
    if (e.kind() == pg::ErrorKind::kTimeout || e.kind() == pg::ErrorKind::kBroken) {
      log::Warn("scrape failed", {{"target", name()}, {"kind", pg::ErrorKindName(e.kind())}, {"err", e.what()}});
    }
  }
  // Outside the try above: collector trouble never turns pg_up to 0.
  if (snapshot.up && cache_) {
    snapshot.collected = cache_->NewCollected();
    co_await Collect(deadline, snapshot.collected);
  }
  if (!conn_.IsOpen() && state_ == State::kReady) state_ = State::kDown;
  snapshot.duration_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  last_ = snapshot;
  last_at_ = Clock::now();
  tried_ = true;
  refresh->snapshot = std::move(snapshot);
  in_flight_.reset();
  refresh->done.Set();
}

asio::awaitable<void> Target::Connect(Clock::time_point deadline) {
  state_ = State::kConnecting;
  try {
    const auto connect_deadline = std::min(deadline, Clock::now() + settings_.connect_timeout);
    auto params = ConnectionParams();  // a named local: g++ 12 mishandles temporaries across a co_await
    co_await conn_.Connect(std::move(params), settings_.session, connect_deadline);
  } catch (const pg::PgError& e) {
    const auto delay = backoff_.NextDelay();
    retry_at_ = Clock::now() + delay;
    last_connect_error_ = e.what();
    state_ = State::kBackoff;
    if (e.kind() == pg::ErrorKind::kAuth) OnAuthFailure();
    log::Warn("connect failed", {{"target", name()},
                                 {"dsn", config_.redacted_dsn},
                                 {"kind", pg::ErrorKindName(e.kind())},
                                 {"err", e.what()},
                                 {"retry_in", Seconds(delay)}});
    throw;
  }
  credentials_.CountLogin();
  backoff_.Reset();
  retry_at_ = {};
  caps_.reset();
  state_ = State::kReady;
  const auto& session = conn_.session();
  log::Info("connected",
            {{"target", name()}, {"user", session.user}, {"server_version", std::to_string(session.server_version)}});
  role_warnings_.Connected(name(), session);
}

asio::awaitable<Snapshot> Target::ReadServerVersion(Clock::time_point deadline) {
  std::string sql = "SELECT current_setting('server_version_num'), version(), pg_is_in_recovery()";
  std::vector<std::optional<std::string>> no_params;
  auto result = co_await conn_.Query(std::move(sql), std::move(no_params), deadline);
  Snapshot snapshot;
  if (result.rows.size() != 1 || result.rows[0].size() != 3 || !result.rows[0][0] || !result.rows[0][1] ||
      !result.rows[0][2]) {
    throw pg::PgError(pg::ErrorKind::kQuery, "unexpected answer to the version query");
  }
  snapshot.up = true;
  snapshot.role = conn_.session().user;
  snapshot.superuser = conn_.session().superuser;
  snapshot.pg_monitor = conn_.session().pg_monitor;
  snapshot.superuser_roles = conn_.session().superuser_roles;
  snapshot.managed_admin_roles = conn_.session().managed_admin_roles;
  snapshot.server_version_num = std::stoi(*result.rows[0][0]);
  snapshot.version = *result.rows[0][1];
  snapshot.short_version = ShortVersion(snapshot.server_version_num);
  snapshot.in_recovery = *result.rows[0][2] == "t";
  // The capabilities were learned once per connection; a standby promoted since (or a primary turned standby)
  // changes which collectors apply, so they are learned again.
  if (caps_ && caps_->is_replica != snapshot.in_recovery) caps_.reset();
  co_return snapshot;
}

asio::awaitable<void> Target::Collect(Clock::time_point deadline, collector::Collected& out) {
  // Collector failures never make the target down: pg_up is about the connection, success is per collector.
  try {
    if (!caps_) {
      caps_ =
          co_await collector::DetectCapabilities(conn_, settings_.collectors->cluster_needs, std::nullopt, deadline);
    }
    const auto& main_db = conn_.session().database;
    co_await cache_->Collect(collector::Scope::kCluster, main_db, conn_, *caps_, deadline, out);
  } catch (const pg::PgError& e) {
    log::Warn("collection failed", {{"target", name()}, {"err", e.what()}});
  }
  if (settings_.collectors->has_database_scope) {
    const auto replica = caps_ ? std::optional<bool>(caps_->is_replica) : std::nullopt;
    co_await visits_->Collect(conn_, replica, *cache_, deadline, out);
  }
}

int Target::open_connections() const { return (conn_.IsOpen() ? 1 : 0) + visits_->open_connections(); }

}  // namespace pgpulse::targets
