// Every key the config file and collector files accept is documented: docs/configuration.md's "Config file" section
// for pgpulse.yml, collectors/README.md's "Schema" section for collector files. The key sets are the loaders' own, so
// a key added to a loader without its line in the docs fails here.
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "exporter/collector/loader.h"
#include "exporter/config/config.h"
#include "tests/harness/process.h"

namespace pgpulse {
namespace {

// The lines from `heading` to the next heading of the same or a higher level, outside code fences (where a line
// starting with "#" is a comment, not a heading).
std::string Section(const std::string& document, const std::string& heading) {
  const auto level = heading.find(' ');
  std::istringstream lines(document);
  std::string line, section;
  bool inside = false, fenced = false;
  while (std::getline(lines, line)) {
    if (line.rfind("```", 0) == 0) fenced = !fenced;
    const auto hashes = line.find_first_not_of('#');
    const bool is_heading = !fenced && hashes > 0 && hashes != std::string::npos && line[hashes] == ' ';
    if (inside && is_heading && hashes <= level) break;
    if (line == heading) inside = true;
    if (inside) section += line + "\n";
  }
  return section;
}

// A key is documented where it is written as YAML (`key:`) or named in code (`` `key` ``).
bool Documents(const std::string& text, const std::string& key) {
  const std::regex as_yaml("(^|[\\s{,#-])" + key + ":");
  return std::regex_search(text, as_yaml) || text.find("`" + key + "`") != std::string::npos;
}

void ExpectDocumented(const std::string& text, const std::string& where, const std::string& what,
                      const std::set<std::string>& keys) {
  ASSERT_FALSE(text.empty()) << where << " is missing";
  for (const auto& key : keys) EXPECT_TRUE(Documents(text, key)) << where << " does not document " << what << key;
}

TEST(ConfigKeysDocsTest, EveryConfigFileKeyIsInConfigurationMd) {
  const auto doc = testing::ReadFile(std::string(PGPULSE_SOURCE_DIR) + "/docs/configuration.md");
  const auto section = Section(doc, "## Config file");
  const std::string where = "docs/configuration.md, section \"Config file\",";
  ExpectDocumented(section, where, "", config::keys::kRoot);
  ExpectDocumented(section, where, "targets[].", config::keys::kTarget);
  ExpectDocumented(section, where, "targets[].databases.", config::keys::kDatabases);
  ExpectDocumented(section, where, "collectors.<name>.", config::keys::kCollectorSettings);
}

TEST(ConfigKeysDocsTest, EveryCollectorFileKeyIsInTheCollectorsReadme) {
  const auto doc = testing::ReadFile(std::string(PGPULSE_SOURCE_DIR) + "/collectors/README.md");
  const auto section = Section(doc, "## Schema");
  const std::string where = "collectors/README.md, section \"Schema\",";
  namespace keys = collector::definition_keys;
  ExpectDocumented(section, where, "", keys::kRoot);
  ExpectDocumented(section, where, "requires.", keys::kRequires);
  ExpectDocumented(section, where, "queries[].", keys::kQuery);
  ExpectDocumented(section, where, "metrics[].", keys::kColumn);
  ExpectDocumented(section, where, "top.", keys::kTop);
}

TEST(ConfigKeysDocsTest, AnUndocumentedKeyIsReported) {
  EXPECT_TRUE(Documents("collectors:\n  x: {ttl: 30s}\n", "ttl"));
  EXPECT_TRUE(Documents("the `max_rows` cap", "max_rows"));
  EXPECT_FALSE(Documents("max_rows_total: 3, a ttl of 5m", "max_rows"));
  EXPECT_FALSE(Documents("a ttl of 5m", "ttl"));
}

}  // namespace
}  // namespace pgpulse
