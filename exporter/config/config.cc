#include "exporter/config/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <regex>
#include <set>

#include "exporter/config/credentials.h"
#include "exporter/config/database_filter.h"
#include "exporter/config/dsn.h"
#include "exporter/config/environment.h"
#include "exporter/config/regular_file.h"
#include "exporter/config/secret_file.h"
#include "exporter/config/yaml_validator.h"
#include "exporter/metrics/names.h"

namespace pgpulse::config {
namespace {

const std::regex kTargetName("[A-Za-z0-9][A-Za-z0-9_.:/@-]{0,127}");

TargetConfig ParseTarget(const YamlValidator& v, const YAML::Node& node, const std::string& key) {
  v.RequireMap(node, key, keys::kTarget);
  TargetConfig target;
  target.origin = v.origin() + ":" + std::to_string(node.Mark().line + 1);
  if (!node["name"]) v.Fail(node, key + ".name", "is required");
  target.name = v.String(node["name"], key + ".name");
  if (!std::regex_match(target.name, kTargetName)) {
    v.Fail(node["name"], key + ".name", "must start with a letter or digit and use only letters, digits and _.:/@-");
  }
  if (!node["dsn"]) v.Fail(node, key + ".dsn", "is required");
  const auto dsn = v.String(node["dsn"], key + ".dsn");
  try {
    target.conn = ParseDsn(dsn);
  } catch (const std::invalid_argument& e) {
    v.Fail(node["dsn"], key + ".dsn", e.what());
  }
  target.redacted_dsn = RedactDsn(dsn);
  for (const auto& [file_key, field] :
       {std::pair{"password_file", &target.password_file}, std::pair{"user_file", &target.user_file}}) {
    if (!node[file_key]) continue;
    *field = v.String(node[file_key], key + "." + file_key);
    if (auto problem = CheckSecretFile(*field)) v.Fail(node[file_key], key + "." + file_key, *problem);
  }
  if (node["secret_file"]) {
    // It holds the user name and the password both: another source of either would leave one of them unused.
    for (const char* other : {"password_file", "user_file"}) {
      if (node[other]) v.Fail(node[other], key + "." + other, "cannot be combined with secret_file");
    }
    target.secret_file = v.String(node["secret_file"], key + ".secret_file");
    try {
      ReadJsonSecret(target.secret_file);
    } catch (const std::runtime_error& e) {
      v.Fail(node["secret_file"], key + ".secret_file", e.what());
    }
  }
  if (const auto& dbs = node["databases"]) {
    v.RequireMap(dbs, key + ".databases", keys::kDatabases);
    for (const char* list : {"include", "exclude"}) {
      if (!dbs[list]) continue;
      const auto list_key = key + ".databases." + list;
      auto entries = v.StringList(dbs[list], list_key);
      for (const auto& entry : entries) {
        std::string expression;
        if (!IsDatabasePattern(entry, &expression)) continue;
        try {
          static_cast<void>(std::regex(expression));
        } catch (const std::regex_error& e) {
          v.Fail(dbs[list], list_key, "invalid regular expression " + entry + ": " + e.what());
        }
      }
      (std::string(list) == "include" ? target.databases.include : target.databases.exclude) = std::move(entries);
    }
  }
  if (const auto& labels = node["labels"]) {
    if (!labels.IsMap()) v.Fail(labels, key + ".labels", "must be a mapping of label names to values");
    for (const auto& entry : v.Entries(labels, key + ".labels")) {
      const auto label_key = key + ".labels." + entry.name;
      if (!metrics::IsLabelName(entry.name)) {
        v.Fail(entry.key, label_key, "is not a valid Prometheus label name");
      }
      if (entry.name == metrics::own::kTargetLabel)
        v.Fail(entry.key, label_key, "is reserved: pgpulse sets target itself");
      target.labels[entry.name] = v.String(entry.value, label_key);
    }
  }
  if (node["storage_limit_bytes"]) {
    target.storage_limit_bytes = v.Unsigned(node["storage_limit_bytes"], key + ".storage_limit_bytes");
  }
  if (node["allow_superuser"]) target.allow_superuser = v.Bool(node["allow_superuser"], key + ".allow_superuser");
  if (node["max_connections"]) {
    const auto max = v.Unsigned(node["max_connections"], key + ".max_connections");
    // One connection for cluster-wide collectors, at least one more for visiting databases.
    if (max < 2 || max > 100) v.Fail(node["max_connections"], key + ".max_connections", "must be from 2 to 100");
    target.max_connections = static_cast<int>(max);
  }
  return target;
}

CollectorSettings ParseCollectorSettings(const YamlValidator& v, const YAML::Node& node, const std::string& key) {
  v.RequireMap(node, key, keys::kCollectorSettings);
  CollectorSettings settings;
  if (node["enabled"]) settings.enabled = v.Bool(node["enabled"], key + ".enabled");
  if (node["ttl"]) settings.ttl = v.Duration(node["ttl"], key + ".ttl");
  if (node["limit"]) settings.limit = static_cast<std::int64_t>(v.Unsigned(node["limit"], key + ".limit"));
  if (node["max_series"]) {
    settings.max_series = static_cast<std::int64_t>(v.Unsigned(node["max_series"], key + ".max_series"));
  }
  if (node["max_rows"]) {
    settings.max_rows = static_cast<std::int64_t>(v.Unsigned(node["max_rows"], key + ".max_rows"));
    if (*settings.max_rows == 0) v.Fail(node["max_rows"], key + ".max_rows", "must be at least 1");
  }
  return settings;
}

void RejectDuplicateNames(const std::vector<TargetConfig>& targets) {
  std::map<std::string, std::string> seen;
  for (const auto& target : targets) {
    auto [it, inserted] = seen.emplace(target.name, target.origin);
    if (!inserted) {
      throw ConfigError(target.origin + ": targets: duplicate target name \"" + target.name + "\" (first at " +
                        it->second + ")");
    }
  }
}

Config ParseDocument(const YAML::Node& root, const std::string& origin) {
  YamlValidator v(origin);
  Config config;
  if (root.IsNull()) return config;
  v.RequireMap(root, "", keys::kRoot);
  if (const auto& targets = root["targets"]) {
    if (!targets.IsSequence()) v.Fail(targets, "targets", "must be a list");
    for (std::size_t i = 0; i < targets.size(); ++i) {
      config.targets.push_back(ParseTarget(v, targets[i], "targets[" + std::to_string(i) + "]"));
    }
    RejectDuplicateNames(config.targets);
  }
  if (const auto& collectors = root["collectors"]) {
    if (!collectors.IsMap()) v.Fail(collectors, "collectors", "must be a mapping of collector names to settings");
    for (const auto& entry : v.Entries(collectors, "collectors")) {
      config.collectors[entry.name] = ParseCollectorSettings(v, entry.value, "collectors." + entry.name);
    }
  }
  if (const auto& dirs = root["custom_collectors"]) {
    config.custom_collectors = v.StringList(dirs, "custom_collectors");
  }
  return config;
}

}  // namespace

Config ParseConfig(const std::string& yaml_text, const std::string& origin) {
  const YAML::Node root = LoadYaml(yaml_text, origin);
  try {
    return ParseDocument(root, origin);
  } catch (const YAML::Exception& e) {
    // The checks above look at every node before converting it, so this is a backstop: whatever yaml-cpp throws on
    // input nobody foresaw becomes a config error, never an uncaught exception (at start, SIGABRT).
    throw YamlError(e, origin);
  }
}

std::string ReadConfigText(const std::string& path, const std::string& what) {
  try {
    return ReadRegularFile(path, kConfigFileMaxBytes).content;
  } catch (const FileReadError& e) {
    throw ConfigError(path + ": cannot read " + what + ": " + e.reason());
  }
}

Config LoadConfigFile(const std::string& path) { return ParseConfig(ReadConfigText(path, "config file"), path); }

bool TargetConfig::SameAs(const TargetConfig& other) const {
  // Every field but origin, so that a field added later is compared without anyone remembering to.
  TargetConfig moved = other;
  moved.origin = origin;
  return *this == moved;
}

Config ResolveConfig(const std::optional<std::string>& config_file, const EnvLookup& env) {
  Config config;
  if (config_file) config = LoadConfigFile(*config_file);
  if (config.targets.empty()) config.targets = TargetsFromEnvironment(env);
  if (config.targets.empty()) {
    throw ConfigError(config_file
                          ? *config_file + ": targets: no targets, and DATA_SOURCE_NAME / DATA_SOURCE_URI are unset"
                          : "no targets: pass --config.file with targets:, or set DATA_SOURCE_NAME or "
                            "DATA_SOURCE_URI");
  }
  return config;
}

}  // namespace pgpulse::config
