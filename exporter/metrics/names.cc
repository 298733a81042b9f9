#include "exporter/metrics/names.h"

#include <algorithm>

namespace pgpulse::metrics {
namespace {

bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }

// [first][rest]* where `first` also takes '_' and `colon` says whether ':' is allowed.
bool IsName(std::string_view name, bool colon) {
  if (name.empty()) return false;
  const auto allowed = [colon](char c) { return IsAsciiLetter(c) || c == '_' || (colon && c == ':'); };
  if (!allowed(name.front())) return false;
  return std::all_of(name.begin() + 1, name.end(), [&](char c) { return allowed(c) || IsAsciiDigit(c); });
}

}  // namespace

bool IsMetricName(std::string_view name) { return IsName(name, true); }

bool IsLabelName(std::string_view name) { return IsName(name, false) && !name.starts_with("__"); }

namespace own {

bool IsSeriesName(std::string_view name) {
  return name.starts_with("pgpulse_") || name == kUp || name == kStatic || name == kServerVersionNum ||
         name == kStorageLimitBytes;
}

bool IsSeriesLabel(std::string_view name) {
  return std::find(kSeriesLabels.begin(), kSeriesLabels.end(), name) != kSeriesLabels.end();
}

}  // namespace own
}  // namespace pgpulse::metrics
