// Malformed YAML in the config file or a collector file is a ConfigError naming the file and the line, never an
// uncaught yaml-cpp exception (which at start ended pgpulse with SIGABRT).
#include <gtest/gtest.h>

#include <random>
#include <regex>
#include <string>
#include <vector>

#include "exporter/collector/loader.h"
#include "exporter/config/config.h"
#include "tests/harness/process.h"

namespace pgpulse::config {
namespace {

using testing::WriteTempFile;

struct Case {
  std::string what;
  std::string yaml;
  int line;  // where the error must point; 0: any line
};

const std::vector<Case>& ConfigCases() {
  static const std::vector<Case> cases = {
      // A key that is a list or a mapping, at every level that holds a mapping.
      {"list as a label key", "targets:\n  - name: a\n    dsn: host=db\n    labels: {? [a] : b}\n", 4},
      {"list as a top-level key", "? [targets]\n: []\n", 1},
      {"mapping as a target key", "targets:\n  - {? {x: 1} : y, name: a, dsn: host=db}\n", 2},
      {"list as a databases key", "targets:\n  - name: a\n    dsn: host=db\n    databases: {? [include] : []}\n", 4},
      {"list as a collector name", "collectors:\n  ? [a, b]\n  : {enabled: true}\n", 2},
      {"list as a collector setting", "collectors:\n  locks: {? [enabled] : true}\n", 2},
      // A list where a mapping is expected.
      {"list as the document", "- targets\n", 1},
      {"list as a target", "targets:\n  - [a, b]\n", 2},
      {"list as labels", "targets:\n  - name: a\n    dsn: host=db\n    labels: [env, prod]\n", 4},
      {"list as collectors", "collectors: [locks]\n", 1},
      {"list as collector settings", "collectors:\n  locks: [true]\n", 2},
      {"list as databases", "targets:\n  - name: a\n    dsn: host=db\n    databases: [x]\n", 4},
      // A mapping or a list where a string is expected.
      {"mapping as a name", "targets:\n  - name: {a: b}\n    dsn: host=db\n", 2},
      {"list as a dsn", "targets:\n  - name: a\n    dsn: [host=db]\n", 3},
      {"mapping as a label value", "targets:\n  - name: a\n    dsn: host=db\n    labels: {env: {a: b}}\n", 4},
      {"mapping as a password_file", "targets:\n  - name: a\n    dsn: host=db\n    password_file: {a: b}\n", 4},
      {"mapping in custom_collectors", "custom_collectors: [{a: b}]\n", 1},
      {"mapping as targets", "targets: {name: a}\n", 1},
      {"mapping as a ttl", "collectors:\n  locks: {ttl: {a: 1}}\n", 2},
      {"list as a bool", "collectors:\n  locks: {enabled: [true]}\n", 2},
      {"mapping as an integer", "targets:\n  - name: a\n    dsn: host=db\n    max_connections: {a: 1}\n", 4},
      // Tabs, which YAML does not allow for indentation.
      {"tab indentation", "targets:\n\t- name: a\n", 2},
      {"tab inside a block mapping", "targets:\n  - name: a\n\tdsn: host=db\n", 3},
      // Duplicate keys: yaml-cpp keeps both and a lookup finds the first, so the second would be ignored silently.
      {"duplicate target key", "targets:\n  - name: a\n    dsn: host=db\n    name: b\n", 4},
      {"duplicate label", "targets:\n  - name: a\n    dsn: host=db\n    labels: {env: a, env: b}\n", 4},
      {"duplicate top-level key", "targets: []\ntargets: []\n", 2},
      {"duplicate collector", "collectors:\n  locks: {enabled: true}\n  locks: {enabled: false}\n", 3},
      // Structure yaml-cpp itself refuses.
      {"unclosed flow mapping", "targets: [{name: a\n", 0},
      {"deep nesting", std::string(100000, '[') + std::string(100000, ']') + "\n", 0},
      {"binary garbage", std::string("\x00\xff\xfe\x01garbage: [\x01\x02\x80", 15), 1},
      {"bad escape", "targets: [{name: \"\\q\"}]\n", 1},
      {"undefined alias", "targets: *nowhere\n", 1},
  };
  return cases;
}

// "<file>:<line>:" at the start, with the line the case expects when it names one.
void ExpectNamesFileAndLine(const std::string& error, const std::string& file, int line, const std::string& what) {
  const std::regex prefix("^" + std::regex_replace(file, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") +
                          ":([0-9]+):");
  std::smatch match;
  ASSERT_TRUE(std::regex_search(error, match, prefix)) << what << ": " << error;
  if (line > 0) {
    EXPECT_EQ(std::stoi(match[1]), line) << what << ": " << error;
  }
}

// The config loader's answer: the ConfigError's message, or a failure naming any other exception.
std::string ConfigErrorOf(const std::string& path, const std::string& what) {
  try {
    LoadConfigFile(path);
  } catch (const ConfigError& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << what << ": not a ConfigError but " << typeid(e).name() << ": " << e.what();
    return "";
  }
  ADD_FAILURE() << what << ": accepted";
  return "";
}

TEST(MalformedYamlTest, EveryCaseIsAConfigErrorNamingFileAndLine) {
  for (const auto& c : ConfigCases()) {
    const auto path = WriteTempFile(c.yaml, ".yml");
    const auto error = ConfigErrorOf(path, c.what);
    if (error.empty()) continue;
    ExpectNamesFileAndLine(error, path, c.line, c.what);
  }
}

TEST(MalformedYamlTest, MessagesSayWhatIsWrong) {
  const auto path = WriteTempFile("targets:\n  - name: a\n    dsn: host=db\n    labels: {? [a] : b}\n", ".yml");
  EXPECT_EQ(ConfigErrorOf(path, "non-scalar label"),
            path + ":4:16: targets[0].labels: has a key that is not a plain string (a list or mapping)");
  const auto twice = WriteTempFile("targets:\n  - name: a\n    dsn: host=db\n    labels: {env: a, env: b}\n", ".yml");
  EXPECT_EQ(ConfigErrorOf(twice, "duplicate label"),
            twice + ":4:22: targets[0].labels.env: duplicate key (first on line 4)");
}

TEST(MalformedYamlTest, RandomBytesNeverEscapeAsAnythingButAConfigError) {
  std::mt19937 random(20261);
  for (int i = 0; i < 200; ++i) {
    std::string bytes(1 + random() % 300, '\0');
    for (auto& byte : bytes) byte = static_cast<char>(random() % 256);
    // Half of them start as a plausible config, so the garbage reaches the validator too.
    if (i % 2 == 0) bytes = "targets:\n  - name: a\n    dsn: host=db\n    labels: " + bytes;
    try {
      ParseConfig(bytes, "garbage.yml");
    } catch (const ConfigError& e) {
      ExpectNamesFileAndLine(e.what(), "garbage.yml", 0, "random bytes #" + std::to_string(i));
    } catch (const std::exception& e) {
      ADD_FAILURE() << "random bytes #" << i << ": " << typeid(e).name() << ": " << e.what();
    }
  }
}

constexpr const char* kCollector = R"(name: sizes
scope: database
queries:
  - sql: SELECT relname, 1 AS size_bytes FROM pg_class
metrics:
  - {column: relname, usage: label}
  - {column: size_bytes, usage: gauge, name: pg_x_size_bytes, help: Size in bytes.}
top: {rank_by: size_bytes, other: {relname: other}}
)";

TEST(MalformedCollectorTest, EveryCaseIsAConfigErrorNamingFileAndLine) {
  ASSERT_NO_THROW(collector::ParseDefinition(kCollector, "c.yaml"));
  const std::vector<std::pair<std::string, std::string>> replacements = {
      {"name: sizes", "? [name]\n: sizes"},
      {"{column: relname, usage: label}", "{? [column] : relname, usage: label}"},
      {"{relname: other}", "{? [relname] : other}"},
      {"{relname: other}", "[relname]"},
      {"{relname: other}", "{relname: {a: b}}"},
      {"{relname: other}", "{relname: a, relname: b}"},
      {"top: {", "top: {? {a: 1} : 2, "},
      {"scope: database", "scope: [database]"},
      {"- sql: SELECT", "- {? [sql] : x}\n  - sql: SELECT"},
      {"name: sizes", "name: sizes\nname: other"},
      {"scope: database", "scope: database\n\tttl: 5m"},
  };
  for (const auto& [from, to] : replacements) {
    std::string yaml = kCollector;
    const auto at = yaml.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    yaml.replace(at, from.size(), to);
    try {
      collector::ParseDefinition(yaml, "c.yaml");
      ADD_FAILURE() << to << ": accepted";
    } catch (const ConfigError& e) {
      ExpectNamesFileAndLine(e.what(), "c.yaml", 0, to);
    } catch (const std::exception& e) {
      ADD_FAILURE() << to << ": " << typeid(e).name() << ": " << e.what();
    }
  }
}

}  // namespace
}  // namespace pgpulse::config
