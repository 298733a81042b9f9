#pragma once

#include <set>
#include <string>
#include <vector>

#include "exporter/collector/definition.h"

namespace pgpulse::collector {

// The keys each mapping of a collector file accepts: the loader refuses any other, and ConfigKeysDocsTest checks that
// collectors/README.md documents each one.
namespace definition_keys {
inline const std::set<std::string> kRoot = {"name",         "help",         "scope",    "ttl",     "timeout",
                                            "primary_only", "replica_only", "requires", "queries", "metrics",
                                            "top",          "max_series",   "max_rows"};
inline const std::set<std::string> kRequires = {"extension", "function"};
inline const std::set<std::string> kQuery = {"min_version", "max_version", "sql"};
inline const std::set<std::string> kColumn = {"column", "usage", "label", "name", "help"};
inline const std::set<std::string> kTop = {"rank_by", "limit", "group_by", "keep", "other"};
}  // namespace definition_keys

// Parses and validates one collector file. Throws config::ConfigError naming `origin`, the line and the key.
Definition ParseDefinition(const std::string& yaml_text, const std::string& origin);

// Every *.yaml / *.yml file in a directory, in name order. Throws config::ConfigError naming the directory or file.
std::vector<Definition> LoadDirectory(const std::string& directory);

// The built-in collectors (embedded at build time) followed by those in `custom_directories`, validated as a set:
// names are unique, and one metric name has one type and one help text everywhere.
std::vector<Definition> LoadCollectors(const std::vector<std::string>& custom_directories);

// Checks a set of definitions together (see LoadCollectors). Throws config::ConfigError.
void ValidateSet(const std::vector<Definition>& definitions);

}  // namespace pgpulse::collector
