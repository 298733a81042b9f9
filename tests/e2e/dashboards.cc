#include "tests/e2e/dashboards.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <regex>
#include <stdexcept>

namespace pgpulse::testing {

namespace fs = std::filesystem;

namespace {

std::optional<std::string> OptionalString(const YAML::Node& node) {
  if (!node || node.IsNull()) return std::nullopt;
  return node.as<std::string>();
}

DashboardPanel ReadPanel(const YAML::Node& node) {
  DashboardPanel panel;
  panel.title = node["title"].as<std::string>("");
  panel.type = node["type"].as<std::string>("");
  panel.description = OptionalString(node["description"]);
  const auto defaults = node["fieldConfig"]["defaults"];
  if (defaults) {
    panel.unit = OptionalString(defaults["unit"]);
    for (const auto& link : defaults["links"]) panel.link_urls.push_back(link["url"].as<std::string>(""));
  }
  for (const auto& target : node["targets"]) {
    DashboardQuery query;
    query.expr = target["expr"].as<std::string>("");
    query.legend = target["legendFormat"].as<std::string>("");
    query.instant = target["instant"].as<bool>(false) && !target["range"].as<bool>(false);
    panel.queries.push_back(std::move(query));
  }
  return panel;
}

Dashboard ReadDashboard(const fs::path& path) {
  // JSON is YAML: yaml-cpp reads it (strict JSON validity is checked separately, with Python's json module).
  const YAML::Node doc = YAML::LoadFile(path.string());
  Dashboard dashboard;
  dashboard.file = path.filename().string();
  dashboard.uid = doc["uid"].as<std::string>("");
  dashboard.title = doc["title"].as<std::string>("");
  dashboard.schema_version = doc["schemaVersion"].as<int>(0);
  dashboard.editable = doc["editable"].as<bool>(true);
  for (const auto& node : doc["templating"]["list"]) {
    DashboardVariable variable;
    variable.name = node["name"].as<std::string>("");
    variable.type = node["type"].as<std::string>("");
    const auto query = node["query"];
    if (query && query.IsMap()) {
      variable.query = query["query"].as<std::string>("");
    } else if (query) {
      variable.query = query.as<std::string>("");
    }
    variable.multi = node["multi"].as<bool>(false);
    variable.include_all = node["includeAll"].as<bool>(false);
    variable.all_value = OptionalString(node["allValue"]);
    dashboard.variables.push_back(std::move(variable));
  }
  for (const auto& node : doc["panels"]) {
    if (node["type"].as<std::string>("") == "row") {
      for (const auto& nested : node["panels"]) dashboard.panels.push_back(ReadPanel(nested));
      continue;
    }
    dashboard.panels.push_back(ReadPanel(node));
  }
  for (const auto& node : doc["links"]) {
    dashboard.links.push_back(
        {node["type"].as<std::string>(""), node["includeVars"].as<bool>(false), node["keepTime"].as<bool>(false)});
  }
  return dashboard;
}

}  // namespace

const DashboardVariable* Dashboard::Variable(const std::string& name) const {
  for (const auto& variable : variables) {
    if (variable.name == name) return &variable;
  }
  return nullptr;
}

std::vector<Dashboard> LoadDashboards() {
  std::vector<fs::path> paths;
  for (const auto& entry : fs::directory_iterator(fs::path(PGPULSE_SOURCE_DIR) / "dashboards")) {
    if (entry.is_regular_file() && entry.path().extension() == ".json") paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());
  std::vector<Dashboard> dashboards;
  for (const auto& path : paths) {
    try {
      dashboards.push_back(ReadDashboard(path));
    } catch (const YAML::Exception& e) {
      throw std::runtime_error("dashboards/" + path.filename().string() + ": " + e.what());
    }
  }
  return dashboards;
}

// Grafana's variable syntax: $name, ${name} or ${name:format} ([[name]] is deprecated and not used here). A name
// starts with a letter or _: `$1` is label_replace's reference to a regex group, which Grafana leaves alone.
static const std::regex& VariablePattern() {
  static const std::regex pattern(R"(\$\{([A-Za-z_][A-Za-z0-9_]*)(:[^}]*)?\}|\$([A-Za-z_][A-Za-z0-9_]*))");
  return pattern;
}

std::set<std::string> VariablesUsed(const std::string& text) {
  std::set<std::string> names;
  for (std::sregex_iterator it(text.begin(), text.end(), VariablePattern()), end; it != end; ++it) {
    names.insert((*it)[1].matched ? (*it)[1].str() : (*it)[3].str());
  }
  return names;
}

std::string FillVariables(const std::string& text, const std::map<std::string, std::string>& values) {
  std::string out;
  auto last = text.cbegin();
  for (std::sregex_iterator it(text.begin(), text.end(), VariablePattern()), end; it != end; ++it) {
    const auto& match = *it;
    const std::string name = match[1].matched ? match[1].str() : match[3].str();
    out.append(last, match[0].first);
    const auto value = values.find(name);
    out += value == values.end() ? match[0].str() : value->second;
    last = match[0].second;
  }
  out.append(last, text.cend());
  return out;
}

std::optional<LabelValuesQuery> ParseLabelValues(const std::string& query) {
  static const std::regex pattern(R"(^\s*label_values\(\s*(.*)\s*,\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$)");
  std::smatch match;
  if (!std::regex_match(query, match, pattern)) return std::nullopt;
  return LabelValuesQuery{match[1].str(), match[2].str()};
}

}  // namespace pgpulse::testing
