#include "exporter/app/one_line.h"

#include <gtest/gtest.h>

namespace pgpulse::app {
namespace {

TEST(OneLineTest, EachRunOfWhitespaceBecomesOneSpace) {
  EXPECT_EQ(OneLine("connection to server failed: Connection refused\n\tIs the server running?\n"),
            "connection to server failed: Connection refused Is the server running? ");
  EXPECT_EQ(OneLine("\n\ta  b\r\nc"), "a b c");
  EXPECT_EQ(OneLine(""), "");
}

}  // namespace
}  // namespace pgpulse::app
