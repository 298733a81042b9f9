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

}  // namespace

std::vector<Row> TopSelector::Apply(const Definition& def, const TopSpec& top, std::vector<Row> rows,
                                    std::chrono::steady_clock::time_point now) {
  const int rank = ValueIndex(def, top.rank_by);
  std::map<std::string, std::vector<Row>> groups;
  for (auto& row : rows) {
    metrics::Labels group;
    for (const auto& column : top.group_by) group[column] = row.labels[column];
    groups[Key(group)].push_back(std::move(row));
  }
  std::vector<Row> selected;
  for (auto& [group_key, members] : groups) {
    std::stable_sort(members.begin(), members.end(),
                     [rank](const Row& a, const Row& b) { return Rank(a, rank) > Rank(b, rank); });
    const std::size_t limit = static_cast<std::size_t>(top.limit);
    for (std::size_t i = 0; i < std::min(limit, members.size()); ++i) last_in_top_[Key(members[i].labels)] = now;
    Row other;
    bool any_other = false;
    std::size_t kept = 0;
    for (auto& row : members) {
      auto seen = last_in_top_.find(Key(row.labels));
      const bool keep = seen != last_in_top_.end() && now - seen->second <= top.keep && kept < 2 * limit;
      if (keep) {
        ++kept;
        selected.push_back(std::move(row));
        continue;
      }
      if (!any_other) {
        other.labels = row.labels;
        for (const auto& [column, value] : top.other) other.labels[column] = value;
        other.values.assign(row.values.size(), std::nullopt);
        any_other = true;
      }
      for (std::size_t v = 0; v < row.values.size(); ++v) {
        if (row.values[v]) other.values[v] = other.values[v].value_or(0) + *row.values[v];
      }
    }
    if (any_other) selected.push_back(std::move(other));
  }
  // Forget rows that have been out of the top for longer than `keep`.
  for (auto it = last_in_top_.begin(); it != last_in_top_.end();) {
    it = now - it->second > top.keep ? last_in_top_.erase(it) : std::next(it);
  }
  return selected;
}

}  // namespace pgpulse::collector
