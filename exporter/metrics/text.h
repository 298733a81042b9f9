#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "exporter/metrics/exposition.h"

namespace pgpulse::metrics {

// The text exposition format, written straight into a string. Collector results are rendered once, when they are
// collected, and a scrape only sends the cached text; prometheus-cpp's TextSerializer (which Exposition uses for
// the few per-scrape series) goes through an ostream character by character, too slow for ~100,000 cached series.
// Every function here writes byte for byte what TextSerializer writes; a unit test holds the two together.

using LabelRef = std::pair<std::string_view, std::string_view>;

// "# HELP name help\n# TYPE name gauge\n". HELP text is written as is: keep it plain (no newline, no backslash).
std::string FamilyHeader(const std::string& name, const std::string& help, Type type);

// name{label="value",...} value\n, labels in the given order, values escaped (\\, \", \n).
void AppendSample(std::string& out, std::string_view name, const std::vector<LabelRef>& labels, double value);

// A sample value as TextSerializer prints it: %.16g, "Nan", "+Inf", "-Inf"; except that a finite value is never
// written as text that reads back as infinite (TextSerializer's %.16g does that to values next to DBL_MAX).
void AppendValue(std::string& out, double value);

void AppendEscapedLabelValue(std::string& out, std::string_view value);

}  // namespace pgpulse::metrics
