#include "exporter/collector/rows.h"

#include <cstdlib>
#include <set>
#include <stdexcept>

#include "exporter/metrics/text.h"
#include "exporter/metrics/utf8.h"

namespace pgpulse::collector {
namespace {

std::optional<double> ParseValue(const std::optional<std::string>& text, const Definition& def,
                                 const std::string& column) {
  if (!text) return std::nullopt;
  if (*text == "t") return 1.0;
  if (*text == "f") return 0.0;
  char* end = nullptr;
  const double value = std::strtod(text->c_str(), &end);
  if (text->empty() || *end != '\0') {
    throw std::runtime_error("collector " + def.name + ": column " + column + " is not numeric");
  }
  return value;
}

}  // namespace

const QueryVariant* SelectVariant(const Definition& def, int server_version) {
  for (const auto& query : def.queries) {
    if (server_version >= query.min_version && (query.max_version == 0 || server_version <= query.max_version)) {
      return &query;
    }
  }
  return nullptr;
}

int ValueIndex(const Definition& def, const std::string& column) {
  int index = 0;
  for (const auto& mapping : def.columns) {
    if (mapping.usage == Usage::kLabel) continue;
    if (mapping.column == column) return index;
    ++index;
  }
  return -1;
}

std::vector<Row> MapRows(const Definition& def, const pg::Result& result, std::size_t* utf8_replacements) {
  // Where each mapping's column sits in the result.
  std::vector<int> position(def.columns.size(), -1);
  for (std::size_t m = 0; m < def.columns.size(); ++m) {
    for (std::size_t c = 0; c < result.columns.size(); ++c) {
      if (result.columns[c] == def.columns[m].column) position[m] = static_cast<int>(c);
    }
    if (position[m] < 0) {
      throw std::runtime_error("collector " + def.name + ": the query returns no column " + def.columns[m].column);
    }
  }
  if (result.columns.size() != def.columns.size()) {
    for (const auto& column : result.columns) {
      bool mapped = false;
      for (const auto& mapping : def.columns) mapped = mapped || mapping.column == column;
      if (!mapped) throw std::runtime_error("collector " + def.name + ": column " + column + " is not mapped");
    }
  }
  std::vector<Row> rows;
  rows.reserve(result.rows.size());
  for (const auto& record : result.rows) {
    Row row;
    for (std::size_t m = 0; m < def.columns.size(); ++m) {
      const auto& mapping = def.columns[m];
      const auto& cell = record[position[m]];
      if (mapping.usage == Usage::kLabel) {
        auto& label = row.labels[mapping.label] = cell.value_or("");
        const auto replaced = metrics::ReplaceInvalidUtf8(label);
        if (utf8_replacements != nullptr) *utf8_replacements += replaced;
      } else {
        row.values.push_back(ParseValue(cell, def, mapping.column));
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::size_t DropDuplicateLabelSets(std::vector<Row>& rows) {
  std::set<metrics::Labels> seen;
  const auto before = rows.size();
  std::erase_if(rows, [&seen](const Row& row) { return !seen.insert(row.labels).second; });
  return before - rows.size();
}

std::shared_ptr<const RenderedResult> RenderRows(const Definition& def, const std::vector<Row>& rows,
                                                 const metrics::Labels& target_labels) {
  auto rendered = std::make_shared<RenderedResult>();
  std::vector<const ColumnMapping*> values;
  for (const auto& mapping : def.columns) {
    if (mapping.usage != Usage::kLabel) values.push_back(&mapping);
  }
  rendered->lines.resize(values.size());
  std::vector<metrics::LabelRef> labels;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    if (def.max_rows != 0 && r == def.max_rows) {
      rendered->rows_dropped = rows.size() - r;
      break;
    }
    const auto& row = rows[r];
    std::size_t samples = 0;
    for (const auto& value : row.values) samples += value ? 1 : 0;
    if (rendered->series + samples > def.max_series) {
      rendered->truncated = true;
      break;
    }
    // Both label sets are sorted maps with distinct names (the config forbids clashes): merged, they come out in
    // name order, as Exposition writes them.
    labels.clear();
    auto own = row.labels.begin();
    auto target = target_labels.begin();
    while (own != row.labels.end() || target != target_labels.end()) {
      const bool take_own = target == target_labels.end() || (own != row.labels.end() && own->first < target->first);
      const auto& [name, value] = take_own ? *own++ : *target++;
      labels.emplace_back(name, value);
    }
    for (std::size_t v = 0; v < values.size(); ++v) {
      if (row.values[v]) metrics::AppendSample(rendered->lines[v], values[v]->name, labels, *row.values[v]);
    }
    rendered->series += samples;
  }
  return rendered;
}

}  // namespace pgpulse::collector
