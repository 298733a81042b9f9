#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "exporter/config/config.h"

namespace pgpulse::config {

// Reads values out of a parsed YAML document with strict checks. Every failure throws ConfigError as
// "origin:line:column: key.path: message", so users see which file, line and key to fix. Used by the config file
// and by collector files alike.
class YamlValidator {
 public:
  explicit YamlValidator(std::string origin) : origin_(std::move(origin)) {}

  [[noreturn]] void Fail(const YAML::Node& node, const std::string& key, const std::string& message) const;

  struct MapEntry {
    std::string name;  // the key's text
    YAML::Node key;    // for messages about the key itself
    YAML::Node value;
  };
  // The entries of a mapping in file order. Every key must be a plain scalar (YAML also allows a list or a mapping
  // as a key, `? [a] : b`, which no setting of pgpulse has) and appear once (yaml-cpp keeps both of a duplicate pair
  // and a lookup finds only the first). Every map pgpulse reads is iterated through here.
  std::vector<MapEntry> Entries(const YAML::Node& node, const std::string& key) const;

  // A mapping whose keys are all in `allowed`.
  void RequireMap(const YAML::Node& node, const std::string& key, const std::set<std::string>& allowed) const;
  std::string String(const YAML::Node& node, const std::string& key) const;
  bool Bool(const YAML::Node& node, const std::string& key) const;
  std::uint64_t Unsigned(const YAML::Node& node, const std::string& key) const;
  std::vector<std::string> StringList(const YAML::Node& node, const std::string& key) const;
  std::chrono::milliseconds Duration(const YAML::Node& node, const std::string& key) const;

  static std::string Join(const std::string& parent, const std::string& key) {
    return parent.empty() ? key : parent + "." + key;
  }
  const std::string& origin() const { return origin_; }

 private:
  std::string origin_;
};

// Parses YAML text, turning syntax errors into ConfigError with origin, line and column.
YAML::Node LoadYaml(const std::string& text, const std::string& origin);

// The ConfigError for something yaml-cpp threw while a document from `origin` was parsed or read: callers catch
// YAML::Exception around all their use of yaml-cpp, so that no input can end the process with an uncaught exception.
ConfigError YamlError(const YAML::Exception& e, const std::string& origin);

}  // namespace pgpulse::config
