#include "exporter/cli/flags.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "tests/harness/process.h"

namespace pgpulse::cli {
namespace {

TEST(ParseFlagsTest, DefaultsFollowPostgresExporter) {
  const auto flags = ParseFlags({});
  EXPECT_EQ(flags.listen_address, ":9187");
  EXPECT_EQ(flags.telemetry_path, "/metrics");
  EXPECT_EQ(flags.log_level, "info");
  EXPECT_EQ(flags.log_format, "logfmt");
  EXPECT_FALSE(flags.config_file.has_value());
}

TEST(ParseFlagsTest, AcceptsBothValueForms) {
  const auto flags = ParseFlags({"--config.file=/etc/pgpulse.yml", "--web.listen-address", "127.0.0.1:9999",
                                 "--web.telemetry-path=/m", "--log.level=debug", "--log.format", "json"});
  EXPECT_EQ(flags.config_file, "/etc/pgpulse.yml");
  EXPECT_EQ(flags.listen_address, "127.0.0.1:9999");
  EXPECT_EQ(flags.telemetry_path, "/m");
  EXPECT_EQ(flags.log_level, "debug");
  EXPECT_EQ(flags.log_format, "json");
}

TEST(ParseFlagsTest, RejectsUnknownAndIncompleteFlags) {
  EXPECT_THROW(ParseFlags({"--web.listen"}), FlagError);
  EXPECT_THROW(ParseFlags({"--config.file"}), FlagError);
  EXPECT_THROW(ParseFlags({"--config.file="}), FlagError);
  EXPECT_THROW(ParseFlags({"--web.telemetry-path=metrics"}), FlagError);
  try {
    ParseFlags({"--bogus=1"});
  } catch (const FlagError& e) {
    EXPECT_NE(std::string(e.what()).find("--bogus"), std::string::npos);
  }
}

TEST(ParseFlagsTest, WebConfigFileAndLifecycle) {
  EXPECT_FALSE(ParseFlags({}).web_config_file.has_value());
  EXPECT_FALSE(ParseFlags({}).enable_lifecycle) << "off by default, as in Prometheus";
  const auto flags = ParseFlags({"--web.config.file", "/etc/pgpulse/web.yml", "--web.enable-lifecycle"});
  EXPECT_EQ(flags.web_config_file, "/etc/pgpulse/web.yml");
  EXPECT_FALSE(flags.config_file.has_value()) << "the two file flags do not mix";
  EXPECT_TRUE(flags.enable_lifecycle);
  EXPECT_EQ(ParseFlags({"--web.config.file=w.yml", "--config.file=c.yml"}).config_file, "c.yml");
  EXPECT_THROW(ParseFlags({"--web.config.file="}), FlagError);
}

TEST(ParseFlagsTest, VersionAndHelp) {
  EXPECT_TRUE(ParseFlags({"--version"}).show_version);
  EXPECT_TRUE(ParseFlags({"--help"}).show_help);
  EXPECT_NE(HelpText().find("--config.file"), std::string::npos);
}

TEST(ParseFlagsTest, CheckSubcommandTakesOutputAndTheServersFlags) {
  EXPECT_FALSE(ParseFlags({}).check);
  const auto check = ParseFlags({"check", "--config.file=/etc/pgpulse.yml", "--output", "json", "--log.level=warn"});
  EXPECT_TRUE(check.check);
  EXPECT_EQ(check.output, "json");
  EXPECT_EQ(check.config_file, "/etc/pgpulse.yml");
  EXPECT_EQ(ParseFlags({"check"}).output, "table");
  EXPECT_NO_THROW(ParseFlags({"check", "--web.listen-address=:9187"})) << "a probe may reuse the server's arguments";
  EXPECT_THROW(ParseFlags({"check", "--output=yaml"}), FlagError);
  EXPECT_THROW(ParseFlags({"--output=json"}), FlagError) << "--output is check's alone";
  EXPECT_THROW(ParseFlags({"--config.file=/x", "check"}), FlagError) << "the subcommand comes first";
  EXPECT_NE(HelpText().find("pgpulse check [--config.file=FILE] [--output=table|json]"), std::string::npos);
}

// --help against the docs: every endpoint of the README's endpoints table and every flag of docs/configuration.md's
// flag table is in --help, and every endpoint and flag --help lists is in the docs.

std::string ReadDoc(const std::string& path) { return testing::ReadFile(std::string(PGPULSE_SOURCE_DIR) + "/" + path); }

// The rows of the Markdown table whose header line is `header`, up to the first line that is not a row.
std::vector<std::string> TableRows(const std::string& doc, const std::string& header) {
  std::vector<std::string> rows;
  std::istringstream in(doc);
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    if (!inside) {
      inside = line == header;
      continue;
    }
    if (line.empty() || line.front() != '|') break;
    if (line.rfind("|---", 0) != 0) rows.push_back(line);
  }
  return rows;
}

// The first cell of a row, e.g. "`/metrics` (`--web.telemetry-path`)".
std::string FirstCell(const std::string& row) {
  const auto end = row.find('|', 1);
  return row.substr(1, end == std::string::npos ? std::string::npos : end - 1);
}

// The endpoints of the README's table: the first code span of each row's first cell.
std::set<std::string> ReadmeEndpoints() {
  std::set<std::string> endpoints;
  static const std::regex code("`([^`]+)`");
  for (const auto& row : TableRows(ReadDoc("README.md"), "| endpoint | what |")) {
    const auto cell = FirstCell(row);
    std::smatch match;
    if (std::regex_search(cell, match, code)) endpoints.insert(match[1].str());
  }
  return endpoints;
}

// The flags of docs/configuration.md's table: every "--name" or "-x" code span of each row's first cell.
std::set<std::string> DocumentedFlags() {
  std::set<std::string> flags;
  static const std::regex code("`(--?[a-z][a-z.-]*)`");
  for (const auto& row : TableRows(ReadDoc("docs/configuration.md"), "| flag | default | |")) {
    const auto cell = FirstCell(row);
    for (std::sregex_iterator it(cell.begin(), cell.end(), code), end; it != end; ++it) flags.insert((*it)[1].str());
  }
  return flags;
}

// The lines of a --help section ("Flags:", "Endpoints:"): its indented lines, each cut before the description.
std::vector<std::string> HelpSection(const std::string& help, const std::string& title) {
  std::vector<std::string> entries;
  std::istringstream in(help);
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    if (!inside) {
      inside = line == title;
      continue;
    }
    if (line.empty()) break;
    if (line.find_first_not_of(' ') != 2) continue;  // a description's continuation line
    entries.push_back(line.substr(2, line.find("  ", 2) - 2));
  }
  return entries;
}

std::set<std::string> HelpEndpoints(const std::string& help) {
  const auto entries = HelpSection(help, "Endpoints:");
  return {entries.begin(), entries.end()};
}

std::set<std::string> HelpFlags(const std::string& help) {
  std::set<std::string> flags;
  static const std::regex flag("(--?[a-z][a-z.-]*)");
  for (const auto& entry : HelpSection(help, "Flags:")) {
    for (std::sregex_iterator it(entry.begin(), entry.end(), flag), end; it != end; ++it) flags.insert((*it)[1].str());
  }
  return flags;
}

TEST(HelpTextTest, ListsEveryEndpointOfTheReadme) {
  const auto readme = ReadmeEndpoints();
  ASSERT_GE(readme.size(), 6u) << "README.md's endpoints table was not found";
  EXPECT_EQ(HelpEndpoints(HelpText()), readme) << "--help and README.md's endpoints table disagree";
}

TEST(HelpTextTest, ListsEveryFlagOfTheConfigurationDoc) {
  const auto documented = DocumentedFlags();
  ASSERT_GE(documented.size(), 8u) << "docs/configuration.md's flag table was not found";
  EXPECT_EQ(HelpFlags(HelpText()), documented) << "--help and docs/configuration.md's flag table disagree";
}

TEST(HelpTextTest, EveryFlagItListsIsAccepted) {
  for (const auto& flag : HelpFlags(HelpText())) {
    const bool takes_value = HelpText().find("  " + flag + "=") != std::string::npos;
    EXPECT_NO_THROW(ParseFlags(takes_value ? std::vector<std::string>{flag + "=/x"} : std::vector<std::string>{flag}))
        << flag;
  }
}

TEST(HelpTextTest, ComparisonNoticesAMissingEndpoint) {
  auto help = HelpText();
  const std::string line = "  /healthz ";
  const auto at = help.find(line);
  ASSERT_NE(at, std::string::npos);
  help.erase(at, help.find('\n', at) + 1 - at);
  EXPECT_NE(HelpEndpoints(help), ReadmeEndpoints());
}

}  // namespace
}  // namespace pgpulse::cli
