#include "tests/bench/scrape_bodies.h"

#include <fstream>
#include <regex>
#include <set>
#include <string_view>

#include "tests/bench/run_control.h"

namespace pgpulse::bench {
namespace {

constexpr std::string_view kSpace = " \t\r\v\f";

// The first whitespace-separated field: the sample's name with its labels, unless a label value holds a space.
std::string_view FirstField(std::string_view line) {
  const size_t start = line.find_first_not_of(kSpace);
  if (start == std::string_view::npos) return {};
  line.remove_prefix(start);
  return line.substr(0, line.find_first_of(kSpace));
}

std::string_view LastField(std::string_view line) {
  const size_t end = line.find_last_not_of(kSpace);
  if (end == std::string_view::npos) return {};
  line = line.substr(0, end + 1);
  const size_t space = line.find_last_of(kSpace);
  return space == std::string_view::npos ? line : line.substr(space + 1);
}

// datname="svc_<digits>" within `field`, or empty.
std::string_view ServiceDatname(std::string_view field) {
  constexpr std::string_view kLabel = "datname=\"svc_";
  for (size_t at = field.find(kLabel); at != std::string_view::npos; at = field.find(kLabel, at + 1)) {
    size_t end = at + kLabel.size();
    while (end < field.size() && field[end] >= '0' && field[end] <= '9') ++end;
    if (end > at + kLabel.size() && end < field.size() && field[end] == '"') return field.substr(at, end + 1 - at);
  }
  return {};
}

}  // namespace

BodyFacts AnalyseBody(const std::string& path, const std::string& coverage_metric) {
  BodyFacts facts;
  std::ifstream in(path, std::ios::binary);
  if (!in) return facts;
  const std::string coverage_prefix = coverage_metric + "{";
  std::set<std::string, std::less<>> seen;
  for (std::string text; std::getline(in, text);) {
    const std::string_view line(text);
    const std::string_view first = FirstField(line);
    if (line.starts_with('#') || first.empty()) continue;
    ++facts.series;
    if (first == "pg_up" || first.starts_with("pg_up{")) facts.up = LastField(line);
    if (first.starts_with(coverage_prefix)) {
      const std::string_view datname = ServiceDatname(first);
      if (!datname.empty() && !seen.contains(datname)) seen.emplace(datname);
    }
    if (line.starts_with("pg_stat_statements")) ++facts.statement_series;
  }
  facts.databases = static_cast<int>(seen.size());
  return facts;
}

void FoldCacheAges(const std::string& path, std::map<std::string, double>& oldest) {
  static const std::regex kAge(
      R"re(^pgpulse_collector_cache_age_seconds\{.*collector="([a-z0-9_]*)".*\} ([0-9.e+-]*)$)re");
  std::ifstream in(path, std::ios::binary);
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with("pgpulse_collector_cache_age_seconds{")) continue;
    std::smatch match;
    if (!std::regex_match(line, match, kAge)) continue;
    const double age = Number(match[2]);
    const auto [it, inserted] = oldest.emplace(match[1], age);
    if (!inserted && age > it->second) it->second = age;
  }
}

}  // namespace pgpulse::bench
