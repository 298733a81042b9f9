#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "exporter/collector/definition.h"
#include "exporter/collector/rows.h"

namespace pgpulse::collector {

// Keeps the top rows of a high-cardinality result (pg_stat_statements) per group, and sums the others into one
// "other" row per group, so totals still add up. A row that made the top stays for `keep` after it falls out
// (hysteresis), so its series do not appear and vanish from scrape to scrape. Kept rows are capped at twice the
// limit. The "other" row's counters can step down when a row joins the top; that is the price of bounded series.
class TopSelector {
 public:
  std::vector<Row> Apply(const Definition& def, const TopSpec& top, std::vector<Row> rows,
                         std::chrono::steady_clock::time_point now);

 private:
  std::map<std::string, std::chrono::steady_clock::time_point> last_in_top_;
};

}  // namespace pgpulse::collector
