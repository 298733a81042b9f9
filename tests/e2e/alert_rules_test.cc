// The shipped alert rules in alerts/: promtool accepts and unit-tests them, every alert keeps the house rules (name,
// severity, annotations, a runbook with its four sections, a test where it fires and one where it stays quiet, both
// sides of every `for:`), every threshold is defined once and used, and docs/alerts.md's alert table is generated
// from the files.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/harness/process.h"

namespace pgpulse::testing {
namespace {

namespace fs = std::filesystem;

const fs::path& SourceDir() {
  static const fs::path dir = PGPULSE_SOURCE_DIR;
  return dir;
}

const fs::path& AlertsDir() {
  static const fs::path dir = SourceDir() / "alerts";
  return dir;
}

// The rule files by theme, in the order docs/alerts.md lists them; thresholds and recording rules come first.
const std::vector<std::string>& ThemeFiles() {
  static const std::vector<std::string> files = {"availability.yml", "rotation.yml",    "capacity.yml",
                                                 "replication.yml",  "performance.yml", "pgpulse.yml"};
  return files;
}

struct Alert {
  std::string file;
  std::string name;
  std::string expr;
  std::string for_duration;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
};

struct RecordingRule {
  std::string file;
  std::string name;
  std::string expr;
};

struct Rules {
  std::vector<fs::path> files;
  std::vector<Alert> alerts;
  std::vector<RecordingRule> records;
};

std::map<std::string, std::string> StringMap(const YAML::Node& node) {
  std::map<std::string, std::string> out;
  if (!node) return out;
  for (const auto& entry : node) out[entry.first.as<std::string>()] = entry.second.as<std::string>();
  return out;
}

// Every *.yml directly in alerts/ with a top-level `groups:` is a rule file (the Alertmanager example is not).
Rules LoadRules() {
  Rules rules;
  std::vector<fs::path> paths;
  for (const auto& entry : fs::directory_iterator(AlertsDir())) {
    if (entry.is_regular_file() && entry.path().extension() == ".yml") paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());
  for (const auto& path : paths) {
    const auto doc = YAML::LoadFile(path.string());
    if (!doc["groups"]) continue;
    rules.files.push_back(path);
    const auto file = path.filename().string();
    for (const auto& group : doc["groups"]) {
      for (const auto& rule : group["rules"]) {
        if (rule["alert"]) {
          rules.alerts.push_back({file, rule["alert"].as<std::string>(), rule["expr"].as<std::string>(),
                                  rule["for"] ? rule["for"].as<std::string>() : "", StringMap(rule["labels"]),
                                  StringMap(rule["annotations"])});
        } else {
          rules.records.push_back({file, rule["record"].as<std::string>(), rule["expr"].as<std::string>()});
        }
      }
    }
  }
  return rules;
}

std::vector<fs::path> UnitTestFiles() {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(AlertsDir() / "tests")) {
    if (entry.is_regular_file() && entry.path().extension() == ".yml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// The thresholds operators tune: name -> its value as written in thresholds.yml, and the comment on its line.
struct Threshold {
  std::string value;
  std::string comment;
  int line = 0;  // in thresholds.yml, which keeps them by theme
};

std::map<std::string, Threshold> LoadThresholds() {
  std::map<std::string, Threshold> thresholds;
  int number = 0;
  std::ifstream in(AlertsDir() / "thresholds.yml");
  static const std::regex record(R"(^\s*- record: (pgpulse:threshold:[a-z0-9_]+)\s*(#\s*(.*))?$)");
  static const std::regex value(R"(^\s*expr: vector\((.*)\)\s*$)");
  std::string line, current;
  while (std::getline(in, line)) {
    ++number;
    std::smatch m;
    if (std::regex_match(line, m, record)) {
      current = m[1];
      thresholds[current].comment = m[3];
      thresholds[current].line = number;
    } else if (!current.empty() && std::regex_match(line, m, value)) {
      thresholds[current].value = m[1];
      current.clear();
    }
  }
  return thresholds;
}

std::vector<std::string> ThresholdsIn(const std::string& expr) {
  static const std::regex name(R"(pgpulse:threshold:[a-z0-9_]+)");
  std::vector<std::string> found;
  for (std::sregex_iterator it(expr.begin(), expr.end(), name), end; it != end; ++it) {
    if (std::find(found.begin(), found.end(), it->str()) == found.end()) found.push_back(it->str());
  }
  return found;
}

std::string ReadText(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// ---------------------------------------------------------------------------------------------------------------
// promtool

TEST(AlertRulesTest, EveryRuleFilePassesPromtoolCheckRules) {
  const auto rules = LoadRules();
  ASSERT_GE(rules.files.size(), ThemeFiles().size() + 2) << "expected thresholds, recording and the theme files";
  for (const auto& file : rules.files) {
    const auto check = RunCommand({"/usr/bin/promtool", "check", "rules", file.string()});
    EXPECT_EQ(check.exit_code, 0) << file << ":\n" << check.output;
  }
}

TEST(AlertRulesTest, PromtoolUnitTestsPass) {
  const auto files = UnitTestFiles();
  ASSERT_FALSE(files.empty());
  for (const auto& file : files) {
    // promtool resolves rule_files relative to the test file's directory only when run from there.
    const auto run = RunCommand({"/bin/sh", "-c",
                                 "cd '" + file.parent_path().string() + "' && /usr/bin/promtool test rules '" +
                                     file.filename().string() + "'"});
    EXPECT_EQ(run.exit_code, 0) << file << ":\n" << run.output;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// House rules

TEST(AlertRulesTest, AtLeastFortyAlertsInEveryTheme) {
  const auto rules = LoadRules();
  EXPECT_GE(rules.alerts.size(), 40u);
  for (const auto& theme : ThemeFiles()) {
    EXPECT_TRUE(std::any_of(rules.alerts.begin(), rules.alerts.end(), [&](const Alert& a) { return a.file == theme; }))
        << "no alert in alerts/" << theme;
  }
  for (const auto& alert : rules.alerts) {
    EXPECT_TRUE(std::find(ThemeFiles().begin(), ThemeFiles().end(), alert.file) != ThemeFiles().end())
        << alert.name << " is in alerts/" << alert.file << ", which is not one of the theme files";
  }
}

TEST(AlertRulesTest, NamesAreUniqueCamelCasePrefixedAndShort) {
  static const std::regex camel(R"(^(Pgpulse|Pg)[A-Z][A-Za-z0-9]*$)");
  std::set<std::string> seen;
  for (const auto& alert : LoadRules().alerts) {
    EXPECT_TRUE(seen.insert(alert.name).second) << alert.name << " is defined twice";
    EXPECT_TRUE(std::regex_match(alert.name, camel)) << alert.name << " (alerts/" << alert.file << ")";
    EXPECT_LE(alert.name.size(), 40u) << alert.name;
  }
}

TEST(AlertRulesTest, EveryAlertHasSeveritySummaryDescriptionAndRunbook) {
  static const std::set<std::string> severities = {"critical", "warning", "info"};
  for (const auto& alert : LoadRules().alerts) {
    SCOPED_TRACE(alert.name + " (alerts/" + alert.file + ")");
    EXPECT_TRUE(severities.count(alert.labels.count("severity") ? alert.labels.at("severity") : ""));
    const auto summary = alert.annotations.count("summary") ? alert.annotations.at("summary") : "";
    // One sentence: it ends with a full stop and holds no other sentence break.
    EXPECT_FALSE(summary.empty());
    EXPECT_EQ(summary.back(), '.') << summary;
    EXPECT_EQ(summary.find(". "), std::string::npos) << summary;
    const auto description = alert.annotations.count("description") ? alert.annotations.at("description") : "";
    // Templated with what it is about (target, database, role, slot, collector). An absent() alert has no labels to
    // name: it says which job or rule file is missing instead.
    if (alert.expr.rfind("absent(", 0) != 0) {
      EXPECT_NE(description.find("{{ $labels."), std::string::npos) << "description names no label: " << description;
    }
    const auto runbook = alert.annotations.count("runbook_url") ? alert.annotations.at("runbook_url") : "";
    EXPECT_EQ(runbook, "alerts/runbooks/" + alert.name + ".md");
  }
}

TEST(AlertRulesTest, EveryRunbookHasItsFourSectionsAndDiagnosisSql) {
  const auto rules = LoadRules();
  std::set<std::string> names;
  for (const auto& alert : rules.alerts) {
    names.insert(alert.name);
    const auto path = AlertsDir() / "runbooks" / (alert.name + ".md");
    ASSERT_TRUE(fs::exists(path)) << "no runbook for " << alert.name << ": " << path;
    const auto text = ReadText(path);
    std::size_t previous = 0;
    for (const std::string section : {"## Meaning", "## Impact", "## Diagnosis", "## Mitigation"}) {
      const auto at = text.find("\n" + section + "\n");
      ASSERT_NE(at, std::string::npos) << path << " lacks the section " << section;
      EXPECT_GT(at, previous) << path << ": " << section << " out of order";
      previous = at;
    }
    const auto diagnosis = text.substr(text.find("\n## Diagnosis\n"));
    EXPECT_NE(diagnosis.substr(0, diagnosis.find("\n## Mitigation\n")).find("```sql\n"), std::string::npos)
        << path << ": Diagnosis has no ```sql block to run as the reporting role";
  }
  // A runbook without an alert is left over from a rename.
  for (const auto& entry : fs::directory_iterator(AlertsDir() / "runbooks")) {
    EXPECT_TRUE(names.count(entry.path().stem().string())) << entry.path() << " belongs to no alert";
  }
}

// Every alert fires in some unit test and stays quiet in another.
TEST(AlertRulesTest, EveryAlertHasAFiringAndAQuietUnitTest) {
  std::set<std::string> fires, quiet;
  for (const auto& file : UnitTestFiles()) {
    for (const auto& test : YAML::LoadFile(file.string())["tests"]) {
      for (const auto& check : test["alert_rule_test"]) {
        const auto name = check["alertname"].as<std::string>();
        (check["exp_alerts"] && check["exp_alerts"].size() > 0 ? fires : quiet).insert(name);
      }
    }
  }
  for (const auto& alert : LoadRules().alerts) {
    EXPECT_TRUE(fires.count(alert.name)) << alert.name << " has no unit test in which it fires";
    EXPECT_TRUE(quiet.count(alert.name)) << alert.name << " has no unit test in which it stays quiet";
  }
}

// A Prometheus duration ("90s", "1h30m", "2d") in seconds; the rule files and their tests use no other form.
long DurationSeconds(const std::string& text) {
  static const std::regex part(R"((\d+)(ms|s|m|h|d|w))");
  static const std::map<std::string, long> unit = {{"ms", 0},   {"s", 1},     {"m", 60},
                                                   {"h", 3600}, {"d", 86400}, {"w", 604800}};
  long total = 0;
  for (std::sregex_iterator it(text.begin(), text.end(), part), end; it != end; ++it) {
    total += std::stol((*it)[1]) * unit.at((*it)[2]);
  }
  return total;
}

// Both sides of a `for:` boundary: in one test (one set of input series), a check where the alert is still quiet
// and, at most one evaluation (1m) later, a check where it fires. A firing case alone would pass with a `for:`
// that was too short, or missing.
TEST(AlertRulesTest, EveryForBoundaryIsTestedOnBothSides) {
  std::map<std::string, long> closest;  // alert -> smallest quiet-to-firing step seen in one test
  for (const auto& file : UnitTestFiles()) {
    for (const auto& test : YAML::LoadFile(file.string())["tests"]) {
      std::map<std::string, std::vector<std::pair<long, bool>>> checks;  // alert -> (eval time, fires)
      for (const auto& check : test["alert_rule_test"]) {
        checks[check["alertname"].as<std::string>()].emplace_back(DurationSeconds(check["eval_time"].as<std::string>()),
                                                                  check["exp_alerts"] && check["exp_alerts"].size());
      }
      for (const auto& [name, evaluations] : checks) {
        for (const auto& [quiet_at, quiet_fires] : evaluations) {
          for (const auto& [firing_at, fires] : evaluations) {
            if (quiet_fires || !fires || firing_at <= quiet_at) continue;
            const long step = firing_at - quiet_at;
            if (!closest.count(name) || step < closest[name]) closest[name] = step;
          }
        }
      }
    }
  }
  int with_for = 0;
  for (const auto& alert : LoadRules().alerts) {
    if (DurationSeconds(alert.for_duration) == 0) continue;
    ++with_for;
    ASSERT_TRUE(closest.count(alert.name))
        << alert.name << " (for: " << alert.for_duration << ") has no test that is quiet and then fires";
    EXPECT_LE(closest[alert.name], 60) << alert.name << " (for: " << alert.for_duration
                                       << "): no quiet check within one evaluation before a firing one";
  }
  EXPECT_GE(with_for, 40);
}

TEST(AlertRulesTest, EveryRecordingRuleHasAUnitTest) {
  std::string tested;
  for (const auto& file : UnitTestFiles()) {
    for (const auto& test : YAML::LoadFile(file.string())["tests"]) {
      for (const auto& check : test["promql_expr_test"]) tested += check["expr"].as<std::string>() + "\n";
    }
  }
  for (const auto& record : LoadRules().records) {
    if (record.file == "thresholds.yml") continue;  // constants, checked below
    const std::regex use("(^|[^a-z0-9_:])" + record.name + "($|[^a-z0-9_:])");
    EXPECT_TRUE(std::regex_search(tested, use))
        << record.name << " (alerts/" << record.file << ") has no promql_expr_test";
  }
}

TEST(AlertRulesTest, ThresholdsAreDefinedOnceAndEachIsUsed) {
  const auto rules = LoadRules();
  const auto thresholds = LoadThresholds();
  std::set<std::string> used;
  for (const auto& record : rules.records) {
    if (record.file == "thresholds.yml") {
      EXPECT_TRUE(thresholds.count(record.name)) << record.name << ": thresholds.yml rules must read `vector(...)`";
      EXPECT_EQ(record.name.rfind("pgpulse:threshold:", 0), 0u) << record.name;
    }
  }
  for (const auto& alert : rules.alerts) {
    for (const auto& name : ThresholdsIn(alert.expr)) {
      EXPECT_TRUE(thresholds.count(name)) << alert.name << " uses " << name << ", which thresholds.yml lacks";
      used.insert(name);
    }
  }
  for (const auto& [name, threshold] : thresholds) {
    EXPECT_TRUE(used.count(name)) << name << " is tuned in thresholds.yml but no alert reads it";
    EXPECT_FALSE(threshold.value.empty()) << name;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// docs/alerts.md

std::string Escape(std::string text) {
  for (std::size_t at = 0; (at = text.find('|', at)) != std::string::npos; at += 2) text.replace(at, 1, "\\|");
  return text;
}

std::string AlertTable() {
  const auto rules = LoadRules();
  const auto thresholds = LoadThresholds();
  std::ostringstream out;
  out << "| alert | severity | for | threshold (`pgpulse:threshold:`...) | what it means |\n";
  out << "|---|---|---|---|---|\n";
  for (const auto& theme : ThemeFiles()) {
    for (const auto& alert : rules.alerts) {
      if (alert.file != theme) continue;
      std::string limits;
      for (const auto& name : ThresholdsIn(alert.expr)) {
        const auto it = thresholds.find(name);
        limits += (limits.empty() ? "" : "<br>") + std::string("`") + name.substr(18) +
                  "` = " + (it == thresholds.end() ? "?" : it->second.value);
      }
      out << "| [`" << alert.name << "`](../alerts/runbooks/" << alert.name << ".md) | " << alert.labels.at("severity")
          << " | " << (alert.for_duration.empty() ? "" : alert.for_duration) << " | " << Escape(limits) << " | "
          << Escape(alert.annotations.at("summary")) << " |\n";
    }
  }
  out << "\nThe thresholds, by theme, as `alerts/thresholds.yml` sets them:\n\n";
  out << "| threshold | default | |\n|---|---|---|\n";
  std::vector<std::pair<std::string, Threshold>> in_file_order(thresholds.begin(), thresholds.end());
  std::sort(in_file_order.begin(), in_file_order.end(),
            [](const auto& a, const auto& b) { return a.second.line < b.second.line; });
  for (const auto& [name, threshold] : in_file_order) {
    out << "| `" << name << "` | `" << Escape(threshold.value) << "` | " << Escape(threshold.comment) << " |\n";
  }
  return out.str();
}

// PGPULSE_WRITE_ALERT_TABLE=1 rewrites docs/alerts.md instead (scripts/gen-alert-reference.sh).
TEST(AlertRulesTest, DocsAlertTableIsCurrent) {
  const auto doc_path = SourceDir() / "docs" / "alerts.md";
  auto doc = ReadText(doc_path);
  const std::string begin = "<!-- alert-reference:begin -->\n", end = "<!-- alert-reference:end -->";
  const auto from = doc.find(begin);
  const auto to = doc.find(end);
  ASSERT_NE(from, std::string::npos) << "docs/alerts.md lacks " << begin;
  ASSERT_NE(to, std::string::npos) << "docs/alerts.md lacks " << end;
  const auto current = doc.substr(from + begin.size(), to - from - begin.size());
  const auto wanted = AlertTable();
  if (const char* write = std::getenv("PGPULSE_WRITE_ALERT_TABLE"); write && std::string(write) == "1") {
    doc.replace(from + begin.size(), to - from - begin.size(), wanted);
    std::ofstream(doc_path) << doc;
    return;
  }
  EXPECT_EQ(current, wanted) << "docs/alerts.md's alert table is out of date: run scripts/gen-alert-reference.sh";
}

}  // namespace
}  // namespace pgpulse::testing
