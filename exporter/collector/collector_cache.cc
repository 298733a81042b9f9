#include "exporter/collector/collector_cache.h"

#include <algorithm>

#include "exporter/collector/rows.h"

namespace pgpulse::collector {
namespace asio = boost::asio;
using async::Clock;

CollectorCache::CollectorCache(std::shared_ptr<const CollectorSet> set, std::string target_name,
                               metrics::Labels target_labels)
    : set_(std::move(set)), target_name_(std::move(target_name)), target_labels_(std::move(target_labels)) {}

Collected CollectorCache::NewCollected() const {
  Collected collected;
  collected.set = set_;
  collected.results.resize(set_->definitions.size());
  return collected;
}

void CollectorCache::LogOnce(log::Level level, const std::string& key, const std::string& message,
                             const std::string& collector, const std::string& detail) {
  if (!logged_.First(key)) return;
  const log::Fields fields = {{"target", target_name_}, {"collector", collector}, {"detail", detail}};
  level == log::Level::kWarn ? log::Warn(message, fields) : log::Info(message, fields);
}

void CollectorCache::Forget(const std::set<std::string>& databases) {
  auto stale = [&databases](const auto& entry) {
    return !entry.first.second.empty() && !databases.count(entry.first.second);
  };
  std::erase_if(cache_, stale);
  std::erase_if(tops_, stale);
  std::erase_if(unloaded_,
                [&databases](const Key& key) { return !key.second.empty() && !databases.count(key.second); });
}

void CollectorCache::ExpireClusterResults() {
  for (auto& [key, entry] : cache_) {
    if (key.second.empty()) entry.due = Clock::time_point::min();
  }
}

bool CollectorCache::RefreshDue(Scope scope, const CacheEntry& entry, Clock::time_point now) const {
  if (scope == Scope::kCluster) return now >= entry.due;
  // Each database visit is a login (SCRAM costs client and server milliseconds of CPU). A result that would expire
  // before the next visit, which comes at the earliest database_revisit from now, would cost a visit of its own:
  // refreshing it now keeps a database's collectors in step, so their refreshes share visits. A result is thereby
  // refreshed at most database_revisit early, never late.
  return now + set_->database_revisit >= entry.due;
}

void CollectorCache::Store(const Key& key, const Definition& def, Clock::time_point now,
                           std::shared_ptr<const RenderedResult> result, double first_expiry) {
  auto [entry, first] = cache_.try_emplace(key);
  const double share = first && first_expiry > 0 && first_expiry < 1 ? first_expiry : 1.0;
  const auto ttl = std::chrono::duration_cast<Clock::duration>(def.ttl * share);
  entry->second = CacheEntry{now, now + ttl, std::move(result)};
}

Clock::time_point CollectorCache::DueAt(Scope scope, const std::string& database) const {
  auto due = Clock::time_point::max();
  for (const auto& def : set_->definitions) {
    if (def.scope != scope) continue;
    auto cached = cache_.find(Key{def.name, database});
    if (cached == cache_.end()) return Clock::time_point::min();
    due = std::min(due, cached->second.due);
  }
  return due;
}

void CollectorCache::Append(std::size_t index, const std::shared_ptr<const RenderedResult>& result, Collected& out) {
  const auto& def = set_->definitions[index];
  auto& status = out.status[def.name];
  const bool fits = status.series + result->series <= def.max_series;
  if (fits && result->series > 0) {
    out.results[index].push_back(result);
    status.series += result->series;
  }
  const bool over_series = !fits || result->truncated;
  if ((over_series || result->rows_dropped > 0) && !status.limit_hit) {
    status.limit_hit = true;  // one hit per refresh, however many databases overflow
    ++limit_hits_[def.name];
  }
  if (over_series) {
    LogOnce(log::Level::kWarn, def.name + "\x1f" + "max_series", "collector hit max_series; samples dropped", def.name,
            "max_series=" + std::to_string(def.max_series));
  }
  status.limit_hits_total = limit_hits_[def.name];
  status.utf8_replacements_total = utf8_replacements_[def.name];
}

void CollectorCache::ServeCachedEntry(std::size_t index, const Key& key, Collected& out) {
  auto cached = cache_.find(key);
  if (cached == cache_.end()) return;
  auto& status = out.status[set_->definitions[index].name];
  const double age = std::chrono::duration<double>(Clock::now() - cached->second.at).count();
  status.cache_age_seconds = std::max(status.cache_age_seconds.value_or(0), age);
  status.ran = status.ran || cached->second.result->series > 0;
  Append(index, cached->second.result, out);
}

void CollectorCache::ServeCached(Scope scope, const std::string& database, Collected& out) {
  for (std::size_t i = 0; i < set_->definitions.size(); ++i) {
    const auto& def = set_->definitions[i];
    if (def.scope == scope) ServeCachedEntry(i, Key{def.name, database}, out);
  }
}

asio::awaitable<void> CollectorCache::Collect(Scope scope, std::string database, pg::Connection& conn,
                                              Capabilities caps, Clock::time_point deadline, Collected& out,
                                              double first_expiry) {
  static const auto kEmpty = std::make_shared<const RenderedResult>();
  for (std::size_t index = 0; index < set_->definitions.size(); ++index) {
    const auto& def = set_->definitions[index];
    if (def.scope != scope) continue;
    auto& status = out.status[def.name];
    const Key key{def.name, scope == Scope::kDatabase ? database : std::string()};
    const auto now = Clock::now();
    auto reason = SkipReason(def, caps);
    if (!reason && unloaded_.count(key)) reason = "extension_not_loaded";
    if (reason) {
      if (!status.ran) status.skip_reason = reason;
      // An empty result stands in the cache, so the database is not due again before the ttl passes.
      Store(key, def, now, kEmpty, first_expiry);
      LogOnce(log::Level::kInfo, def.name + '\x1f' + *reason, "collector not applicable", def.name, *reason);
      continue;
    }
    status.skip_reason.reset();
    status.ran = true;
    if (auto cached = cache_.find(key); cached != cache_.end() && !RefreshDue(scope, cached->second, now)) {
      ServeCachedEntry(index, key, out);
      continue;
    }
    if (!conn.IsOpen() || now >= deadline) {
      // An earlier timeout dropped the connection, or the scrape is out of time: the last result, marked by its
      // age, is better than a gap; success says this run did not happen.
      status.success = false;
      ServeCachedEntry(index, key, out);
      continue;
    }
    std::string sql = RenderSql(def, caps);
    std::vector<std::optional<std::string>> no_params;
    bool failed = false;
    std::string failure;
    pg::Result result;
    try {
      result = co_await conn.QueryReadOnly(std::move(sql), std::move(no_params), std::min(deadline, now + def.timeout));
    } catch (const pg::PgError& e) {
      failed = true;
      failure = std::string(pg::ErrorKindName(e.kind())) + ": " + e.what();
      // An extension installed but whose library is not in shared_preload_libraries (pg_stat_statements) raises
      // 55000 on every call: that is "not applicable here", like a missing extension, not a failure to repeat.
      if (e.sqlstate() == "55000" && !def.requires_extension.empty()) {
        unloaded_.insert(key);
        status.skip_reason = "extension_not_loaded";
        status.ran = false;
        LogOnce(log::Level::kInfo, def.name + "\x1fnot loaded", "collector not applicable", def.name, e.what());
        continue;
      }
    }
    status.duration_seconds += std::chrono::duration<double>(Clock::now() - now).count();
    if (!failed) {
      try {
        std::size_t replaced = 0;
        auto rows = MapRows(def, result, &replaced);
        if (replaced > 0) {
          utf8_replacements_[def.name] += replaced;
          LogOnce(log::Level::kWarn, def.name + "\x1f" + "utf8", "collector returned label values that are not UTF-8",
                  def.name, "invalid bytes replaced with U+FFFD; see pgpulse_collector_utf8_replacements_total");
        }
        // Prometheus rejects a whole scrape that holds one series twice, so duplicates are dropped here.
        if (auto dropped = DropDuplicateLabelSets(rows); dropped > 0) {
          LogOnce(log::Level::kWarn, def.name + "\x1f" + "duplicates", "collector returned duplicate label sets",
                  def.name, std::to_string(dropped) + " rows dropped; the labels do not identify a row");
        }
        if (def.top) rows = tops_[key].Apply(def, *def.top, std::move(rows), now);
        auto rendered = RenderRows(def, rows, target_labels_);
        if (rendered->rows_dropped > 0) {
          LogOnce(log::Level::kWarn, def.name + "\x1f" + "max_rows", "collector hit max_rows; rows dropped", def.name,
                  "max_rows=" + std::to_string(def.max_rows) + "; database " + database + " returned " +
                      std::to_string(rows.size()) + " rows; raise collectors." + def.name + ".max_rows to keep more");
        }
        Append(index, rendered, out);
        Store(key, def, now, std::move(rendered), first_expiry);
        continue;
      } catch (const std::runtime_error& e) {
        failed = true;
        failure = e.what();
      }
    }
    status.success = false;
    ServeCachedEntry(index, key, out);
    // Logged once per distinct problem: a collector that fails every scrape must not flood the log.
    LogOnce(log::Level::kWarn, def.name + '\x1f' + failure, "collector failed", def.name, failure);
  }
}

}  // namespace pgpulse::collector
