#include "exporter/config/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <regex>
#include <set>

#include "exporter/config/credentials.h"
#include "exporter/config/dsn.h"
#include "exporter/config/regular_file.h"
#include "exporter/config/secret_file.h"
#include "exporter/config/yaml_validator.h"

namespace pgpulse::config {
namespace {

const std::regex kTargetName("[A-Za-z0-9][A-Za-z0-9_.:/@-]{0,127}");
const std::regex kLabelName("[a-zA-Z_][a-zA-Z0-9_]*");

TargetConfig ParseTarget(const YamlValidator& v, const YAML::Node& node, const std::string& key) {
  v.RequireMap(node, key,
               {"name", "dsn", "password_file", "user_file", "secret_file", "databases", "labels",
                "storage_limit_bytes", "allow_superuser", "max_connections"});
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
    v.RequireMap(dbs, key + ".databases", {"include", "exclude"});
    for (const char* list : {"include", "exclude"}) {
      if (!dbs[list]) continue;
      const auto list_key = key + ".databases." + list;
      auto entries = v.StringList(dbs[list], list_key);
      for (const auto& entry : entries) {
        if (entry.size() < 2 || entry.front() != '/' || entry.back() != '/') continue;
        try {
          std::regex(entry.substr(1, entry.size() - 2));
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
      if (!std::regex_match(entry.name, kLabelName) || entry.name.rfind("__", 0) == 0) {
        v.Fail(entry.key, label_key, "is not a valid Prometheus label name");
      }
      if (entry.name == "target") v.Fail(entry.key, label_key, "is reserved: pgpulse sets target itself");
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
  v.RequireMap(node, key, {"enabled", "ttl", "limit", "max_series", "max_rows"});
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

std::string ReadConfigText(const std::string& path) {
  try {
    return ReadRegularFile(path, kConfigFileMaxBytes).content;
  } catch (const FileReadError& e) {
    throw ConfigError(path + ": cannot read config file: " + e.reason());
  }
}

Config ParseDocument(const YAML::Node& root, const std::string& origin) {
  YamlValidator v(origin);
  Config config;
  if (root.IsNull()) return config;
  v.RequireMap(root, "", {"targets", "collectors", "custom_collectors"});
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

Config LoadConfigFile(const std::string& path) { return ParseConfig(ReadConfigText(path), path); }

EnvLookup ProcessEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr || *value == '\0') return std::nullopt;
    return std::string(value);
  };
}

std::vector<std::string> SplitDataSourceNames(const std::string& value) {
  static const std::regex kDsnStart(R"(^\s*(postgres(ql)?://|[A-Za-z_]+\s*=))");
  std::vector<std::string> dsns;
  std::string::size_type start = 0;
  while (start <= value.size()) {
    auto comma = value.find(',', start);
    std::string piece = value.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (dsns.empty() || std::regex_search(piece, kDsnStart)) {
      dsns.push_back(piece);
    } else {
      dsns.back() += "," + piece;
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return dsns;
}

bool TargetConfig::SameAs(const TargetConfig& other) const {
  // Every field but origin, so that a field added later is compared without anyone remembering to.
  TargetConfig moved = other;
  moved.origin = origin;
  return *this == moved;
}

bool DatabaseFilter::Matches(const std::string& database) const {
  auto listed = [&database](const std::vector<std::string>& list) {
    for (const auto& entry : list) {
      if (entry.size() >= 2 && entry.front() == '/' && entry.back() == '/') {
        if (std::regex_search(database, std::regex(entry.substr(1, entry.size() - 2)))) return true;
      } else if (entry == database) {
        return true;
      }
    }
    return false;
  };
  return (include.empty() || listed(include)) && !listed(exclude);
}

std::vector<std::string> SplitDataSourceUris(const std::string& value) {
  std::vector<std::string> uris;
  std::string pending;
  std::string::size_type start = 0;
  while (true) {
    auto comma = value.find(',', start);
    std::string piece = value.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    pending += (pending.empty() ? "" : ",") + piece;
    if (comma == std::string::npos || piece.find_first_of("/?") != std::string::npos) {
      uris.push_back(pending);
      pending.clear();
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return uris;
}

std::vector<TargetConfig> TargetsFromEnvironment(const EnvLookup& env) {
  std::vector<TargetConfig> targets;
  auto add = [&targets](const std::string& dsn, const std::string& origin) {
    TargetConfig target;
    target.origin = origin;
    try {
      target.conn = ParseDsn(dsn);
    } catch (const std::invalid_argument& e) {
      throw ConfigError(origin + ": " + e.what());
    }
    target.redacted_dsn = RedactDsn(dsn);
    target.name = DescribeDsn(target.conn);
    targets.push_back(std::move(target));
  };

  if (auto names = env("DATA_SOURCE_NAME")) {
    auto dsns = SplitDataSourceNames(*names);
    for (std::size_t i = 0; i < dsns.size(); ++i) {
      add(dsns[i], dsns.size() == 1 ? "DATA_SOURCE_NAME" : "DATA_SOURCE_NAME[" + std::to_string(i) + "]");
    }
  } else if (auto uris = env("DATA_SOURCE_URI")) {
    // Credentials stay out of the DSN: the user and password are passed to libpq as keywords, and the files are
    // re-read at every connect so that a rotated secret is picked up.
    std::string user = env("DATA_SOURCE_USER").value_or("");
    std::string user_file = env("DATA_SOURCE_USER_FILE").value_or("");
    std::string password = env("DATA_SOURCE_PASS").value_or("");
    std::string password_file = env("DATA_SOURCE_PASS_FILE").value_or("");
    for (const auto& [file, variable] :
         {std::pair{user_file, "DATA_SOURCE_USER_FILE"}, {password_file, "DATA_SOURCE_PASS_FILE"}}) {
      if (file.empty()) continue;
      if (auto problem = CheckSecretFile(file)) throw ConfigError(std::string(variable) + ": " + *problem);
    }
    auto list = SplitDataSourceUris(*uris);
    for (std::size_t i = 0; i < list.size(); ++i) {
      std::string uri = list[i];
      if (uri.rfind("postgres://", 0) != 0 && uri.rfind("postgresql://", 0) != 0) uri = "postgresql://" + uri;
      add(uri, list.size() == 1 ? "DATA_SOURCE_URI" : "DATA_SOURCE_URI[" + std::to_string(i) + "]");
      auto& target = targets.back();
      if (!user.empty()) target.conn["user"] = user;
      target.user_file = user_file;
      target.password = password;
      target.password_file = password_file;
      target.name = DescribeDsn(target.conn);
    }
  }
  // Two DSNs to the same place get distinct names rather than colliding silently.
  std::map<std::string, int> uses;
  for (auto& target : targets) {
    if (int n = uses[target.name]++; n > 0) target.name += "#" + std::to_string(n + 1);
  }
  return targets;
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
