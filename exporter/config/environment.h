#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "exporter/config/config.h"

namespace pgpulse::config {

// postgres_exporter-compatible targets: DATA_SOURCE_NAME (comma-separated), or DATA_SOURCE_URI with
// DATA_SOURCE_USER[_FILE] and DATA_SOURCE_PASS[_FILE]. Returns no targets when none of them is set.
std::vector<TargetConfig> TargetsFromEnvironment(const EnvLookup& env);

// Splits DATA_SOURCE_NAME on the commas that start a new DSN, keeping multi-host DSNs (host=a,b or
// postgresql://a,b/db) whole.
std::vector<std::string> SplitDataSourceNames(const std::string& value);

// Splits DATA_SOURCE_URI (URIs without scheme: "db:5432/postgres,db2/postgres"). A piece with no '/' or '?' is one
// host of a multi-host authority ("a:5432,b:5432/db") and stays with the piece after it.
std::vector<std::string> SplitDataSourceUris(const std::string& value);

}  // namespace pgpulse::config
