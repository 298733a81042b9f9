#pragma once

#include <optional>
#include <regex>
#include <string>
#include <vector>

namespace pgpulse::config {

// Which discovered databases the database-scope collectors visit. An entry is a name, or a regular expression
// between slashes ("/^svc_/"), which must match somewhere in the name.
struct DatabaseFilter {
  std::vector<std::string> include;  // empty: every database that allows connections
  std::vector<std::string> exclude = {"template0", "template1"};

  bool operator==(const DatabaseFilter&) const = default;
};

// A DatabaseFilter ready to match: its regular expressions compiled once, not at every database.
class DatabaseMatcher {
 public:
  // Throws std::regex_error for an invalid expression (the config loader has refused those already).
  explicit DatabaseMatcher(const DatabaseFilter& filter);
  bool Matches(const std::string& database) const;

 private:
  struct Entry {
    std::string name;                   // an exact name, or
    std::optional<std::regex> pattern;  // an expression between slashes
  };
  static std::vector<Entry> Compile(const std::vector<std::string>& list);
  static bool Listed(const std::vector<Entry>& list, const std::string& database);

  std::vector<Entry> include_;
  std::vector<Entry> exclude_;
};

// Whether `entry` is a regular expression ("/.../") rather than a name; `expression` gets what is between.
bool IsDatabasePattern(const std::string& entry, std::string* expression = nullptr);

}  // namespace pgpulse::config
