#include "exporter/log/once.h"

#include <gtest/gtest.h>

namespace pgpulse {
namespace {

TEST(OnceTest, FirstIsTrueOncePerKeyUntilForgotten) {
  log::Once once;
  EXPECT_TRUE(
      once.First("cafe\x1f"
                 "permission denied"));
  EXPECT_FALSE(
      once.First("cafe\x1f"
                 "permission denied"));
  EXPECT_TRUE(
      once.First("erp\x1f"
                 "permission denied"));
  once.Forget(
      "cafe\x1f"
      "permission denied");
  EXPECT_TRUE(
      once.First("cafe\x1f"
                 "permission denied"));
  EXPECT_FALSE(
      once.First("erp\x1f"
                 "permission denied"));
  once.Clear();
  EXPECT_TRUE(
      once.First("erp\x1f"
                 "permission denied"));
}

TEST(OnceTest, OwnersAreIndependent) {
  log::Once a;
  log::Once b;
  EXPECT_TRUE(a.First("x"));
  EXPECT_TRUE(b.First("x"));
}

}  // namespace
}  // namespace pgpulse
