#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>

#include "exporter/async/deadline.h"
#include "exporter/collector/capabilities.h"
#include "exporter/collector/collected.h"
#include "exporter/collector/collector_set.h"
#include "exporter/collector/top.h"
#include "exporter/log/log.h"
#include "exporter/log/once.h"
#include "exporter/metrics/exposition.h"
#include "exporter/pg/connection.h"

namespace pgpulse::collector {

// One target's collectors: they run through it, and their results are kept for their ttl and served from it, with
// the top-N selectors' memory. One per target; used on the io thread only.
class CollectorCache {
 public:
  // `target_labels` (the config's labels and target="name") are rendered into every cached sample.
  CollectorCache(std::shared_ptr<const CollectorSet> set, std::string target_name, metrics::Labels target_labels);

  // An empty refresh output for this target's collectors.
  Collected NewCollected() const;

  // Runs the collectors of `scope` on `conn`, which is connected to `database`. Results younger than a collector's
  // ttl are served from cache, except in a database visit: there a result that would expire before the database's
  // next visit is refreshed now (see RefreshDue). A failing collector is marked and the others still run.
  // `first_expiry` (0 to 1] is the share of its ttl after which a database's first result is due again: given each
  // database its own, the databases that were all visited at start come due in turn instead of all at once, so
  // later refreshes visit a few databases each rather than every database in one long burst per ttl.
  boost::asio::awaitable<void> Collect(Scope scope, std::string database, pg::Connection& conn, Capabilities caps,
                                       async::Clock::time_point deadline, Collected& out, double first_expiry = 1);

  // Drops cached results of databases not in `databases` (they were dropped or excluded).
  void Forget(const std::set<std::string>& databases);
  // Makes every cached cluster-scope result due: after a database was dropped, results that still name it (sizes,
  // statements) are collected again by the next refresh instead of being served until their ttl ends.
  void ExpireClusterResults();

  // When the first of the `scope` collectors' results for `database` is due (its ttl passed, or its shorter first
  // one); time_point::min() when one was never collected, so never-visited databases come first.
  async::Clock::time_point DueAt(Scope scope, const std::string& database) const;

  // Serves what is cached for `database`, however old, with its age; used for databases not visited this refresh.
  void ServeCached(Scope scope, const std::string& database, Collected& out);

 private:
  struct CacheEntry {
    async::Clock::time_point at;   // when it was collected
    async::Clock::time_point due;  // when it is to be refreshed: at + ttl, or sooner for a first result
    std::shared_ptr<const RenderedResult> result;
  };
  using Key = std::pair<std::string, std::string>;  // (collector, database); database empty for cluster scope

  // Whether `entry` is refreshed rather than served from cache in a run of `scope` at `now`.
  bool RefreshDue(Scope scope, const CacheEntry& entry, async::Clock::time_point now) const;
  // Caches a result collected at `now`.
  void Store(const Key& key, const Definition& def, async::Clock::time_point now,
             std::shared_ptr<const RenderedResult> result, double first_expiry);

  // Adds a result to `out` if it fits in the collector's max_series; a result that does not (or that was truncated
  // when rendered) counts as a hit.
  void Append(std::size_t index, const std::shared_ptr<const RenderedResult>& result, Collected& out);
  void ServeCachedEntry(std::size_t index, const Key& key, Collected& out);

  // Logs a problem of `collector` the first time `key` names it.
  void LogOnce(log::Level level, const std::string& key, const std::string& message, const std::string& collector,
               const std::string& detail);

  std::shared_ptr<const CollectorSet> set_;
  std::string target_name_;
  metrics::Labels target_labels_;
  std::map<Key, CacheEntry> cache_;
  std::map<Key, TopSelector> tops_;
  std::set<Key> unloaded_;  // (collector, database) whose extension library is not loaded
  std::map<std::string, std::uint64_t> limit_hits_;
  std::map<std::string, std::uint64_t> utf8_replacements_;
  log::Once logged_;
};

}  // namespace pgpulse::collector
