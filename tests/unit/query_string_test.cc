// The query string decoding that /probe?target= relies on, without a server around it (HttpServerTest covers the
// same through a real request).
#include "exporter/http/query_string.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace pgpulse::http {
namespace {

TEST(QueryStringTest, PercentDecodeTakesPlusAsSpaceAndKeepsAStrayPercent) {
  EXPECT_EQ(PercentDecode("a%20b%2Fc"), "a b/c");
  EXPECT_EQ(PercentDecode("1+2"), "1 2");
  EXPECT_EQ(PercentDecode("%2b"), "+");
  EXPECT_EQ(PercentDecode("%zz%4"), "%zz%4");
  EXPECT_EQ(PercentDecode("100%"), "100%");
  EXPECT_EQ(PercentDecode("%E2%9C%93"), "\u2713");
}

TEST(QueryStringTest, ParseQueryStringDecodesKeysAndValuesAndTheFirstOfARepeatedKeyWins) {
  const std::map<std::string, std::string> expected = {
      {"target", "a b"}, {"empty", ""}, {"flag", ""}, {"dup", "first"}, {"k y", "v"},
  };
  EXPECT_EQ(ParseQueryString("target=a+b&empty=&flag&&dup=first&dup=second&k%20y=v"), expected);
  EXPECT_TRUE(ParseQueryString("").empty());
  EXPECT_TRUE(ParseQueryString("&&").empty());
}

}  // namespace
}  // namespace pgpulse::http
