#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "exporter/config/database_filter.h"
#include "exporter/pg/conn_params.h"

namespace pgpulse::config {

// A configuration problem. The message names the file (or variable), the line where known, and the key.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The keys each mapping of the config file accepts: the loader refuses any other, and ConfigKeysDocsTest checks that
// docs/configuration.md documents each one.
namespace keys {
inline const std::set<std::string> kRoot = {"targets", "collectors", "custom_collectors"};
inline const std::set<std::string> kTarget = {
    "name",      "dsn",    "password_file",       "user_file",       "secret_file",
    "databases", "labels", "storage_limit_bytes", "allow_superuser", "max_connections"};
inline const std::set<std::string> kDatabases = {"include", "exclude"};
inline const std::set<std::string> kCollectorSettings = {"enabled", "ttl", "limit", "max_series", "max_rows"};
}  // namespace keys

struct TargetConfig {
  std::string name;           // the target="..." label and the /probe name
  std::string origin;         // where it was defined, for messages: "pgpulse.yml:4" or "DATA_SOURCE_NAME"
  std::string redacted_dsn;   // for display; the raw DSN is not kept
  pg::ConnParams conn;        // parsed DSN; may hold a password from the DSN itself
  std::string password;       // from DATA_SOURCE_PASS; never shown
  std::string password_file;  // plain text; watched, and re-read after an authentication failure
  std::string user_file;      // plain text (config user_file, DATA_SOURCE_USER_FILE); watched like password_file
  std::string secret_file;    // JSON {"username", "password"} as secrets managers write it; watched likewise
  DatabaseFilter databases;
  std::map<std::string, std::string> labels;  // constant labels on every series of this target
  std::optional<std::uint64_t> storage_limit_bytes;
  bool allow_superuser = false;
  int max_connections = 3;  // to this instance, all databases together; at least 2

  bool operator==(const TargetConfig&) const = default;
  // Equal apart from where they were written: a reload keeps such a target, its connections and caches.
  bool SameAs(const TargetConfig& other) const;
};

struct CollectorSettings {
  std::optional<bool> enabled;
  std::optional<std::chrono::milliseconds> ttl;
  std::optional<std::int64_t> limit;
  std::optional<std::int64_t> max_series;
  std::optional<std::int64_t> max_rows;

  bool operator==(const CollectorSettings&) const = default;
};

struct Config {
  std::vector<TargetConfig> targets;
  std::map<std::string, CollectorSettings> collectors;
  std::vector<std::string> custom_collectors;
};

// The text of a config or collector file (`what` names which, for the message). Throws ConfigError naming the
// file and why it cannot be read (missing, not a regular file, over kConfigFileMaxBytes).
std::string ReadConfigText(const std::string& path, const std::string& what);

// Loads and fully validates a YAML config file. Unknown keys, wrong types, duplicate target names, unreadable
// password files and malformed DSNs are errors.
Config LoadConfigFile(const std::string& path);

// Same, from text; `origin` names the source in messages.
Config ParseConfig(const std::string& yaml_text, const std::string& origin);

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup ProcessEnvironment();

// The config pgpulse runs with: the file's targets when it names any, otherwise the environment's. Throws
// ConfigError when neither yields a target.
Config ResolveConfig(const std::optional<std::string>& config_file, const EnvLookup& env);

}  // namespace pgpulse::config
