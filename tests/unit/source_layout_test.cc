// The engine's shape, as issue 13 set it: small files with one job, libpq behind the pg layer, tests named for their
// units. Checked on the source tree, so a change that breaks one fails here rather than in a later review.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <string>

#include "tests/harness/files.h"

namespace pgpulse::testing {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> SourceFiles(const std::string& folder) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(std::string(PGPULSE_SOURCE_DIR) + "/" + folder)) {
    const auto extension = entry.path().extension();
    if (entry.is_regular_file() && (extension == ".cc" || extension == ".h")) files.push_back(entry.path());
  }
  return files;
}

TEST(SourceLayoutTest, NoExporterFileIsOver350Lines) {
  const auto files = SourceFiles("exporter");
  ASSERT_GT(files.size(), 50u);
  for (const auto& file : files) {
    const auto text = ReadFile(file.string());
    EXPECT_LE(std::count(text.begin(), text.end(), '\n'), 350) << file;
  }
}

TEST(SourceLayoutTest, OnlyThePgLayerIncludesLibpq) {
  for (const auto& file : SourceFiles("exporter")) {
    if (file.parent_path().filename() == "pg") continue;
    EXPECT_EQ(ReadFile(file.string()).find("libpq-fe.h"), std::string::npos) << file;
  }
}

TEST(SourceLayoutTest, EveryTestSuiteIsNamedUnitTest) {
  const std::regex suite(R"(^TEST(?:_F)?\((\w+),)", std::regex::multiline);
  size_t suites = 0;
  for (const char* folder : {"tests/unit", "tests/pg", "tests/e2e"}) {
    for (const auto& file : SourceFiles(folder)) {
      const auto text = ReadFile(file.string());
      for (std::sregex_iterator it(text.begin(), text.end(), suite), end; it != end; ++it) {
        ++suites;
        EXPECT_TRUE((*it)[1].str().ends_with("Test")) << file << ": " << (*it)[1].str();
      }
    }
  }
  EXPECT_GT(suites, 100u);
}

}  // namespace
}  // namespace pgpulse::testing
