// Log values that are not UTF-8 (a role or database name from PostgreSQL, a byte of a broken config) still give a
// valid logfmt or JSON line: each ill-formed byte becomes U+FFFD, well-formed text stays as it is.
#include <gtest/gtest.h>

#include <string>

#include "exporter/log/log.h"

namespace pgpulse::log {
namespace {

TEST(FormatLineUtf8Test, BytesThatAreNotUtf8BecomeReplacementCharacters) {
  const std::string odd = "r\"x\\y\nline\xff\xfe caf\xc3\xa9 \xe2\x82 \xed\xa0\x80 \xf4\x90\x80\x80";
  EXPECT_EQ(FormatLine(Format::kLogfmt, "T", Level::kInfo, "connected", {{"user", odd}}),
            "ts=T level=info msg=connected user=\"r\\\"x\\\\y\\nline\\ufffd\\ufffd caf\xc3\xa9 \\ufffd\\ufffd "
            "\\ufffd\\ufffd\\ufffd \\ufffd\\ufffd\\ufffd\\ufffd\"");
  const auto json = FormatLine(Format::kJson, "T", Level::kInfo, "connected", {{"user", odd}});
  EXPECT_NE(json.find("\"user\":\"r\\\"x\\\\y\\nline\\ufffd\\ufffd caf\xc3\xa9 "), std::string::npos) << json;
  for (unsigned char c : json) EXPECT_TRUE(c < 0x80 || c == 0xc3 || c == 0xa9) << json;
  // A bare value with valid UTF-8 is quoted but unchanged.
  EXPECT_EQ(FormatLine(Format::kLogfmt, "T", Level::kInfo, "m", {{"db", "caf\xc3\xa9"}}),
            "ts=T level=info msg=m db=\"caf\xc3\xa9\"");
}

}  // namespace
}  // namespace pgpulse::log
