#pragma once

#include <boost/asio/awaitable.hpp>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "exporter/async/deadline.h"
#include "exporter/collector/capabilities.h"
#include "exporter/collector/definition.h"
#include "exporter/collector/rows.h"
#include "exporter/collector/top.h"
#include "exporter/config/config.h"
#include "exporter/log/log.h"
#include "exporter/metrics/exposition.h"
#include "exporter/pg/connection.h"

namespace pgpulse::collector {

// A metric family as the collectors export it: its HELP and TYPE lines, and the (definition, value column) pairs
// that feed it (two collectors may share a family when they agree on its type and help).
struct FamilyPlan {
  std::string name;
  std::string header;
  std::vector<std::pair<std::size_t, std::size_t>> sources;  // (index in definitions, index among value columns)
};

// What capability detection must find out on a connection, for the collectors of one scope.
struct CapabilityNeeds {
  bool extensions = false;             // some collector requires an extension
  std::vector<std::string> functions;  // distinct requires.function texts
};

// The collectors every target runs: built-in and custom definitions with the config's `collectors:` overrides
// applied (disabled ones removed). Shared, read-only, by all targets.
struct CollectorSet {
  std::vector<Definition> definitions;
  std::vector<FamilyPlan> families;   // every family the definitions export, by name
  CapabilityNeeds cluster_needs;      // for the target's own connection
  CapabilityNeeds database_needs;     // for each database a database-scope collector visits
  std::set<std::string> label_names;  // every label a collector can set, to catch clashes with target labels
  std::chrono::milliseconds longest_timeout{0};
  // The shortest ttl among database-scope collectors: a visited database is due again at most this long after.
  std::chrono::milliseconds database_revisit = std::chrono::milliseconds::max();
  bool has_database_scope = false;

  const Definition* Find(std::string_view name) const {
    for (const auto& def : definitions) {
      if (def.name == name) return &def;
    }
    return nullptr;
  }
};

// Applies overrides. Throws config::ConfigError for a setting that names no collector, or a limit on a collector
// without `top`.
std::shared_ptr<const CollectorSet> BuildCollectorSet(std::vector<Definition> definitions,
                                                      const std::map<std::string, config::CollectorSettings>& settings);

// A target label with the same name as a collector's label would give a series two values for one label.
// Throws config::ConfigError naming the target and label.
void CheckTargetLabels(const CollectorSet& set, const std::vector<config::TargetConfig>& targets);

struct CollectorStatus {
  std::size_t series = 0;                     // samples exported in this refresh
  bool limit_hit = false;                     // max_series dropped samples in this refresh
  std::uint64_t limit_hits_total = 0;         // refreshes in which that happened, since start
  std::uint64_t utf8_replacements_total = 0;  // invalid UTF-8 sequences replaced in its label values, since start
  double duration_seconds = 0;
  bool success = true;
  bool ran = false;                         // ran, or was served from cache, in at least one database
  std::optional<double> cache_age_seconds;  // oldest cached result served in this refresh
  std::optional<std::string> skip_reason;   // why it ran nowhere on this target
};

// One refresh's output for one target: for each collector, the results it served (one per database it covers).
struct Collected {
  std::shared_ptr<const CollectorSet> set;  // the results' definition indexes refer to this set
  std::vector<std::vector<std::shared_ptr<const RenderedResult>>> results;  // per index in set->definitions
  std::map<std::string, CollectorStatus> status;
};

// A target's collector state: the TTL cache and the top-N selectors. One per target; used on the io thread only.
class Runner {
 public:
  // `target_labels` (the config's labels and target="name") are rendered into every cached sample.
  Runner(std::shared_ptr<const CollectorSet> set, std::string target_name, metrics::Labels target_labels);

  // An empty refresh output for this runner's collectors.
  Collected NewCollected() const;

  // Runs the collectors of `scope` on `conn`, which is connected to `database`. Results younger than a collector's
  // ttl are served from cache, except in a database visit: there a result that would expire before the database's
  // next visit is refreshed now (see RefreshDue). A failing collector is marked and the others still run.
  // `first_expiry` (0 to 1] is the share of its ttl after which a database's first result is due again: given each
  // database its own, the databases that were all visited at start come due in turn instead of all at once, so
  // later refreshes visit a few databases each rather than every database in one long burst per ttl.
  boost::asio::awaitable<void> Run(Scope scope, std::string database, pg::Connection& conn, Capabilities caps,
                                   async::Clock::time_point deadline, Collected& out, double first_expiry = 1);

  // Drops cached results of databases not in `databases` (they were dropped or excluded).
  void Forget(const std::set<std::string>& databases);

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
  std::set<std::string> logged_;
};

// Writes the per-collector self-metrics of one target's refresh (pgpulse_collector_*).
void WriteCollectorStatus(const Collected& collected, const metrics::Labels& target_labels, metrics::Exposition& out);

// The collectors' families of several targets' refreshes, each family's samples together under one header, as
// views into the set's headers and the results' cached text, in exposition order: valid while the refreshes live.
// All must come from one CollectorSet; results of another set are left out (a reload swaps every target at once).
std::vector<std::string_view> CollectedFamilyParts(const std::vector<const Collected*>& refreshes);

}  // namespace pgpulse::collector
