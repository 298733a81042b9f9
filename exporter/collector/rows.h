#pragma once

#include <memory>
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
// the mapping differ, or a value column is not numeric. Label values that are not valid UTF-8 (a name in a
// database whose encoding is SQL_ASCII) have the invalid bytes replaced with U+FFFD; `utf8_replacements`, when
// given, counts the replacements.
std::vector<Row> MapRows(const Definition& def, const pg::Result& result, std::size_t* utf8_replacements = nullptr);

// One collector's result in one database (or the cluster), rendered as exposition lines that carry the target's
// labels. Built once per query run and immutable after: the cache keeps it, and every scrape that serves it shares it.
struct RenderedResult {
  std::vector<std::string> lines;  // per value column, in the definition's order: that family's sample lines
  std::size_t series = 0;          // sample lines in all of `lines`
  bool truncated = false;          // rows beyond the definition's max_series were left out
  std::size_t rows_dropped = 0;    // rows beyond the definition's max_rows, left out
};

// Renders rows with `target_labels` added to each; NULL values produce no sample. Stops after def.max_rows rows (when
// set) or at def.max_series samples, whichever comes first.
std::shared_ptr<const RenderedResult> RenderRows(const Definition& def, const std::vector<Row>& rows,
                                                 const metrics::Labels& target_labels);

// Removes rows whose labels equal an earlier row's, keeping the first; returns how many were removed.
std::size_t DropDuplicateLabelSets(std::vector<Row>& rows);

// Index of a value column among the value mappings, or -1.
int ValueIndex(const Definition& def, const std::string& column);

}  // namespace pgpulse::collector
