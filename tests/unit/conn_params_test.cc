#include "exporter/pg/conn_params.h"

#include <gtest/gtest.h>

namespace pgpulse {
namespace {

TEST(ConnParamsTest, SplitsAndJoinsLikeLibpq) {
  pg::ConnParams params{{"host", "a,b,/run/pg"}, {"port", "5432"}};
  auto entries = pg::SplitHosts(params);
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[2].port, "5432");  // one port applies to every host
  EXPECT_TRUE(pg::NeedsLookup(entries[0]));
  EXPECT_FALSE(pg::NeedsLookup(entries[2]));  // Unix socket: no DNS
  entries[0].hostaddr = "10.0.0.1";
  entries[1].hostaddr = "10.0.0.2";
  pg::JoinHosts(entries, params);
  EXPECT_EQ(params["host"], "a,b,/run/pg");
  EXPECT_EQ(params["hostaddr"], "10.0.0.1,10.0.0.2,");
  EXPECT_EQ(params["port"], "5432,5432,5432");
}

TEST(ConnParamsTest, NoHostMeansDefaultSocket) {
  pg::ConnParams params{{"user", "rep"}};
  auto entries = pg::SplitHosts(params);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_FALSE(pg::NeedsLookup(entries[0]));
  pg::JoinHosts(entries, params);
  EXPECT_EQ(params.count("host"), 0u);
  EXPECT_EQ(params.count("hostaddr"), 0u);
}

TEST(ConnParamsTest, GivenHostaddrNeedsNoLookup) {
  pg::ConnParams params{{"host", "db"}, {"hostaddr", "10.1.1.1"}};
  EXPECT_FALSE(pg::NeedsLookup(pg::SplitHosts(params)[0]));
}

}  // namespace
}  // namespace pgpulse
