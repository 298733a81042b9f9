#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "exporter/metrics/exposition.h"
#include "exporter/targets/target.h"

namespace pgpulse::app {

// Writes one target's series. `snapshot` is this scrape's refresh result.
void WriteTargetMetrics(const targets::Target& target, const targets::Snapshot& snapshot, metrics::Exposition& out);

// How the last configuration reload went; at start, the initial load counts as one that succeeded.
struct ReloadStatus {
  bool successful = true;
  double success_timestamp_seconds = 0;  // Unix time
};

// Process-level series (build info, configuration reloads, this scrape's time allowance `budget`).
void WriteProcessMetrics(const ReloadStatus& reload, std::chrono::milliseconds budget, metrics::Exposition& out);

}  // namespace pgpulse::app
