#include "exporter/config/yaml_validator.h"

#include <sstream>

#include "exporter/config/config.h"

namespace pgpulse::config {

void YamlValidator::Fail(const YAML::Node& node, const std::string& key, const std::string& message) const {
  std::ostringstream out;
  out << origin_;
  if (node.IsDefined() && node.Mark().line >= 0) out << ":" << node.Mark().line + 1 << ":" << node.Mark().column + 1;
  out << ": " << key << ": " << message;
  throw ConfigError(out.str());
}

void YamlValidator::RequireMap(const YAML::Node& node, const std::string& key,
                               const std::set<std::string>& allowed) const {
  if (!node.IsMap()) Fail(node, key.empty() ? "(top level)" : key, "must be a mapping");
  for (const auto& entry : node) {
    const auto name = entry.first.as<std::string>();
    if (!allowed.count(name)) {
      std::string known;
      for (const auto& a : allowed) known += (known.empty() ? "" : ", ") + a;
      Fail(entry.first, Join(key, name), "unknown key (known: " + known + ")");
    }
  }
}

std::string YamlValidator::String(const YAML::Node& node, const std::string& key) const {
  if (!node.IsScalar()) Fail(node, key, "must be a string");
  return node.as<std::string>();
}

bool YamlValidator::Bool(const YAML::Node& node, const std::string& key) const {
  bool value = false;
  if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value)) Fail(node, key, "must be true or false");
  return value;
}

std::uint64_t YamlValidator::Unsigned(const YAML::Node& node, const std::string& key) const {
  const auto text = node.IsScalar() ? node.Scalar() : std::string{};
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) {
    Fail(node, key, "must be a non-negative integer");
  }
  try {
    return std::stoull(text);
  } catch (const std::exception&) {
    Fail(node, key, "is out of range");
  }
}

std::vector<std::string> YamlValidator::StringList(const YAML::Node& node, const std::string& key) const {
  if (!node.IsSequence()) Fail(node, key, "must be a list of strings");
  std::vector<std::string> items;
  for (std::size_t i = 0; i < node.size(); ++i) items.push_back(String(node[i], key + "[" + std::to_string(i) + "]"));
  return items;
}

std::chrono::milliseconds YamlValidator::Duration(const YAML::Node& node, const std::string& key) const {
  try {
    return ParseDuration(String(node, key));
  } catch (const std::invalid_argument& e) {
    Fail(node, key, e.what());
  }
}

YAML::Node LoadYaml(const std::string& text, const std::string& origin) {
  try {
    return YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw ConfigError(origin + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                      ": invalid YAML: " + e.msg);
  }
}

}  // namespace pgpulse::config
