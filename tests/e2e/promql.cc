// PromQL as the tests read it: the series an expression reads, and the rule files of alerts/.
#include "tests/e2e/promql.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace pgpulse::testing {

namespace fs = std::filesystem;

namespace {
bool IsNameStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':'; }
bool IsNameChar(char c) { return IsNameStart(c) || std::isdigit(static_cast<unsigned char>(c)); }
bool IsSpace(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// Words that are PromQL syntax, not series (the lexer matches them in any case): binary and set operators, modifiers,
// aggregation operators (`sum without (l) (x)` has no parenthesis right after `sum`) and the special numbers.
bool IsKeyword(const std::string& word) {
  static const std::set<std::string> kKeywords = {
      "and",          "or",       "unless", "atan2",       "bool",   "offset", "sum",  "avg",
      "count",        "min",      "max",    "group",       "stddev", "stdvar", "topk", "bottomk",
      "count_values", "quantile", "limitk", "limit_ratio", "inf",    "nan"};
  return kKeywords.count(Lower(word)) > 0;
}

// Keywords followed by a list of label names, not of series.
bool TakesLabelList(const std::string& word) {
  static const std::set<std::string> kWords = {"by", "without", "on", "ignoring", "group_left", "group_right"};
  return kWords.count(Lower(word)) > 0;
}

// Index just past the string literal opening at `i` ("...", '...' with backslash escapes, `...` raw).
size_t SkipString(std::string_view expr, size_t i) {
  const char quote = expr[i];
  for (++i; i < expr.size(); ++i) {
    if (expr[i] == '\\' && quote != '`') {
      ++i;
    } else if (expr[i] == quote) {
      return i + 1;
    }
  }
  throw std::invalid_argument("unterminated string literal in: " + std::string(expr));
}

// Index just past the bracket that closes the one at `i` ({...} matchers, [...] ranges and subqueries, (...) label
// lists), strings inside included.
size_t SkipBracketed(std::string_view expr, size_t i) {
  const char open = expr[i];
  const char close = open == '{' ? '}' : open == '[' ? ']' : ')';
  int depth = 0;
  while (i < expr.size()) {
    const char c = expr[i];
    if (c == '"' || c == '\'' || c == '`') {
      i = SkipString(expr, i);
      continue;
    }
    if (c == open) {
      ++depth;
    } else if (c == close && --depth == 0) {
      return i + 1;
    }
    ++i;
  }
  throw std::invalid_argument(std::string("unclosed ") + open + " in: " + std::string(expr));
}

// Index just past the number or duration at `i`: 42, 1.5, .5, 1e9, 1.5e-3, 0x1F, 5m, 1h30m.
size_t SkipNumber(std::string_view expr, size_t i) {
  const bool hex = expr.size() > i + 1 && expr[i] == '0' && (expr[i + 1] == 'x' || expr[i + 1] == 'X');
  size_t end = i;
  while (end < expr.size()) {
    const char c = expr[end];
    const bool exponent_sign =
        (c == '+' || c == '-') && !hex && end > i && (expr[end - 1] == 'e' || expr[end - 1] == 'E');
    if (!IsNameChar(c) && c != '.' && !exponent_sign) break;
    ++end;
  }
  return end;
}

}  // namespace

size_t SkipPromqlBrackets(std::string_view expr, size_t i) { return SkipBracketed(expr, i); }

std::set<std::string> PromqlMetricNames(std::string_view expr) {
  std::set<std::string> names;
  size_t i = 0;
  while (i < expr.size()) {
    const char c = expr[i];
    if (c == '#') {
      while (i < expr.size() && expr[i] != '\n') ++i;
    } else if (c == '"' || c == '\'' || c == '`') {
      i = SkipString(expr, i);
    } else if (c == '{' || c == '[') {
      i = SkipBracketed(expr, i);
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               (c == '.' && i + 1 < expr.size() && std::isdigit(static_cast<unsigned char>(expr[i + 1])))) {
      i = SkipNumber(expr, i);
    } else if (IsNameStart(c)) {
      size_t end = i;
      while (end < expr.size() && IsNameChar(expr[end])) ++end;
      const std::string word(expr.substr(i, end - i));
      size_t next = end;
      while (next < expr.size() && IsSpace(expr[next])) ++next;
      const bool call = next < expr.size() && expr[next] == '(';
      i = end;
      if (TakesLabelList(word)) {
        if (call) i = SkipBracketed(expr, next);
      } else if (!call && !IsKeyword(word)) {
        names.insert(word);
      }
    } else {
      ++i;  // operators, parentheses, commas, @, white space
    }
  }
  return names;
}

// ---------------------------------------------------------------------------------------------------------------
// The rule files.

const fs::path& AlertsDir() {
  static const fs::path dir = fs::path(PGPULSE_SOURCE_DIR) / "alerts";
  return dir;
}

std::vector<Rule> LoadRules() {
  std::vector<fs::path> paths;
  for (const auto& entry : fs::directory_iterator(AlertsDir())) {
    if (entry.is_regular_file() && entry.path().extension() == ".yml") paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());
  std::vector<Rule> rules;
  for (const auto& path : paths) {
    const YAML::Node doc = YAML::LoadFile(path.string());
    if (!doc["groups"]) continue;
    for (const auto& group : doc["groups"]) {
      for (const auto& node : group["rules"]) {
        Rule rule;
        rule.file = path.filename().string();
        rule.alert = static_cast<bool>(node["alert"]);
        rule.name = node[rule.alert ? "alert" : "record"].as<std::string>();
        rule.expr = node["expr"].as<std::string>();
        rules.push_back(std::move(rule));
      }
    }
  }
  return rules;
}

std::set<std::string> ReadSeries(const std::string& expr, const std::vector<Rule>& rules,
                                 std::set<std::string> resolving) {
  std::set<std::string> series;
  for (const auto& name : PromqlMetricNames(expr)) {
    bool recorded = false;
    for (const auto& rule : rules) {
      if (rule.alert || rule.name != name) continue;
      recorded = true;
      if (!resolving.insert(name).second) throw std::invalid_argument("recording rules loop through " + name);
      series.merge(ReadSeries(rule.expr, rules, resolving));
      resolving.erase(name);
    }
    if (!recorded) series.insert(name);
  }
  return series;
}

bool FromPrometheus(const std::string& name) { return name == "up" || name == "ALERTS"; }

const std::vector<AddedIn> kAddedIn = {
    // reserved_connections came in 16; pg:connections_usable counts it as 0 before.
    {"pg_settings_reserved_connections", 16},
};

}  // namespace pgpulse::testing
