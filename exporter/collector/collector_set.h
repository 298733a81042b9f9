#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "exporter/collector/capabilities.h"
#include "exporter/collector/definition.h"
#include "exporter/config/config.h"

namespace pgpulse::collector {

// A metric family as the collectors export it: its HELP and TYPE lines, and the (definition, value column) pairs
// that feed it (two collectors may share a family when they agree on its type and help).
struct FamilyPlan {
  std::string name;
  std::string header;
  std::vector<std::pair<std::size_t, std::size_t>> sources;  // (index in definitions, index among value columns)
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

}  // namespace pgpulse::collector
