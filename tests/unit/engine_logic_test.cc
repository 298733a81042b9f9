// Pure pieces of the engine: backoff, host lists, scrape budget, version strings, exposition, HTML escaping.
#include <gtest/gtest.h>

#include "exporter/app/scrape.h"
#include "exporter/app/status_page.h"
#include "exporter/metrics/exposition.h"
#include "exporter/pg/conn_params.h"
#include "exporter/targets/backoff.h"
#include "exporter/targets/target.h"

namespace pgpulse {
namespace {

using std::chrono::milliseconds;

TEST(Backoff, GrowsWithJitterUpToTheCap) {
  target::Backoff backoff(milliseconds(100), milliseconds(1000), 42);
  const long long bases[] = {100, 200, 400, 800, 1000, 1000, 1000};
  for (long long base : bases) {
    const auto delay = backoff.NextDelay().count();
    EXPECT_GE(delay, base / 2);
    EXPECT_LE(delay, base);
  }
  backoff.Reset();
  EXPECT_LE(backoff.NextDelay().count(), 100);
}

TEST(Backoff, JitterSpreadsDelays) {
  target::Backoff a(milliseconds(1000), milliseconds(1000), 1), b(milliseconds(1000), milliseconds(1000), 2);
  int differ = 0;
  for (int i = 0; i < 10; ++i) differ += a.NextDelay() != b.NextDelay();
  EXPECT_GT(differ, 5);
}

TEST(Backoff, SurvivesLongOutages) {
  target::Backoff backoff(milliseconds(500), milliseconds(10000), 7);
  for (int i = 0; i < 100; ++i) EXPECT_LE(backoff.NextDelay().count(), 10000);
}

TEST(HostList, SplitsAndJoinsLikeLibpq) {
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

TEST(HostList, NoHostMeansDefaultSocket) {
  pg::ConnParams params{{"user", "rep"}};
  auto entries = pg::SplitHosts(params);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_FALSE(pg::NeedsLookup(entries[0]));
  pg::JoinHosts(entries, params);
  EXPECT_EQ(params.count("host"), 0u);
  EXPECT_EQ(params.count("hostaddr"), 0u);
}

TEST(HostList, GivenHostaddrNeedsNoLookup) {
  pg::ConnParams params{{"host", "db"}, {"hostaddr", "10.1.1.1"}};
  EXPECT_FALSE(pg::NeedsLookup(pg::SplitHosts(params)[0]));
}

TEST(ScrapeBudget, FollowsPrometheusHeaderWithMargin) {
  EXPECT_EQ(app::ScrapeBudget({}), milliseconds(9500));
  EXPECT_EQ(app::ScrapeBudget({{"x-prometheus-scrape-timeout-seconds", "2"}}), milliseconds(1500));
  EXPECT_EQ(app::ScrapeBudget({{"x-prometheus-scrape-timeout-seconds", "0.4"}}), milliseconds(300));
  EXPECT_EQ(app::ScrapeBudget({{"x-prometheus-scrape-timeout-seconds", "junk"}}), milliseconds(9500));
  EXPECT_EQ(app::ScrapeBudget({{"x-prometheus-scrape-timeout-seconds", "-3"}}), milliseconds(9500));
}

TEST(ShortVersion, MatchesPostgresExporterFormat) {
  EXPECT_EQ(target::ShortVersion(150004), "15.4.0");
  EXPECT_EQ(target::ShortVersion(180001), "18.1.0");
  EXPECT_EQ(target::ShortVersion(90624), "9.6.24");
  EXPECT_EQ(target::ShortVersion(0), "");
}

TEST(Exposition, GroupsSamplesByFamilyAndEscapesLabels) {
  metrics::Exposition out;
  out.Gauge("pg_up", "help", {{"target", "a"}}, 1);
  out.Gauge("pgpulse_x", "help", {{"target", "a"}}, 2);
  out.Gauge("pg_up", "help", {{"target", "b\"\\\n"}}, 0);
  const auto text = out.Serialize();
  EXPECT_EQ(out.families().size(), 2u);
  EXPECT_NE(text.find("pg_up{target=\"a\"} 1\npg_up{target=\"b\\\"\\\\\\n\"} 0\n"), std::string::npos) << text;
  EXPECT_THROW(out.Counter("pg_up", "help", {}, 1), std::logic_error);
}

TEST(HtmlEscape, EscapesMarkup) {
  EXPECT_EQ(app::HtmlEscape("<a href=\"x\">&'</a>"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
}

}  // namespace
}  // namespace pgpulse
