#include "exporter/collector/collector_set.h"

#include <algorithm>

#include "exporter/metrics/names.h"
#include "exporter/metrics/text.h"

namespace pgpulse::collector {

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
      if (set.label_names.count(label) || metrics::own::IsSeriesLabel(label)) {
        throw config::ConfigError(target.origin + ": labels." + label +
                                  ": clashes with a label pgpulse's collectors set");
      }
    }
  }
}

}  // namespace pgpulse::collector
