// Reading the Prometheus text exposition format in tests.
#ifndef PGPULSE_TESTS_HARNESS_METRICS_TEXT_H_
#define PGPULSE_TESTS_HARNESS_METRICS_TEXT_H_

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tests/harness/process.h"

namespace pgpulse::testing {

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;  // values unescaped
  double value = 0;                           // NaN and ±Inf included
};

// Every sample line of a text exposition (comments and blank lines skipped; timestamps and OpenMetrics exemplars
// after the value ignored). Throws std::invalid_argument naming the line if one is malformed: a broken exposition
// should fail the test loudly rather than make a metric look absent.
std::vector<Sample> ParseSamples(const std::string& exposition);

// Value of the first sample named `name` whose labels include all of `labels` (subset match).
std::optional<double> MetricValue(const std::string& exposition, const std::string& name,
                                  const std::map<std::string, std::string>& labels = {});

// Number of samples with exactly this name (so "x_bucket" lines do not count for "x").
size_t CountSamples(const std::string& exposition, const std::string& name);

// Runs `promtool check metrics` (/usr/bin/promtool) with the exposition on stdin.
CommandResult PromtoolCheckMetrics(const std::string& exposition);

}  // namespace pgpulse::testing

#endif  // PGPULSE_TESTS_HARNESS_METRICS_TEXT_H_
