#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "exporter/collector/definition.h"
#include "exporter/collector/rows.h"

namespace pgpulse::collector {

// Keeps the top rows of a high-cardinality result (pg_stat_statements) per group, and sums the others into one
// "other" row per group. A row that made the top stays for `keep` after it falls out (hysteresis), so its series do
// not appear and vanish from scrape to scrape. Kept rows are capped at twice the limit.
//
// The "other" row is a counter, and must not go backwards when a row moves between it and the top: Prometheus would
// take the drop for a reset and rate() would show a spike of the whole remainder. So what a row had accumulated when
// it joined the top stays carried in "other", and is taken out again when the row returns to "other". rate() of
// "other" plus the top rows' rates is then the group's rate. The carried part is dropped when "other" would still go
// backwards (pg_stat_statements was reset or evicted entries): that is a real reset.
class TopSelector {
 public:
  std::vector<Row> Apply(const Definition& def, const TopSpec& top, std::vector<Row> rows,
                         std::chrono::steady_clock::time_point now);

 private:
  struct Group {
    std::set<std::string> kept;         // row keys kept (not in "other") at the last Apply
    std::vector<double> carried;        // per value column
    std::vector<double> last_reported;  // "other"'s values at the last Apply
  };

  std::map<std::string, std::chrono::steady_clock::time_point> last_in_top_;
  std::map<std::string, std::vector<std::optional<double>>> last_values_;  // every row's values at the last Apply
  std::map<std::string, Group> groups_;
};

}  // namespace pgpulse::collector
