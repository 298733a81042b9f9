#include "exporter/targets/database_visits.h"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <set>

#include "exporter/log/log.h"

namespace pgpulse::targets {
namespace asio = boost::asio;
using async::Clock;

DatabaseVisits::DatabaseVisits(asio::any_io_executor executor, std::string target_name, TargetSettings settings,
                               config::DatabaseFilter filter, int connections, VisitHooks hooks)
    : executor_(executor),
      target_name_(std::move(target_name)),
      settings_(std::move(settings)),
      filter_(std::move(filter)),
      hooks_(std::move(hooks)) {
  for (int i = 0; i < connections; ++i) slots_.push_back(std::make_unique<Slot>(executor));
}

int DatabaseVisits::open_connections() const {
  int open = 0;
  for (const auto& slot : slots_) open += slot->conn.IsOpen() ? 1 : 0;
  return open;
}

std::vector<DatabaseVisit> DatabaseVisits::visited() const {
  std::vector<DatabaseVisit> out;
  for (const auto& database : databases_) {
    auto found = last_visits_.find(database);
    out.push_back(found != last_visits_.end() ? found->second : DatabaseVisit{database, std::nullopt, false});
  }
  return out;
}

void DatabaseVisits::Shutdown() {
  for (auto& slot : slots_) {
    slot->idle_timer.cancel();
    slot->conn.Close();
  }
}

void DatabaseVisits::CloseWhenIdle(Slot& slot) {
  slot.idle_timer.expires_after(settings_.idle_timeout);
  // A new visit cancels the timer; a destroyed target aborts it, so the handler only touches a live slot.
  slot.idle_timer.async_wait([&slot, weak = weak_from_this()](const boost::system::error_code& ec) {
    if (ec || weak.expired()) return;
    slot.conn.Close();
  });
}

asio::awaitable<void> DatabaseVisits::Discover(pg::Connection& main, collector::CollectorCache& cache,
                                               Clock::time_point deadline) {
  std::string sql = "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY 1";
  std::vector<std::optional<std::string>> no_params;
  auto result = co_await main.Query(std::move(sql), std::move(no_params), deadline);
  const config::DatabaseMatcher matcher(filter_);
  std::vector<std::string> names;
  for (const auto& row : result.rows) {
    if (row.at(0) && matcher.Matches(*row.at(0))) names.push_back(*row.at(0));
  }
  if (names != databases_) {
    log::Info("databases discovered", {{"target", target_name_}, {"count", std::to_string(names.size())}});
  }
  databases_ = std::move(names);
  const std::set<std::string> current(databases_.begin(), databases_.end());
  cache.Forget(current);
  database_caps_.clear();  // extensions may have been added or removed since
  next_discovery_ = Clock::now() + settings_.discovery_interval;
}

void DatabaseVisits::Dropped(const std::string& database, collector::CollectorCache& cache) {
  log::Info("database dropped", {{"target", target_name_}, {"database", database}});
  std::erase(databases_, database);
  cache.Forget(std::set<std::string>(databases_.begin(), databases_.end()));
  cache.ExpireClusterResults();
  database_caps_.erase(database);
  last_visits_.erase(database);
}

asio::awaitable<void> DatabaseVisits::Collect(pg::Connection& main, std::optional<bool> replica,
                                              collector::CollectorCache& cache, Clock::time_point deadline,
                                              collector::Collected& out) {
  if (Clock::now() >= next_discovery_ && main.IsOpen()) {
    try {
      co_await Discover(main, cache, deadline);
    } catch (const pg::PgError& e) {
      log::Warn("database discovery failed", {{"target", target_name_}, {"err", e.what()}});
    }
  }
  // Due databases, the longest-waiting first: with more databases than one refresh can visit, every database gets
  // its turn within a few refreshes, and none starves. The others are served from cache.
  const auto now = Clock::now();
  std::vector<std::pair<Clock::time_point, std::string>> due;
  for (const auto& database : databases_) {
    const auto due_at = cache.DueAt(collector::Scope::kDatabase, database);
    if (due_at <= now) {
      due.emplace_back(due_at, database);
    } else {
      cache.ServeCached(collector::Scope::kDatabase, database, out);
    }
  }
  std::stable_sort(due.begin(), due.end());

  // The connection budget: one for the cluster, the rest visit databases side by side.
  Round round{{}, replica, cache, std::min(deadline, now + settings_.database_budget), out};
  for (auto& entry : due) round.queue.push_back(std::move(entry.second));
  const std::size_t workers = std::min(slots_.size(), round.queue.size());
  auto group = std::make_shared<WorkerGroup>(executor_);
  group->running = workers;
  for (std::size_t i = 0; i < workers; ++i) {
    asio::co_spawn(executor_, Work(shared_from_this(), *slots_[i], round, group), asio::detached);
  }
  // Every visit is bounded by the round's deadline, so the workers end soon after it; the round they use lives in
  // this frame, so it waits for them rather than for the deadline.
  if (workers > 0) co_await group->finished.Wait(Clock::time_point::max());
  for (const auto& database : round.queue) cache.ServeCached(collector::Scope::kDatabase, database, out);
}

asio::awaitable<void> DatabaseVisits::Work(std::shared_ptr<DatabaseVisits> self, Slot& slot, Round& round,
                                           std::shared_ptr<WorkerGroup> group) {
  try {
    co_await self->Visit(slot, round);
  } catch (const std::exception& e) {
    // Detached: an escaping exception would end the process, and the group would wait forever.
    log::Error("database visit failed", {{"target", self->target_name_}, {"err", e.what()}});
  }
  if (--group->running == 0) group->finished.Set();
}

asio::awaitable<void> DatabaseVisits::Visit(Slot& slot, Round& round) {
  auto& queue = round.queue;
  const auto deadline = round.deadline;
  auto& out = round.out;
  while (!queue.empty() && Clock::now() < deadline) {
    const std::string database = queue.front();
    queue.pop_front();
    std::string failure;
    auto failure_kind = pg::ErrorKind::kConnect;
    try {
      if (!slot.conn.IsOpen() || slot.database != database || slot.credentials_generation != credentials_generation_) {
        slot.conn.Close();
        auto params = hooks_.connection_params();
        params["dbname"] = database;
        auto session = settings_.session;
        session.check_pg_monitor = false;
        co_await slot.conn.Connect(std::move(params), session,
                                   std::min(deadline, Clock::now() + settings_.connect_timeout));
        hooks_.logged_in();
        slot.database = database;
        slot.credentials_generation = credentials_generation_;
      }
      if (!database_caps_.count(database)) {
        database_caps_[database] = co_await collector::DetectCapabilities(
            slot.conn, settings_.collectors->database_needs, round.replica, deadline);
      }
    } catch (const pg::PgError& e) {
      failure = e.what();
      failure_kind = e.kind();
    }
    // The server's FATAL at login (libpq gives no SQLSTATE for it): the database went between discovery and now.
    if (failure_kind == pg::ErrorKind::kConnect &&
        failure.find("database \"" + database + "\" does not exist") != std::string::npos) {
      Dropped(database, round.cache);
      continue;
    }
    if (!failure.empty()) {
      if (failure_kind == pg::ErrorKind::kAuth) hooks_.auth_failed();
      // Once per database and problem: a database that refuses pgpulse (CONNECT revoked) must not flood the log.
      if (logged_errors_.First(database + '\x1f' + failure)) {
        log::Warn("database unavailable", {{"target", target_name_}, {"database", database}, {"err", failure}});
      }
      for (const auto& def : settings_.collectors->definitions) {
        if (def.scope == collector::Scope::kDatabase) out.status[def.name].success = false;
      }
      round.cache.ServeCached(collector::Scope::kDatabase, database, out);
      auto& visit = last_visits_[database];
      visit.database = database;
      visit.last_failed = true;
      continue;
    }
    slot.idle_timer.cancel();
    // Database i of n comes due again (i+1)/n of the way through its first ttl: see CollectorCache::Collect.
    const auto position = std::find(databases_.begin(), databases_.end(), database) - databases_.begin();
    const double first_expiry = static_cast<double>(position + 1) / static_cast<double>(databases_.size());
    co_await round.cache.Collect(collector::Scope::kDatabase, database, slot.conn, database_caps_[database], deadline,
                                 out, first_expiry);
    last_visits_[database] = DatabaseVisit{database, std::chrono::system_clock::now(), false};
    // With more databases than connections a connection is rarely reused, so it is not kept open between visits.
    if (databases_.size() > slots_.size()) {
      slot.conn.Close();
    } else {
      CloseWhenIdle(slot);
    }
  }
}

}  // namespace pgpulse::targets
