#include "exporter/config/duration.h"

#include <algorithm>
#include <regex>
#include <stdexcept>

namespace pgpulse::config {

std::chrono::milliseconds ParseDuration(const std::string& text) {
  static const std::regex kPart(R"((\d+)(ms|s|m|h|d))");
  if (text.empty()) throw std::invalid_argument("empty duration");
  // Past a year a duration is a typo, and times computed from it (now + ttl) must not overflow.
  constexpr long long kMaxMs = 366LL * 86400000;
  long long total = 0;
  auto begin = std::sregex_iterator(text.begin(), text.end(), kPart);
  std::size_t consumed = 0;
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    if (static_cast<std::size_t>(it->position()) != consumed) break;
    consumed += it->length();
    const auto digits = (*it)[1].str();
    const auto unit = (*it)[2].str();
    const long long ms = unit == "ms" ? 1 : unit == "s" ? 1000 : unit == "m" ? 60000 : unit == "h" ? 3600000 : 86400000;
    const long long n = digits.size() > 12 ? kMaxMs + 1 : std::stoll(digits);  // 12 digits of ms exceed a year
    total = n > kMaxMs / ms ? kMaxMs + 1 : std::min(total + n * ms, kMaxMs + 1);
  }
  if (consumed != text.size()) {
    throw std::invalid_argument("invalid duration \"" + text + "\" (use e.g. 500ms, 30s, 5m, 1h)");
  }
  if (total > kMaxMs) throw std::invalid_argument("duration \"" + text + "\" is longer than a year");
  return std::chrono::milliseconds(total);
}

}  // namespace pgpulse::config
