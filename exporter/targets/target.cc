#include "exporter/targets/target.h"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <cstdio>
#include <set>

#include "exporter/log/log.h"

namespace pgpulse::target {
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
  for (int i = 1; i < config_.max_connections; ++i) slots_.push_back(std::make_unique<DatabaseSlot>(executor));
  if (settings_.collectors) {
    metrics::Labels labels = config_.labels;
    labels["target"] = config_.name;
    runner_.emplace(settings_.collectors, config_.name, std::move(labels));
    // The server-side bound must let the slowest collector finish; each query also has its own client deadline.
    settings_.session.statement_timeout =
        std::max(settings_.session.statement_timeout, settings_.collectors->longest_timeout);
  }
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
  ++credentials_generation_;
  if (state_ == State::kBackoff) {
    // The target waits out a failed attempt; with new credentials the next scrape tries at once.
    retry_at_ = {};
    backoff_.Reset();
  }
}

void Target::Shutdown() {
  credential_timer_.cancel();
  conn_.Close();
  for (auto& slot : slots_) {
    slot->idle_timer.cancel();
    slot->conn.Close();
  }
  state_ = State::kDown;
}

std::shared_ptr<Refresh> Target::StartRefresh(Clock::time_point deadline) {
  if (in_flight_) return in_flight_;
  in_flight_ = std::make_shared<Refresh>();
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
      snapshot = co_await Probe(deadline);
    } catch (const pg::PgError& e) {
      // An idle connection dies silently when the server restarts; one new attempt tells whether it is back.
      if (fresh || e.kind() != pg::ErrorKind::kBroken) throw;
      log::Info("connection lost, reconnecting", {{"target", name()}, {"err", e.what()}});
      reconnect = true;
    }
    if (reconnect) {  // outside the handler: C++ forbids co_await in a catch block
      co_await Connect(deadline);
      snapshot = co_await Probe(deadline);
    }
  } catch (const pg::PgError& e) {
    snapshot = Snapshot{};
    snapshot.error = e.what();
    if (e.kind() == pg::ErrorKind::kTimeout || e.kind() == pg::ErrorKind::kBroken) {
      log::Warn("scrape failed", {{"target", name()}, {"kind", pg::ErrorKindName(e.kind())}, {"err", e.what()}});
    }
  }
  // Outside the try above: collector trouble never turns pg_up to 0.
  if (snapshot.up && runner_) {
    snapshot.collected = runner_->NewCollected();
    co_await Collect(deadline, snapshot.collected);
  }
  if (!conn_.IsOpen() && state_ == State::kReady) state_ = State::kDown;
  snapshot.duration_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  last_ = snapshot;
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
  if (!session.pg_monitor && warned_role_ != session.user) {
    log::Warn("the role lacks pg_monitor; collectors that need it will report no_privilege or fail",
              {{"target", name()}, {"user", session.user}, {"fix", "GRANT pg_monitor TO " + session.user}});
  }
  warned_role_ = session.pg_monitor ? std::string() : session.user;
  if (session.server_version < collector::kOldestSupportedServer) {
    log::Warn("the server is older than pgpulse supports; its collectors report unsupported_version",
              {{"target", name()},
               {"server_version", std::to_string(session.server_version)},
               {"oldest_supported", std::to_string(collector::kOldestSupportedServer)}});
  }
  // A managed service's administrator role is not a superuser, but can read and change far more than monitoring
  // needs; pgpulse still connects (it may be all a small team has), and says so once per role.
  if (!session.managed_admin_roles.empty() && warned_admin_role_ != session.user) {
    log::Warn("the role is a member of a managed service's administrator role; use a role in pg_monitor only",
              {{"target", name()}, {"user", session.user}, {"member_of", session.managed_admin_roles}});
  }
  warned_admin_role_ = session.managed_admin_roles.empty() ? std::string() : session.user;
}

asio::awaitable<Snapshot> Target::Probe(Clock::time_point deadline) {
  std::string sql = "SELECT current_setting('server_version_num'), version()";
  std::vector<std::optional<std::string>> no_params;
  auto result = co_await conn_.Query(std::move(sql), std::move(no_params), deadline);
  Snapshot snapshot;
  if (result.rows.size() != 1 || result.rows[0].size() != 2 || !result.rows[0][0] || !result.rows[0][1]) {
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
    co_await runner_->Run(collector::Scope::kCluster, main_db, conn_, *caps_, deadline, out);
  } catch (const pg::PgError& e) {
    log::Warn("collection failed", {{"target", name()}, {"err", e.what()}});
  }
  if (settings_.collectors->has_database_scope) co_await CollectDatabases(deadline, out);
}

void Target::CloseWhenIdle(DatabaseSlot& slot) {
  slot.idle_timer.expires_after(settings_.idle_timeout);
  // A new visit cancels the timer; a destroyed target aborts it, so the handler only touches a live slot.
  slot.idle_timer.async_wait([&slot, weak = weak_from_this()](const boost::system::error_code& ec) {
    if (ec || weak.expired()) return;
    slot.conn.Close();
  });
}

int Target::open_connections() const {
  int open = conn_.IsOpen() ? 1 : 0;
  for (const auto& slot : slots_) open += slot->conn.IsOpen() ? 1 : 0;
  return open;
}

asio::awaitable<void> Target::Discover(Clock::time_point deadline) {
  std::string sql = "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY 1";
  std::vector<std::optional<std::string>> no_params;
  auto result = co_await conn_.Query(std::move(sql), std::move(no_params), deadline);
  std::vector<std::string> names;
  for (const auto& row : result.rows) {
    if (row.at(0) && config_.databases.Matches(*row.at(0))) names.push_back(*row.at(0));
  }
  if (names != databases_) {
    log::Info("databases discovered", {{"target", name()}, {"count", std::to_string(names.size())}});
  }
  databases_ = std::move(names);
  const std::set<std::string> current(databases_.begin(), databases_.end());
  runner_->Forget(current);
  database_caps_.clear();  // extensions may have been added or removed since
  next_discovery_ = Clock::now() + settings_.discovery_interval;
}

asio::awaitable<void> Target::CollectDatabases(Clock::time_point deadline, collector::Collected& out) {
  if (Clock::now() >= next_discovery_ && conn_.IsOpen()) {
    try {
      co_await Discover(deadline);
    } catch (const pg::PgError& e) {
      log::Warn("database discovery failed", {{"target", name()}, {"err", e.what()}});
    }
  }
  // Due databases, the longest-waiting first: with more databases than one refresh can visit, every database gets
  // its turn within a few refreshes, and none starves. The others are served from cache.
  const auto now = Clock::now();
  std::vector<std::pair<Clock::time_point, std::string>> due;
  for (const auto& database : databases_) {
    const auto due_at = runner_->DueAt(collector::Scope::kDatabase, database);
    if (due_at <= now) {
      due.emplace_back(due_at, database);
    } else {
      runner_->ServeCached(collector::Scope::kDatabase, database, out);
    }
  }
  std::stable_sort(due.begin(), due.end());
  std::deque<std::string> queue;
  for (auto& entry : due) queue.push_back(std::move(entry.second));

  // The connection budget: one for the cluster, the rest visit databases side by side.
  const auto visit_deadline = std::min(deadline, now + settings_.database_budget);
  const std::size_t workers = std::min(slots_.size(), queue.size());
  auto group = std::make_shared<WorkerGroup>();
  group->running = workers;
  for (std::size_t i = 0; i < workers; ++i) {
    asio::co_spawn(executor_, VisitDatabases(shared_from_this(), *slots_[i], queue, visit_deadline, out, group),
                   asio::detached);
  }
  // Every visit is bounded by visit_deadline, so the workers end soon after it; the queue and `out` they use live
  // in this frame, so it waits for them rather than for the deadline.
  if (workers > 0) co_await group->finished.Wait(Clock::time_point::max());
  for (const auto& database : queue) runner_->ServeCached(collector::Scope::kDatabase, database, out);
}

asio::awaitable<void> Target::VisitDatabases(std::shared_ptr<Target> self, DatabaseSlot& slot,
                                             std::deque<std::string>& queue, Clock::time_point deadline,
                                             collector::Collected& out, std::shared_ptr<WorkerGroup> group) {
  try {
    co_await self->VisitQueue(slot, queue, deadline, out);
  } catch (const std::exception& e) {
    // Detached: an escaping exception would end the process, and the group would wait forever.
    log::Error("database visit failed", {{"target", self->name()}, {"err", e.what()}});
  }
  if (--group->running == 0) group->finished.Set();
}

asio::awaitable<void> Target::VisitQueue(DatabaseSlot& slot, std::deque<std::string>& queue, Clock::time_point deadline,
                                         collector::Collected& out) {
  while (!queue.empty() && Clock::now() < deadline) {
    const std::string database = queue.front();
    queue.pop_front();
    std::string failure;
    auto failure_kind = pg::ErrorKind::kConnect;
    try {
      if (!slot.conn.IsOpen() || slot.database != database || slot.credentials_generation != credentials_generation_) {
        slot.conn.Close();
        auto params = ConnectionParams();
        params["dbname"] = database;
        auto session = settings_.session;
        session.check_pg_monitor = false;
        co_await slot.conn.Connect(std::move(params), session,
                                   std::min(deadline, Clock::now() + settings_.connect_timeout));
        credentials_.CountLogin();
        slot.database = database;
        slot.credentials_generation = credentials_generation_;
      }
      if (!database_caps_.count(database)) {
        const auto replica = caps_ ? std::optional<bool>(caps_->is_replica) : std::nullopt;
        database_caps_[database] =
            co_await collector::DetectCapabilities(slot.conn, settings_.collectors->database_needs, replica, deadline);
      }
    } catch (const pg::PgError& e) {
      failure = e.what();
      failure_kind = e.kind();
    }
    if (!failure.empty()) {
      if (failure_kind == pg::ErrorKind::kAuth) OnAuthFailure();
      // Once per database and problem: a database that refuses pgpulse (CONNECT revoked) must not flood the log.
      if (logged_database_errors_.insert(database + '\x1f' + failure).second) {
        log::Warn("database unavailable", {{"target", name()}, {"database", database}, {"err", failure}});
      }
      for (const auto& def : settings_.collectors->definitions) {
        if (def.scope == collector::Scope::kDatabase) out.status[def.name].success = false;
      }
      runner_->ServeCached(collector::Scope::kDatabase, database, out);
      continue;
    }
    slot.idle_timer.cancel();
    // Database i of n comes due again (i+1)/n of the way through its first ttl: see Runner::Run.
    const auto position = std::find(databases_.begin(), databases_.end(), database) - databases_.begin();
    const double first_expiry = static_cast<double>(position + 1) / static_cast<double>(databases_.size());
    co_await runner_->Run(collector::Scope::kDatabase, database, slot.conn, database_caps_[database], deadline, out,
                          first_expiry);
    // With more databases than connections a connection is rarely reused, so it is not kept open between visits.
    if (databases_.size() > slots_.size()) {
      slot.conn.Close();
    } else {
      CloseWhenIdle(slot);
    }
  }
}

}  // namespace pgpulse::target
