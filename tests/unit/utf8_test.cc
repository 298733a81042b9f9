#include "exporter/metrics/utf8.h"

#include <gtest/gtest.h>

#include "exporter/collector/rows.h"
#include "exporter/metrics/text.h"

namespace pgpulse::metrics {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";

TEST(Utf8Test, AcceptsWellFormedText) {
  for (const std::string text : {"", "plain", "café", "日本語", "\xF0\x9F\x90\x98 elephant", "\xF4\x8F\xBF\xBF"}) {
    EXPECT_TRUE(IsValidUtf8(text)) << text;
    std::string copy = text;
    EXPECT_EQ(ReplaceInvalidUtf8(copy), 0u);
    EXPECT_EQ(copy, text);
  }
}

TEST(Utf8Test, ReplacesEachMaximalIllFormedSubpart) {
  struct Case {
    std::string in, out;
    std::size_t replaced;
  };
  for (const auto& c : std::vector<Case>{
           {"caf\xE9", "caf" + kFffd, 1},                           // a LATIN1 byte
           {"\xE9t\xE9", kFffd + "t" + kFffd, 2},                   // two of them
           {"\xC0\xAF", kFffd + kFffd, 2},                          // overlong '/'
           {"\xE0\x80\xAF", kFffd + kFffd + kFffd, 3},              // overlong, three bytes
           {"\xED\xA0\x80", kFffd + kFffd + kFffd, 3},              // a surrogate
           {"\xF4\x90\x80\x80", kFffd + kFffd + kFffd + kFffd, 4},  // above U+10FFFF
           {"\xE6\x97", kFffd, 1},                                  // truncated at the end
           {"\xE6\x97x", kFffd + "x", 1},                           // truncated before ASCII
           {"\xF0\x9F\x90", kFffd, 1},                              // truncated four-byte sequence
           {"\x80\xBF", kFffd + kFffd, 2},                          // lone continuation bytes
           {"\xFF\xFE", kFffd + kFffd, 2},                          // never valid
       }) {
    EXPECT_FALSE(IsValidUtf8(c.in));
    std::string text = c.in;
    EXPECT_EQ(ReplaceInvalidUtf8(text), c.replaced) << c.in;
    EXPECT_EQ(text, c.out);
    EXPECT_TRUE(IsValidUtf8(text));
  }
}

TEST(Utf8Test, EveryByteStringComesOutValid) {
  // Every two-byte string: whatever a database sends, the result is UTF-8.
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      std::string text = {static_cast<char>(a), static_cast<char>(b), '\xE2', '\x82'};
      ReplaceInvalidUtf8(text);
      ASSERT_TRUE(IsValidUtf8(text)) << a << " " << b;
    }
  }
}

TEST(Utf8Test, SampleLinesNeverCarryInvalidBytes) {
  std::string line;
  AppendSample(line, "m", {{"relname", "caf\xE9"}}, 1);
  EXPECT_EQ(line, "m{relname=\"caf" + kFffd + "\"} 1\n");
}

TEST(Utf8Test, MapRowsReplacesAndCounts) {
  collector::Definition def;
  def.name = "t";
  def.columns = {{"relname", collector::Usage::kLabel, "relname", "", ""},
                 {"size_bytes", collector::Usage::kGauge, "", "pg_x", "x"}};
  std::size_t replaced = 0;
  auto rows =
      collector::MapRows(def, pg::Result{{"relname", "size_bytes"}, {{"caf\xE9\xE9", "1"}, {"ok", "2"}}}, &replaced);
  EXPECT_EQ(replaced, 2u);
  EXPECT_EQ(rows.at(0).labels.at("relname"), "caf" + kFffd + kFffd);
  EXPECT_EQ(rows.at(1).labels.at("relname"), "ok");
}

}  // namespace
}  // namespace pgpulse::metrics
