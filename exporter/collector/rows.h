#pragma once

#include <optional>
#include <string>
#include <vector>

#include "exporter/collector/definition.h"
#include "exporter/metrics/exposition.h"
#include "exporter/pg/connection.h"

namespace pgpulse::collector {

// A result row after mapping: its labels, and its value columns in the order of the definition's value mappings
// (NULL stays nullopt).
struct Row {
  metrics::Labels labels;
  std::vector<std::optional<double>> values;
};

// The SQL variant whose version range holds `server_version`, or nullptr.
const QueryVariant* SelectVariant(const Definition& def, int server_version);

// Maps a result to rows. Throws std::runtime_error naming the collector and column when the result's columns and
// the mapping differ, or a value column is not numeric.
std::vector<Row> MapRows(const Definition& def, const pg::Result& result);

// Turns rows into samples; NULL values produce no sample.
void AppendSamples(const Definition& def, const std::vector<Row>& rows, std::vector<metrics::Sample>& out);

// Removes rows whose labels equal an earlier row's, keeping the first; returns how many were removed.
std::size_t DropDuplicateLabelSets(std::vector<Row>& rows);

// Index of a value column among the value mappings, or -1.
int ValueIndex(const Definition& def, const std::string& column);

}  // namespace pgpulse::collector
