#include "exporter/collector/runner.h"

#include <algorithm>

#include "exporter/collector/rows.h"
#include "exporter/log/log.h"
#include "exporter/metrics/text.h"

namespace pgpulse::collector {
namespace asio = boost::asio;
using async::Clock;

std::shared_ptr<const CollectorSet> BuildCollectorSet(
    std::vector<Definition> definitions, const std::map<std::string, config::CollectorSettings>& settings) {
  for (const auto& entry : settings) {
    const auto& name = entry.first;
    const auto& setting = entry.second;
    auto it = std::find_if(definitions.begin(), definitions.end(), [&name](const auto& d) { return d.name == name; });
    if (it == definitions.end()) throw config::ConfigError("collectors." + name + ": no collector has this name");
    if (setting.limit && !it->top) {
      throw config::ConfigError("collectors." + name + ".limit: this collector keeps every row (it has no top:)");
    }
  }
  auto set = std::make_shared<CollectorSet>();
  std::map<std::string, FamilyPlan> families;
  for (auto& def : definitions) {
    if (auto it = settings.find(def.name); it != settings.end()) {
      if (it->second.enabled == false) continue;
      if (it->second.ttl) def.ttl = *it->second.ttl;
      if (it->second.limit) def.top->limit = static_cast<int>(*it->second.limit);
      if (it->second.max_series) def.max_series = static_cast<std::size_t>(*it->second.max_series);
      if (it->second.max_rows) def.max_rows = static_cast<std::size_t>(*it->second.max_rows);
    }
    auto& needs = def.scope == Scope::kCluster ? set->cluster_needs : set->database_needs;
    needs.extensions = needs.extensions || !def.requires_extension.empty();
    if (!def.requires_function.empty() &&
        std::find(needs.functions.begin(), needs.functions.end(), def.requires_function) == needs.functions.end()) {
      needs.functions.push_back(def.requires_function);
    }
    std::size_t value_index = 0;
    for (const auto& column : def.columns) {
      if (column.usage == Usage::kLabel) {
        set->label_names.insert(column.label);
        continue;
      }
      auto& family = families[column.name];
      if (family.header.empty()) {
        family.name = column.name;
        family.header =
            metrics::FamilyHeader(column.name, column.help,
                                  column.usage == Usage::kCounter ? metrics::Type::kCounter : metrics::Type::kGauge);
      }
      family.sources.emplace_back(set->definitions.size(), value_index++);
    }
    set->longest_timeout = std::max(set->longest_timeout, def.timeout);
    if (def.scope == Scope::kDatabase) {
      set->has_database_scope = true;
      set->database_revisit = std::min(set->database_revisit, def.ttl);
    }
    set->definitions.push_back(std::move(def));
  }
  for (auto& entry : families) set->families.push_back(std::move(entry.second));
  return set;
}

void CheckTargetLabels(const CollectorSet& set, const std::vector<config::TargetConfig>& targets) {
  for (const auto& target : targets) {
    for (const auto& [label, value] : target.labels) {
      // Also the labels of pgpulse's own series (pgpulse_collector_*, pgpulse_credential_reloads_total,
      // pgpulse_target_role_info).
      static const std::set<std::string> kOwn = {"collector", "reason",        "result",        "rolname",
                                                 "superuser", "superuser_via", "managed_admin", "pg_monitor"};
      if (set.label_names.count(label) || kOwn.count(label)) {
        throw config::ConfigError(target.origin + ": labels." + label +
                                  ": clashes with a label pgpulse's collectors set");
      }
    }
  }
}

Runner::Runner(std::shared_ptr<const CollectorSet> set, std::string target_name, metrics::Labels target_labels)
    : set_(std::move(set)), target_name_(std::move(target_name)), target_labels_(std::move(target_labels)) {}

Collected Runner::NewCollected() const {
  Collected collected;
  collected.set = set_;
  collected.results.resize(set_->definitions.size());
  return collected;
}

void Runner::LogOnce(log::Level level, const std::string& key, const std::string& message, const std::string& collector,
                     const std::string& detail) {
  if (!logged_.insert(key).second) return;
  const log::Fields fields = {{"target", target_name_}, {"collector", collector}, {"detail", detail}};
  level == log::Level::kWarn ? log::Warn(message, fields) : log::Info(message, fields);
}

void Runner::Forget(const std::set<std::string>& databases) {
  auto stale = [&databases](const auto& entry) {
    return !entry.first.second.empty() && !databases.count(entry.first.second);
  };
  std::erase_if(cache_, stale);
  std::erase_if(tops_, stale);
  std::erase_if(unloaded_,
                [&databases](const Key& key) { return !key.second.empty() && !databases.count(key.second); });
}

bool Runner::RefreshDue(Scope scope, const CacheEntry& entry, Clock::time_point now) const {
  if (scope == Scope::kCluster) return now >= entry.due;
  // Each database visit is a login (SCRAM costs client and server milliseconds of CPU). A result that would expire
  // before the next visit, which comes at the earliest database_revisit from now, would cost a visit of its own:
  // refreshing it now keeps a database's collectors in step, so their refreshes share visits. A result is thereby
  // refreshed at most database_revisit early, never late.
  return now + set_->database_revisit >= entry.due;
}

void Runner::Store(const Key& key, const Definition& def, Clock::time_point now,
                   std::shared_ptr<const RenderedResult> result, double first_expiry) {
  auto [entry, first] = cache_.try_emplace(key);
  const double share = first && first_expiry > 0 && first_expiry < 1 ? first_expiry : 1.0;
  const auto ttl = std::chrono::duration_cast<Clock::duration>(def.ttl * share);
  entry->second = CacheEntry{now, now + ttl, std::move(result)};
}

Clock::time_point Runner::DueAt(Scope scope, const std::string& database) const {
  auto due = Clock::time_point::max();
  for (const auto& def : set_->definitions) {
    if (def.scope != scope) continue;
    auto cached = cache_.find(Key{def.name, database});
    if (cached == cache_.end()) return Clock::time_point::min();
    due = std::min(due, cached->second.due);
  }
  return due;
}

void Runner::Append(std::size_t index, const std::shared_ptr<const RenderedResult>& result, Collected& out) {
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

void Runner::ServeCachedEntry(std::size_t index, const Key& key, Collected& out) {
  auto cached = cache_.find(key);
  if (cached == cache_.end()) return;
  auto& status = out.status[set_->definitions[index].name];
  const double age = std::chrono::duration<double>(Clock::now() - cached->second.at).count();
  status.cache_age_seconds = std::max(status.cache_age_seconds.value_or(0), age);
  status.ran = status.ran || cached->second.result->series > 0;
  Append(index, cached->second.result, out);
}

void Runner::ServeCached(Scope scope, const std::string& database, Collected& out) {
  for (std::size_t i = 0; i < set_->definitions.size(); ++i) {
    const auto& def = set_->definitions[i];
    if (def.scope == scope) ServeCachedEntry(i, Key{def.name, database}, out);
  }
}

asio::awaitable<void> Runner::Run(Scope scope, std::string database, pg::Connection& conn, Capabilities caps,
                                  Clock::time_point deadline, Collected& out, double first_expiry) {
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

void WriteCollectorStatus(const Collected& collected, const metrics::Labels& target_labels, metrics::Exposition& out) {
  for (const auto& [name, status] : collected.status) {
    auto labels = target_labels;
    labels["collector"] = name;
    if (status.skip_reason) {
      auto skipped = labels;
      skipped["reason"] = *status.skip_reason;
      out.Gauge("pgpulse_collector_enabled", "Whether the collector can run on this target; reason says why not.",
                skipped, 0);
      continue;
    }
    out.Gauge("pgpulse_collector_enabled", "Whether the collector can run on this target; reason says why not.", labels,
              1);
    out.Gauge("pgpulse_collector_success", "Whether the collector's last run on this target succeeded.", labels,
              status.success ? 1 : 0);
    if (const auto* def = collected.set ? collected.set->Find(name) : nullptr; def && def->ttl.count() > 0) {
      // With the cache age, tells a result served within its ttl from one kept because refreshes fail.
      out.Gauge("pgpulse_collector_ttl_seconds", "How long the collector's results are cached, from its definition.",
                labels, std::chrono::duration<double>(def->ttl).count());
    }
    out.Gauge("pgpulse_collector_duration_seconds", "Time the collector's queries took in this refresh.", labels,
              status.duration_seconds);
    out.Gauge("pgpulse_collector_series", "Samples the collector exported in this refresh, cached ones included.",
              labels, static_cast<double>(status.series));
    if (status.cache_age_seconds) {
      out.Gauge("pgpulse_collector_cache_age_seconds", "Age of the cached result served for this collector.", labels,
                *status.cache_age_seconds);
    }
    out.Counter("pgpulse_collector_series_limit_hits_total",
                "Refreshes in which the collector exceeded max_series or max_rows and samples were dropped.", labels,
                static_cast<double>(status.limit_hits_total));
    out.Counter("pgpulse_collector_utf8_replacements_total",
                "Invalid UTF-8 sequences replaced with U+FFFD in the collector's label values.", labels,
                static_cast<double>(status.utf8_replacements_total));
  }
}

std::vector<std::string_view> CollectedFamilyParts(const std::vector<const Collected*>& refreshes) {
  std::vector<std::string_view> parts;
  const CollectorSet* set = refreshes.empty() ? nullptr : refreshes.front()->set.get();
  if (!set) return parts;
  for (const auto& family : set->families) {
    bool any = false;
    for (const auto* collected : refreshes) {
      if (collected->set.get() != set) continue;
      for (const auto& [definition, column] : family.sources) {
        for (const auto& result : collected->results[definition]) {
          const auto& lines = result->lines[column];
          if (lines.empty()) continue;
          if (!any) parts.emplace_back(family.header);
          any = true;
          parts.emplace_back(lines);
        }
      }
    }
  }
  return parts;
}

}  // namespace pgpulse::collector
