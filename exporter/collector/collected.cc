#include "exporter/collector/collected.h"

#include <chrono>

#include "exporter/metrics/names.h"

namespace pgpulse::collector {

void WriteCollectorStatus(const Collected& collected, const metrics::Labels& target_labels, metrics::Exposition& out) {
  for (const auto& [name, status] : collected.status) {
    auto labels = target_labels;
    labels[metrics::own::kCollectorLabel] = name;
    if (status.skip_reason) {
      auto skipped = labels;
      skipped[metrics::own::kReasonLabel] = *status.skip_reason;
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
