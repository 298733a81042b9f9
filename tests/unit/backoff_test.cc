#include "exporter/targets/backoff.h"

#include <gtest/gtest.h>

namespace pgpulse {
namespace {

using std::chrono::milliseconds;

TEST(BackoffTest, GrowsWithJitterUpToTheCap) {
  targets::Backoff backoff(milliseconds(100), milliseconds(1000), 42);
  const long long bases[] = {100, 200, 400, 800, 1000, 1000, 1000};
  for (long long base : bases) {
    const auto delay = backoff.NextDelay().count();
    EXPECT_GE(delay, base / 2);
    EXPECT_LE(delay, base);
  }
  backoff.Reset();
  EXPECT_LE(backoff.NextDelay().count(), 100);
}

TEST(BackoffTest, JitterSpreadsDelays) {
  targets::Backoff a(milliseconds(1000), milliseconds(1000), 1), b(milliseconds(1000), milliseconds(1000), 2);
  int differ = 0;
  for (int i = 0; i < 10; ++i) differ += a.NextDelay() != b.NextDelay();
  EXPECT_GT(differ, 5);
}

TEST(BackoffTest, SurvivesLongOutages) {
  targets::Backoff backoff(milliseconds(500), milliseconds(10000), 7);
  for (int i = 0; i < 100; ++i) EXPECT_LE(backoff.NextDelay().count(), 10000);
}

}  // namespace
}  // namespace pgpulse
