#include "exporter/config/yaml_validator.h"

#include <yaml-cpp/depthguard.h>
#include <map>
#include <sstream>
#include <string_view>

#include "exporter/config/config.h"
#include "exporter/config/duration.h"

namespace pgpulse::config {

void YamlValidator::Fail(const YAML::Node& node, const std::string& key, const std::string& message) const {
  std::ostringstream out;
  out << origin_;
  if (node.IsDefined() && node.Mark().line >= 0) out << ":" << node.Mark().line + 1 << ":" << node.Mark().column + 1;
  out << ": " << key << ": " << message;
  throw ConfigError(out.str());
}

std::vector<YamlValidator::MapEntry> YamlValidator::Entries(const YAML::Node& node, const std::string& key) const {
  if (!node.IsMap()) Fail(node, key.empty() ? "(top level)" : key, "must be a mapping");
  std::vector<MapEntry> entries;
  std::map<std::string, int> lines;
  for (const auto& entry : node) {
    if (!entry.first.IsScalar()) {
      Fail(entry.first, key.empty() ? "(top level)" : key, "has a key that is not a plain string (a list or mapping)");
    }
    std::string name = entry.first.Scalar();
    auto [first, inserted] = lines.emplace(name, entry.first.Mark().line + 1);
    if (!inserted)
      Fail(entry.first, Join(key, name), "duplicate key (first on line " + std::to_string(first->second) + ")");
    entries.push_back({std::move(name), entry.first, entry.second});
  }
  return entries;
}

void YamlValidator::RequireMap(const YAML::Node& node, const std::string& key,
                               const std::set<std::string>& allowed) const {
  for (const auto& entry : Entries(node, key)) {
    if (!allowed.count(entry.name)) {
      std::string known;
      for (const auto& a : allowed) known += (known.empty() ? "" : ", ") + a;
      Fail(entry.key, Join(key, entry.name), "unknown key (known: " + known + ")");
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
  } catch (const YAML::Exception& e) {
    throw YamlError(e, origin);
  }
}

namespace {

// yaml-cpp's own message, fit for a log line: "unknown escape character: X" quotes the byte after a backslash, which
// may be part of a password in a double-quoted DSN, or not UTF-8 at all (invalid in a JSON log line). The line and
// column already point at it, so it is dropped; any other byte that is not printable ASCII is shown as \xNN.
std::string YamlMessage(const std::string& message) {
  static constexpr std::string_view kEscape = "unknown escape character";
  if (message.rfind(kEscape, 0) == 0) {
    return "unknown escape sequence after a backslash in a double-quoted string (single quotes take a backslash as is)";
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : message) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace

ConfigError YamlError(const YAML::Exception& e, const std::string& origin) {
  // yaml-cpp says "bad file" when nesting exceeds its depth limit, which would send users looking for an I/O fault.
  const std::string what =
      dynamic_cast<const YAML::DeepRecursion*>(&e) != nullptr ? "nested too deeply" : YamlMessage(e.msg);
  if (e.mark.is_null()) return ConfigError(origin + ": invalid YAML: " + what);
  return ConfigError(origin + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                     ": invalid YAML: " + what);
}

}  // namespace pgpulse::config
