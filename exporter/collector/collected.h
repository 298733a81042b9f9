#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "exporter/collector/collector_set.h"
#include "exporter/collector/rows.h"
#include "exporter/metrics/exposition.h"

namespace pgpulse::collector {

// What one collector did in one refresh of a target, for its pgpulse_collector_* series.
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

// Writes the per-collector self-metrics of one target's refresh (pgpulse_collector_*).
void WriteCollectorStatus(const Collected& collected, const metrics::Labels& target_labels, metrics::Exposition& out);

// The collectors' families of several targets' refreshes, each family's samples together under one header, as
// views into the set's headers and the results' cached text, in exposition order: valid while the refreshes live.
// All must come from one CollectorSet; results of another set are left out (a reload swaps every target at once).
std::vector<std::string_view> CollectedFamilyParts(const std::vector<const Collected*>& refreshes);

}  // namespace pgpulse::collector
