#include "exporter/config/database_filter.h"

namespace pgpulse::config {

bool IsDatabasePattern(const std::string& entry, std::string* expression) {
  if (entry.size() < 2 || entry.front() != '/' || entry.back() != '/') return false;
  if (expression) *expression = entry.substr(1, entry.size() - 2);
  return true;
}

DatabaseMatcher::DatabaseMatcher(const DatabaseFilter& filter)
    : include_(Compile(filter.include)), exclude_(Compile(filter.exclude)) {}

std::vector<DatabaseMatcher::Entry> DatabaseMatcher::Compile(const std::vector<std::string>& list) {
  std::vector<Entry> entries;
  for (const auto& text : list) {
    std::string expression;
    if (IsDatabasePattern(text, &expression)) {
      entries.push_back({{}, std::regex(expression)});
    } else {
      entries.push_back({text, std::nullopt});
    }
  }
  return entries;
}

bool DatabaseMatcher::Listed(const std::vector<Entry>& list, const std::string& database) {
  for (const auto& entry : list) {
    if (entry.pattern ? std::regex_search(database, *entry.pattern) : entry.name == database) return true;
  }
  return false;
}

bool DatabaseMatcher::Matches(const std::string& database) const {
  return (include_.empty() || Listed(include_, database)) && !Listed(exclude_, database);
}

}  // namespace pgpulse::config
