#include "exporter/collector/top.h"

#include <algorithm>

namespace pgpulse::collector {
namespace {

std::string Key(const metrics::Labels& labels) {
  std::string key;
  for (const auto& [name, value] : labels) key += name + '\x1f' + value + '\x1e';
  return key;
}

double Rank(const Row& row, int index) { return row.values[index].value_or(0); }

// Adds (sign +1) or removes (-1) a row's values from per-column sums.
void Accumulate(std::vector<double>& sums, const std::vector<std::optional<double>>& values, double sign) {
  for (std::size_t v = 0; v < values.size() && v < sums.size(); ++v) sums[v] += sign * values[v].value_or(0);
}

}  // namespace

std::vector<Row> TopSelector::Apply(const Definition& def, const TopSpec& top, std::vector<Row> rows,
                                    std::chrono::steady_clock::time_point now) {
  const int rank = ValueIndex(def, top.rank_by);
  std::size_t columns = 0;
  for (const auto& mapping : def.columns) columns += mapping.usage == Usage::kLabel ? 0 : 1;
  struct Members {
    metrics::Labels labels;  // the group's labels
    std::vector<Row> rows;
  };
  std::map<std::string, Members> members_by_group;
  for (auto& row : rows) {
    metrics::Labels group;
    for (const auto& column : top.group_by) group[column] = row.labels[column];
    auto& members = members_by_group[Key(group)];
    members.labels = std::move(group);
    members.rows.push_back(std::move(row));
  }
  std::vector<Row> selected;
  std::map<std::string, std::vector<std::optional<double>>> values_now;
  std::map<std::string, Group> groups;
  for (auto& [group_key, members] : members_by_group) {
    auto& list = members.rows;
    std::stable_sort(list.begin(), list.end(),
                     [rank](const Row& a, const Row& b) { return Rank(a, rank) > Rank(b, rank); });
    const std::size_t limit = static_cast<std::size_t>(top.limit);
    for (std::size_t i = 0; i < std::min(limit, list.size()); ++i) last_in_top_[Key(list[i].labels)] = now;

    Group& previous = groups_[group_key];
    Group group;
    group.carried = previous.carried;
    group.carried.resize(columns, 0);
    std::vector<double> raw(columns, 0);
    std::vector<bool> any(columns, false);
    std::size_t kept = 0;
    for (auto& row : list) {
      const auto key = Key(row.labels);
      values_now[key] = row.values;
      auto seen = last_in_top_.find(key);
      const bool keep = seen != last_in_top_.end() && now - seen->second <= top.keep && kept < 2 * limit;
      const bool was_kept = previous.kept.count(key) > 0;
      if (keep) {
        ++kept;
        group.kept.insert(key);
        // Joined the top: what it had in "other" last time stays there.
        if (auto last = last_values_.find(key); !was_kept && last != last_values_.end()) {
          Accumulate(group.carried, last->second, +1);
        }
        selected.push_back(std::move(row));
        continue;
      }
      // Back in "other" with all it accumulated: take out what it had when it left.
      if (was_kept) Accumulate(group.carried, row.values, -1);
      Accumulate(raw, row.values, +1);
      for (std::size_t v = 0; v < columns; ++v) any[v] = any[v] || row.values[v].has_value();
    }
    // The carried part may be negative: a row that went straight into the top, never counted in "other", is taken
    // out again when it falls back. raw holds that row's whole value, so the sum stays >= 0 while rows only grow.
    bool backwards = false;
    for (std::size_t v = 0; v < columns; ++v) {
      if (v < previous.last_reported.size() && raw[v] + group.carried[v] < previous.last_reported[v]) backwards = true;
    }
    if (backwards) std::fill(group.carried.begin(), group.carried.end(), 0.0);
    Row other;
    other.labels = members.labels;
    for (const auto& [column, value] : top.other) other.labels[column] = value;
    bool emit = false;
    group.last_reported.assign(columns, 0);
    for (std::size_t v = 0; v < columns; ++v) {
      const double value = std::max(0.0, raw[v] + group.carried[v]);
      group.last_reported[v] = value;
      // A column no row has (wal_bytes before PostgreSQL 13) stays absent.
      other.values.push_back(any[v] || group.carried[v] != 0 ? std::optional<double>(value) : std::nullopt);
      emit = emit || other.values.back().has_value();
    }
    if (emit) selected.push_back(std::move(other));
    groups[group_key] = std::move(group);
  }
  // Forget rows that have been out of the top for longer than `keep`, and groups and rows that are gone.
  for (auto it = last_in_top_.begin(); it != last_in_top_.end();) {
    it = now - it->second > top.keep ? last_in_top_.erase(it) : std::next(it);
  }
  last_values_ = std::move(values_now);
  groups_ = std::move(groups);
  return selected;
}

}  // namespace pgpulse::collector
