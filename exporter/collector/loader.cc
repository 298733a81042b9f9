#include "exporter/collector/loader.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>
#include <set>

#include "exporter/collector/embedded.h"
#include "exporter/config/config.h"
#include "exporter/config/yaml_validator.h"
#include "exporter/metrics/names.h"

namespace pgpulse::collector {
namespace {

using config::ConfigError;
using config::YamlValidator;

const std::regex kCollectorName("[a-z][a-z0-9_]*");

Usage ParseUsage(const YamlValidator& v, const YAML::Node& node, const std::string& key) {
  const auto text = v.String(node, key);
  if (text == "label") return Usage::kLabel;
  if (text == "gauge") return Usage::kGauge;
  if (text == "counter") return Usage::kCounter;
  v.Fail(node, key, "must be label, gauge or counter");
}

ColumnMapping ParseColumn(const YamlValidator& v, const YAML::Node& node, const std::string& key) {
  v.RequireMap(node, key, definition_keys::kColumn);
  ColumnMapping mapping;
  if (!node["column"]) v.Fail(node, key + ".column", "is required");
  if (!node["usage"]) v.Fail(node, key + ".usage", "is required");
  mapping.column = v.String(node["column"], key + ".column");
  mapping.usage = ParseUsage(v, node["usage"], key + ".usage");
  if (mapping.usage == Usage::kLabel) {
    for (const char* forbidden : {"name", "help"}) {
      if (node[forbidden]) v.Fail(node[forbidden], key + "." + forbidden, "only applies to gauge and counter columns");
    }
    mapping.label = node["label"] ? v.String(node["label"], key + ".label") : mapping.column;
    if (!metrics::IsLabelName(mapping.label)) {
      v.Fail(node["label"] ? node["label"] : node["column"], key + ".label", "is not a valid label name");
    }
    if (mapping.label == metrics::own::kTargetLabel) {
      v.Fail(node, key + ".label", "is reserved: pgpulse sets target itself");
    }
    return mapping;
  }
  if (node["label"]) v.Fail(node["label"], key + ".label", "only applies to label columns");
  if (!node["name"]) v.Fail(node, key + ".name", "is required for gauge and counter columns");
  if (!node["help"]) v.Fail(node, key + ".help", "is required for gauge and counter columns");
  mapping.name = v.String(node["name"], key + ".name");
  mapping.help = v.String(node["help"], key + ".help");
  if (!metrics::IsMetricName(mapping.name)) v.Fail(node["name"], key + ".name", "is not a valid metric name");
  if (mapping.help.empty()) v.Fail(node["help"], key + ".help", "must not be empty");
  return mapping;
}

QueryVariant ParseQueryVariant(const YamlValidator& v, const YAML::Node& node, const std::string& key) {
  v.RequireMap(node, key, definition_keys::kQuery);
  QueryVariant query;
  if (!node["sql"]) v.Fail(node, key + ".sql", "is required");
  query.sql = v.String(node["sql"], key + ".sql");
  if (node["min_version"]) query.min_version = static_cast<int>(v.Unsigned(node["min_version"], key + ".min_version"));
  if (node["max_version"]) query.max_version = static_cast<int>(v.Unsigned(node["max_version"], key + ".max_version"));
  if (query.max_version != 0 && query.max_version < query.min_version) {
    v.Fail(node["max_version"], key + ".max_version", "is below min_version");
  }
  return query;
}

TopSpec ParseTop(const YamlValidator& v, const YAML::Node& node, const Definition& def) {
  v.RequireMap(node, "top", definition_keys::kTop);
  TopSpec top;
  if (!node["rank_by"]) v.Fail(node, "top.rank_by", "is required");
  top.rank_by = v.String(node["rank_by"], "top.rank_by");
  auto ranked = std::find_if(def.columns.begin(), def.columns.end(),
                             [&](const ColumnMapping& m) { return m.column == top.rank_by; });
  if (ranked == def.columns.end() || ranked->usage == Usage::kLabel) {
    v.Fail(node["rank_by"], "top.rank_by", "must name a gauge or counter column");
  }
  if (node["limit"]) top.limit = static_cast<int>(v.Unsigned(node["limit"], "top.limit"));
  if (top.limit < 1) v.Fail(node["limit"], "top.limit", "must be at least 1");
  if (node["keep"]) top.keep = v.Duration(node["keep"], "top.keep");
  auto is_label_column = [&def](const std::string& column) {
    return std::any_of(def.columns.begin(), def.columns.end(),
                       [&](const ColumnMapping& m) { return m.column == column && m.usage == Usage::kLabel; });
  };
  if (node["group_by"]) {
    top.group_by = v.StringList(node["group_by"], "top.group_by");
    for (const auto& column : top.group_by) {
      if (!is_label_column(column))
        v.Fail(node["group_by"], "top.group_by", "\"" + column + "\" is not a label column");
    }
  }
  if (!node["other"]) v.Fail(node, "top.other", "is required: the label values of the remainder row");
  if (!node["other"].IsMap()) v.Fail(node["other"], "top.other", "must be a mapping of label columns to values");
  for (const auto& entry : v.Entries(node["other"], "top.other")) {
    if (!is_label_column(entry.name)) v.Fail(entry.key, "top.other." + entry.name, "is not a label column");
    top.other[entry.name] = v.String(entry.value, "top.other." + entry.name);
  }
  // The remainder row needs a value for every label: its group's, or the one given under other.
  for (const auto& mapping : def.columns) {
    if (mapping.usage != Usage::kLabel) continue;
    const bool grouped = std::find(top.group_by.begin(), top.group_by.end(), mapping.column) != top.group_by.end();
    if (!grouped && !top.other.count(mapping.column)) {
      v.Fail(node["other"], "top.other", "label column " + mapping.column + " is neither in group_by nor given here");
    }
  }
  // The selector works on label names; translate from column names once, here.
  auto label_of = [&def](const std::string& column) {
    for (const auto& mapping : def.columns) {
      if (mapping.column == column) return mapping.label;
    }
    return column;
  };
  for (auto& column : top.group_by) column = label_of(column);
  std::map<std::string, std::string> other;
  for (const auto& [column, value] : top.other) other[label_of(column)] = value;
  top.other = std::move(other);
  return top;
}

void CheckVariantsDoNotOverlap(const YamlValidator& v, const YAML::Node& node, std::vector<QueryVariant> queries) {
  std::sort(queries.begin(), queries.end(), [](const auto& a, const auto& b) { return a.min_version < b.min_version; });
  for (std::size_t i = 1; i < queries.size(); ++i) {
    const auto& previous = queries[i - 1];
    if (previous.max_version == 0 || previous.max_version >= queries[i].min_version) {
      v.Fail(node, "queries", "version ranges overlap at " + std::to_string(queries[i].min_version));
    }
  }
}

Definition ParseDocument(const YAML::Node& root, const std::string& yaml_text, const std::string& origin) {
  YamlValidator v(origin);
  v.RequireMap(root, "", definition_keys::kRoot);
  Definition def;
  def.origin = origin;
  def.source = yaml_text;
  for (const char* required : {"name", "scope", "queries", "metrics"}) {
    if (!root[required]) v.Fail(root, required, "is required");
  }
  def.name = v.String(root["name"], "name");
  if (!std::regex_match(def.name, kCollectorName)) v.Fail(root["name"], "name", "must match [a-z][a-z0-9_]*");
  if (root["help"]) def.help = v.String(root["help"], "help");
  const auto scope = v.String(root["scope"], "scope");
  if (scope == "cluster") {
    def.scope = Scope::kCluster;
  } else if (scope == "database") {
    def.scope = Scope::kDatabase;
  } else {
    v.Fail(root["scope"], "scope", "must be cluster or database");
  }
  if (root["ttl"]) def.ttl = v.Duration(root["ttl"], "ttl");
  if (root["timeout"]) def.timeout = v.Duration(root["timeout"], "timeout");
  if (def.timeout.count() <= 0) v.Fail(root["timeout"], "timeout", "must be positive");
  if (root["primary_only"]) def.primary_only = v.Bool(root["primary_only"], "primary_only");
  if (root["replica_only"]) def.replica_only = v.Bool(root["replica_only"], "replica_only");
  if (def.primary_only && def.replica_only) v.Fail(root, "replica_only", "excludes primary_only");
  if (const auto& requires_node = root["requires"]) {
    v.RequireMap(requires_node, "requires", definition_keys::kRequires);
    if (requires_node["extension"]) def.requires_extension = v.String(requires_node["extension"], "requires.extension");
    if (requires_node["function"]) def.requires_function = v.String(requires_node["function"], "requires.function");
  }
  const auto& queries = root["queries"];
  if (!queries.IsSequence() || queries.size() == 0) v.Fail(queries, "queries", "must be a non-empty list");
  for (std::size_t i = 0; i < queries.size(); ++i) {
    def.queries.push_back(ParseQueryVariant(v, queries[i], "queries[" + std::to_string(i) + "]"));
  }
  CheckVariantsDoNotOverlap(v, queries, def.queries);
  for (std::size_t i = 0; i < def.queries.size(); ++i) {
    std::string rest = def.queries[i].sql;
    for (auto at = rest.find("{{schema}}"); at != std::string::npos; at = rest.find("{{schema}}")) {
      if (def.requires_extension.empty()) {
        v.Fail(queries[i]["sql"], "queries[" + std::to_string(i) + "].sql", "{{schema}} needs requires.extension");
      }
      rest.erase(at, 10);
    }
    if (rest.find("{{") != std::string::npos) {
      v.Fail(queries[i]["sql"], "queries[" + std::to_string(i) + "].sql", "the only placeholder is {{schema}}");
    }
  }
  const auto& metrics = root["metrics"];
  if (!metrics.IsSequence() || metrics.size() == 0) v.Fail(metrics, "metrics", "must be a non-empty list");
  std::set<std::string> columns, labels;
  bool any_value = false;
  for (std::size_t i = 0; i < metrics.size(); ++i) {
    const auto key = "metrics[" + std::to_string(i) + "]";
    auto mapping = ParseColumn(v, metrics[i], key);
    if (!columns.insert(mapping.column).second) v.Fail(metrics[i], key + ".column", "is mapped twice");
    if (mapping.usage == Usage::kLabel && !labels.insert(mapping.label).second) {
      v.Fail(metrics[i], key + ".label", "label \"" + mapping.label + "\" is used twice");
    }
    any_value = any_value || mapping.usage != Usage::kLabel;
    def.columns.push_back(std::move(mapping));
  }
  if (!any_value) v.Fail(metrics, "metrics", "needs at least one gauge or counter column");
  if (root["top"]) def.top = ParseTop(v, root["top"], def);
  if (root["max_series"]) def.max_series = v.Unsigned(root["max_series"], "max_series");
  if (root["max_rows"]) {
    def.max_rows = v.Unsigned(root["max_rows"], "max_rows");
    if (def.max_rows == 0) v.Fail(root["max_rows"], "max_rows", "must be at least 1 (leave it out for no cap)");
  }
  return def;
}

}  // namespace

Definition ParseDefinition(const std::string& yaml_text, const std::string& origin) {
  const YAML::Node root = config::LoadYaml(yaml_text, origin);
  try {
    return ParseDocument(root, yaml_text, origin);
  } catch (const YAML::Exception& e) {
    // A backstop, as for the config file: nothing yaml-cpp throws may escape as anything but a config error.
    throw config::YamlError(e, origin);
  }
}

std::vector<Definition> LoadDirectory(const std::string& directory) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(directory, ec)) throw ConfigError(directory + ": custom_collectors: not a directory");
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(directory, ec)) {
    const auto extension = entry.path().extension();
    // Not only regular files: a *.yaml that is a FIFO or a device is a mistake to report, which the bounded reader
    // does without waiting on it, rather than a file to skip in silence.
    std::error_code type_ec;  // a dangling symlink is not a directory; the reader then names what is wrong
    if (!entry.is_directory(type_ec) && (extension == ".yaml" || extension == ".yml")) files.push_back(entry.path());
  }
  if (ec) throw ConfigError(directory + ": cannot list collector directory: " + ec.message());
  std::sort(files.begin(), files.end());
  std::vector<Definition> definitions;
  definitions.reserve(files.size());
  for (const auto& file : files) {
    definitions.push_back(ParseDefinition(config::ReadConfigText(file.string(), "collector file"), file.string()));
  }
  return definitions;
}

void ValidateSet(const std::vector<Definition>& definitions) {
  std::map<std::string, const Definition*> names;
  struct MetricUse {
    Usage usage;
    std::string help;
    const Definition* definition;
  };
  std::map<std::string, MetricUse> metrics;
  for (const auto& def : definitions) {
    auto [it, inserted] = names.emplace(def.name, &def);
    if (!inserted) {
      throw ConfigError(def.origin + ": name: collector \"" + def.name + "\" is already defined in " +
                        it->second->origin);
    }
    for (const auto& column : def.columns) {
      if (column.usage == Usage::kLabel) continue;
      // The engine writes these itself; a collector exporting one would put a family in the output twice.
      if (metrics::own::IsSeriesName(column.name)) {
        throw ConfigError(def.origin + ": metrics: " + column.name + " is reserved for pgpulse's own series");
      }
      auto [use, first] = metrics.emplace(column.name, MetricUse{column.usage, column.help, &def});
      if (first || use->second.definition == &def) continue;
      if (use->second.usage != column.usage || use->second.help != column.help) {
        throw ConfigError(def.origin + ": metrics: " + column.name + " is also defined by " +
                          use->second.definition->origin + " with a different type or help text");
      }
    }
  }
}

std::vector<Definition> LoadCollectors(const std::vector<std::string>& custom_directories) {
  std::vector<Definition> definitions;
  for (const auto& [file, text] : EmbeddedCollectorFiles()) {
    definitions.push_back(ParseDefinition(std::string(text), "collectors/" + std::string(file)));
  }
  for (const auto& directory : custom_directories) {
    auto custom = LoadDirectory(directory);
    definitions.insert(definitions.end(), custom.begin(), custom.end());
  }
  ValidateSet(definitions);
  return definitions;
}

}  // namespace pgpulse::collector
