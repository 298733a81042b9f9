#pragma once

#include <string>
#include <vector>

#include "exporter/collector/definition.h"

namespace pgpulse::collector {

// The metric reference as a Markdown table, generated from the collector definitions so that docs/metrics.md cannot
// drift from the YAML: one row per metric, with type, labels, collector, scope and help.
std::string RenderMetricReference(const std::vector<Definition>& definitions);

}  // namespace pgpulse::collector
