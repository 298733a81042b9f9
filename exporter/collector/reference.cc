#include "exporter/collector/reference.h"

#include <algorithm>

namespace pgpulse::collector {
namespace {

std::string Escape(std::string text) {
  // A '|' would end a Markdown table cell.
  for (std::size_t at = text.find('|'); at != std::string::npos; at = text.find('|', at + 2))
    text.replace(at, 1, "\\|");
  return text;
}

}  // namespace

std::string RenderMetricReference(const std::vector<Definition>& definitions) {
  auto sorted = definitions;
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  std::string out =
      "| metric | type | labels (besides target) | collector | scope, ttl | help |\n"
      "|---|---|---|---|---|---|\n";
  for (const auto& def : sorted) {
    std::string labels;
    for (const auto& column : def.columns) {
      if (column.usage == Usage::kLabel) labels += (labels.empty() ? "" : ", ") + column.label;
    }
    std::string where = def.scope == Scope::kCluster ? "cluster" : "database";
    if (def.ttl.count() > 0) where += ", " + std::to_string(def.ttl.count() / 1000) + "s";
    if (def.primary_only) where += ", primary only";
    if (def.replica_only) where += ", replica only";
    for (const auto& column : def.columns) {
      if (column.usage == Usage::kLabel) continue;
      out += "| `" + column.name + "` | " + (column.usage == Usage::kCounter ? "counter" : "gauge") + " | " +
             Escape(labels) + " | " + def.name + " | " + where + " | " + Escape(column.help) + " |\n";
    }
  }
  return out;
}

}  // namespace pgpulse::collector
