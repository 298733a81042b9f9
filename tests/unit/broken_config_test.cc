// Config files broken in ways malformed_yaml_test.cc does not cover: the wrong kind of file, an empty or huge one, a
// YAML alias bomb, bytes that are not UTF-8 where a name goes, and errors on lines that hold a password. Each must be a
// ConfigError that names the file (and, inside it, the line and key), promptly, and never echoes a password.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <typeinfo>
#include <vector>

#include "exporter/collector/loader.h"
#include "exporter/config/config.h"
#include "tests/harness/files.h"

namespace pgpulse::config {
namespace {

using testing::TempDir;
using testing::WriteTempFile;
using Clock = std::chrono::steady_clock;

std::string ErrorOf(const std::string& path) {
  try {
    ResolveConfig(path, [](const std::string&) { return std::nullopt; });
  } catch (const ConfigError& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << path << ": not a ConfigError but " << typeid(e).name() << ": " << e.what();
    return "";
  }
  ADD_FAILURE() << path << ": accepted";
  return "";
}

bool StartsWith(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

TEST(BrokenConfigTest, ADirectoryIsNamedAsOne) {
  TempDir dir;
  const auto error = ErrorOf(dir.path());
  EXPECT_TRUE(StartsWith(error, dir.path() + ":")) << error;
  EXPECT_NE(error.find("directory"), std::string::npos) << error;
}

TEST(BrokenConfigTest, AnEmptyOrCommentOnlyFileSaysItHasNoTargets) {
  for (const std::string text : {"", "\n\n", "# nothing yet\n", "---\n", "targets: []\n"}) {
    const auto path = WriteTempFile(text, ".yml");
    const auto error = ErrorOf(path);
    EXPECT_TRUE(StartsWith(error, path + ":")) << "\"" << text << "\": " << error;
    EXPECT_NE(error.find("no targets"), std::string::npos) << "\"" << text << "\": " << error;
  }
}

TEST(BrokenConfigTest, ABinaryFileIsAnErrorNamingIt) {
  // What a mistyped --config.file most often names: a program.
  std::ifstream program("/bin/sh", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(program)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 1000u);
  bytes.resize(std::min<std::size_t>(bytes.size(), 256 * 1024));
  const auto path = WriteTempFile(bytes, ".yml");
  const auto error = ErrorOf(path);
  EXPECT_TRUE(StartsWith(error, path + ":")) << error;
}

TEST(BrokenConfigTest, AHugeFileIsRefusedWithoutParsingIt) {
  std::string text = "targets:\n  - name: a\n    dsn: host=db\n";
  while (text.size() < 8 * 1024 * 1024) text += "# " + std::string(1000, 'x') + "\n";
  const auto path = WriteTempFile(text, ".yml");
  const auto error = ErrorOf(path);
  EXPECT_TRUE(StartsWith(error, path + ":")) << error;
  EXPECT_NE(error.find("larger than"), std::string::npos) << error;
}

TEST(BrokenConfigTest, AnAliasBombIsRefusedPromptly) {
  // Each level refers to the one before nine times: the last stands for 9^9 (387 million) strings. yaml-cpp shares
  // aliased nodes, so parsing is cheap; a validator that walks every alias would not finish.
  std::string text = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 10; ++i) {
    const auto prev = "*a" + std::to_string(i - 1);
    text += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [" + prev;
    for (int j = 1; j < 9; ++j) text += ", " + prev;
    text += "]\n";
  }
  // As a whole document, and as the value of a key pgpulse reads.
  for (const std::string& yaml : {text, "targets:\n  - name: a\n    dsn: host=db\n    labels:\n" + [&] {
                                    std::string indented;
                                    for (std::size_t at = 0; at < text.size();) {
                                      const auto end = text.find('\n', at);
                                      indented += "      " + text.substr(at, end + 1 - at);
                                      at = end + 1;
                                    }
                                    return indented;
                                  }()}) {
    const auto start = Clock::now();
    const auto path = WriteTempFile(yaml, ".yml");
    const auto error = ErrorOf(path);
    EXPECT_LT(Clock::now() - start, std::chrono::seconds(2)) << "an alias bomb took long to refuse";
    EXPECT_TRUE(StartsWith(error, path + ":")) << error;
  }
}

TEST(BrokenConfigTest, ATargetNameThatIsNotUtf8IsRefusedAtItsLine) {
  const auto path = WriteTempFile("targets:\n  - name: \"caf\xe9\"\n    dsn: host=db\n", ".yml");
  const auto error = ErrorOf(path);
  EXPECT_TRUE(StartsWith(error, path + ":2:")) << error;
  EXPECT_NE(error.find("targets[0].name"), std::string::npos) << error;
  EXPECT_EQ(error.find('\xe9'), std::string::npos) << "the error echoes the invalid byte";
}

TEST(BrokenConfigTest, ErrorsOnLinesWithAPasswordNeverEchoIt) {
  const std::string secret = "s3cret-9f8e7d";
  const std::vector<std::string> cases = {
      "targets:\n  - name: a\n    dsn: 'host=db password=" + secret + " novalue'\n",
      "targets:\n  - name: a\n    dsn: [host=db password=" + secret + "]\n",
      "targets:\n  - name: a\n    dsn: {password: " + secret + "}\n",
      "targets:\n  - name: a\n    dsn: host=db password=" + secret + "\n    dsn: host=db password=" + secret + "\n",
      "targets:\n  - name: a\n    dsn: \"host=db password=" + secret + "\\q\"\n",
      "targets:\n  - name: a\n    dsn: host=db\n    password: " + secret + "\n",
      "targets:\n  - name: a\n    dsn: host=db password=" + secret + "\n  - name: a\n    dsn: host=db\n",
  };
  for (const auto& yaml : cases) {
    const auto path = WriteTempFile(yaml, ".yml");
    const auto error = ErrorOf(path);
    EXPECT_TRUE(StartsWith(error, path + ":")) << yaml << "\n" << error;
    EXPECT_EQ(error.find(secret), std::string::npos) << "the error shows the password:\n" << error;
  }
}

TEST(BrokenConfigTest, AYamlErrorQuotesNoByteOfTheFile) {
  // yaml-cpp's "unknown escape character: X" quoted the byte after the backslash: a byte of the password here, and
  // bytes that are not UTF-8, which made the JSON log line invalid.
  for (const std::string& bad : {std::string("s3cr\\qet"),
                                 std::string("s3cr\\\xff"
                                             "et"),
                                 std::string("s3\\\x01x")}) {
    const auto path = WriteTempFile("targets:\n  - name: a\n    dsn: \"host=db password=" + bad + "\"\n", ".yml");
    const auto error = ErrorOf(path);
    EXPECT_TRUE(StartsWith(error, path + ":3:")) << error;
    EXPECT_NE(error.find("unknown escape sequence"), std::string::npos) << error;
    EXPECT_EQ(error.find("character: "), std::string::npos) << error;
    for (unsigned char c : error) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << "byte " << int{c} << " in: " << error;
  }
}

TEST(BrokenCollectorFileTest, BadMetricNamesAreRefusedNamingFileLineAndKey) {
  const std::string valid =
      "name: odd\nscope: cluster\nqueries:\n  - sql: SELECT 1 AS v\nmetrics:\n"
      "  - {column: v, usage: gauge, name: pg_odd_value, help: A value.}\n";
  ASSERT_NO_THROW(collector::ParseDefinition(valid, "c.yaml"));
  for (const std::string bad : {"pg-odd-value", "pg odd", "9pg_odd", "pg_odd\xff", "", "pg_odd{a=\"b\"}"}) {
    std::string yaml = valid;
    yaml.replace(yaml.find("pg_odd_value"), 12, "'" + bad + "'");
    try {
      collector::ParseDefinition(yaml, "c.yaml");
      ADD_FAILURE() << "metric name \"" << bad << "\" accepted";
    } catch (const ConfigError& e) {
      EXPECT_TRUE(StartsWith(e.what(), "c.yaml:6:")) << e.what();
      EXPECT_NE(std::string(e.what()).find("metrics[0].name"), std::string::npos) << e.what();
    }
  }
  // A label name Prometheus refuses.
  std::string yaml = valid;
  yaml.replace(yaml.find("SELECT 1 AS v"), 13, "SELECT 1 AS v, 'x' AS l");
  yaml += "  - {column: l, usage: label, label: \"bad-label\"}\n";
  EXPECT_THROW(collector::ParseDefinition(yaml, "c.yaml"), ConfigError);
}

TEST(BrokenCollectorFileTest, ADirectoryOfCollectorsWithAnEmptyOrBinaryFileNamesThatFile) {
  TempDir dir;
  testing::WriteFile(dir.path() + "/empty.yaml", "");
  try {
    collector::LoadDirectory(dir.path());
    ADD_FAILURE() << "an empty collector file was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(dir.path() + "/empty.yaml"), std::string::npos) << e.what();
  }
  testing::WriteFile(dir.path() + "/empty.yaml", std::string("\x7f"
                                                             "ELF\x02\x01\x01\0\0\0",
                                                             10));
  try {
    collector::LoadDirectory(dir.path());
    ADD_FAILURE() << "a binary collector file was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(dir.path() + "/empty.yaml"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace pgpulse::config
