#include "tests/bench/collector_ttls.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>

#include "tests/bench/run_control.h"
#include "tests/harness/files.h"

namespace pgpulse::bench {
namespace {

// The first group of `pattern` on the last line of `path` (or the first, `last` false) that it matches.
std::string Capture(const std::string& path, const std::regex& pattern, bool last) {
  std::ifstream in(path);
  std::string found;
  for (std::string line; std::getline(in, line);) {
    std::smatch match;
    if (!std::regex_match(line, match, pattern)) continue;
    found = match[1];
    if (!last) break;
  }
  return found;
}

// 90s, 5m, 1h, 1m30s -> seconds.
std::optional<long> DurationSeconds(std::string text) {
  static const std::regex kPart(R"(^([0-9]+)([hms]))");
  long seconds = 0;
  std::smatch match;
  while (std::regex_search(text, match, kPart)) {
    const long n = std::stol(match[1]);
    const char unit = match[2].str()[0];
    seconds += n * (unit == 'h' ? 3600 : unit == 'm' ? 60 : 1);
    text = match.suffix();
  }
  if (!text.empty()) return std::nullopt;
  return seconds;
}

}  // namespace

std::vector<std::string> PerTableCollectors(const std::string& repo) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(repo + "/collectors")) {
    const auto& path = entry.path();
    if (path.extension() == ".yaml" && HasLineStartingWith(testing::ReadFile(path.string()), "scope: database"))
      names.push_back(path.stem());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::optional<long> TtlSeconds(const Knobs& knobs, const std::string& collector) {
  std::string ttl;
  if (!knobs.pgpulse_collectors.empty()) {
    const std::regex setting("^[[:space:]]*" + collector + ":.*ttl:[[:space:]]*([0-9hms]*).*");
    ttl = Capture(knobs.pgpulse_collectors, setting, true);
  }
  if (ttl.empty()) {
    static const std::regex kFileTtl("^ttl:[[:space:]]*([0-9hms]*).*");
    ttl = Capture(knobs.repo + "/collectors/" + collector + ".yaml", kFileTtl, false);
  }
  return DurationSeconds(ttl.empty() ? "0s" : ttl);
}

}  // namespace pgpulse::bench
