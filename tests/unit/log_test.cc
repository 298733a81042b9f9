#include "exporter/log/log.h"

#include <gtest/gtest.h>

namespace pgpulse::log {
namespace {

TEST(FormatLineTest, LogfmtQuotesOnlyWhenNeeded) {
  EXPECT_EQ(FormatLine(Format::kLogfmt, "T", Level::kInfo, "connected", {{"target", "db:5432/x"}, {"n", "3"}}),
            "ts=T level=info msg=connected target=db:5432/x n=3");
  EXPECT_EQ(FormatLine(Format::kLogfmt, "T", Level::kWarn, "connect failed", {{"err", "say \"hi\"\nnext"}, {"e", ""}}),
            "ts=T level=warn msg=\"connect failed\" err=\"say \\\"hi\\\"\\nnext\" e=\"\"");
  EXPECT_EQ(FormatLine(Format::kLogfmt, "T", Level::kDebug, "a=b", {}), "ts=T level=debug msg=\"a=b\"");
}

TEST(FormatLineTest, JsonEscapesEverything) {
  EXPECT_EQ(FormatLine(Format::kJson, "T", Level::kError, "bad \"x\"", {{"k", "a\\b\tc\x01"}}),
            "{\"ts\":\"T\",\"level\":\"error\",\"msg\":\"bad \\\"x\\\"\",\"k\":\"a\\\\b\\tc\\u0001\"}");
}

TEST(ParseLevelAndFormatTest, RejectUnknownValues) {
  EXPECT_EQ(ParseLevel("warn"), Level::kWarn);
  EXPECT_EQ(ParseFormat("json"), Format::kJson);
  EXPECT_THROW(ParseLevel("verbose"), std::invalid_argument);
  EXPECT_THROW(ParseFormat("text"), std::invalid_argument);
}

}  // namespace
}  // namespace pgpulse::log
