// PromQL as the tests read it: the series an expression reads, and the rule files of alerts/. Shared by the alert
// and dashboard tests.
#pragma once

#include <cstddef>
#include <filesystem>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace pgpulse::testing {

// The series names `expr` reads: identifiers other than function names (followed by "("), keywords, and the label
// names of {...} matchers and of the lists after by, without, on, ignoring, group_left and group_right. Strings,
// ranges, subqueries, numbers, durations and # comments are skipped. Throws std::invalid_argument on an unterminated
// string or bracket.
std::set<std::string> PromqlMetricNames(std::string_view expr);

// Index just past the bracket ((, [ or {) that closes the one at `i`, strings inside included.
size_t SkipPromqlBrackets(std::string_view expr, size_t i);

struct Rule {
  std::string file;  // e.g. capacity.yml
  std::string name;  // the alert, or the series a recording rule records
  bool alert = false;
  std::string expr;
};

const std::filesystem::path& AlertsDir();

// Every rule of every alerts/*.yml with a top-level `groups:`.
std::vector<Rule> LoadRules();

// The exported series `expr` reads in the end: names defined by a recording rule are replaced by what that rule
// reads, recursively (a name recorded by several rules reads what all of them read).
std::set<std::string> ReadSeries(const std::string& expr, const std::vector<Rule>& rules,
                                 std::set<std::string> resolving = {});

// Series Prometheus makes itself.
bool FromPrometheus(const std::string& name);

// Series that a PostgreSQL major introduced, which rules read only with an `or` fallback, so that they work before
// it. Each is checked like any other from its major on, and every rule that reads it directly must say `or`.
struct AddedIn {
  const char* series;
  int major;
};

extern const std::vector<AddedIn> kAddedIn;

}  // namespace pgpulse::testing
