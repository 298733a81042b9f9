#include "exporter/app/status_page.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <cmath>

#include "exporter/app/status_facts.h"
#include "exporter/app/status_format.h"

namespace pgpulse {
namespace {

using app::ComputeFacts;
using app::Family;
using app::Sample;
using app::Samples;
namespace m = app::fact_metrics;

constexpr double kNow = 1'800'000'000;  // a fixed clock, in Unix seconds

Family Known(std::vector<Sample> samples) { return Family{true, std::move(samples)}; }
Sample Value(double value, std::map<std::string, std::string> labels = {}) { return Sample{std::move(labels), value}; }

TEST(StatusPageTest, EscapesMarkup) {
  EXPECT_EQ(app::HtmlEscape("<a href=\"x\">&'</a>"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
}

TEST(StatusPageTest, EscapeKeepsTheTextValidUtf8) {
  // A server message in LATIN1 (0xE9) must not make the page invalid UTF-8; valid UTF-8 passes unchanged.
  EXPECT_EQ(app::HtmlEscape("caf\xE9 <x>"), "caf\xEF\xBF\xBD &lt;x&gt;");
  EXPECT_EQ(app::HtmlEscape("pässwörd – 密码"), "pässwörd – 密码");
}

TEST(StatusPageTest, UrlEncodesEverythingButUnreservedCharacters) {
  EXPECT_EQ(app::UrlEncode("shared-primary_1.a~"), "shared-primary_1.a~");
  EXPECT_EQ(app::UrlEncode("a b&c=d/é?#+"), "a%20b%26c%3Dd%2F%C3%A9%3F%23%2B");
}

TEST(StatusPageTest, ParsesSampleLinesWithEscapedLabels) {
  const auto samples = app::ParseSampleLines(
      "# HELP x y\n"
      "pg_up 1\n"
      "pg_x{target=\"a\\\"b\",datname=\"c\\\\d\\ne\"} 12.5\n"
      "pg_y{target=\"t\"} Nan\n"
      "pg_z{target=\"t\"} +Inf\n"
      "broken{target=\"t\n");
  ASSERT_EQ(samples.size(), 4u);
  EXPECT_TRUE(samples[0].labels.empty());
  EXPECT_EQ(samples[0].value, 1);
  EXPECT_EQ(samples[1].labels.at("target"), "a\"b");
  EXPECT_EQ(samples[1].labels.at("datname"), "c\\d\ne");
  EXPECT_EQ(samples[1].value, 12.5);
  EXPECT_TRUE(std::isnan(samples[2].value));
  EXPECT_TRUE(std::isinf(samples[3].value));
}

TEST(StatusPageTest, ConnectionHeadroomIsUsableLessUsedAsTheRecordingRulesCountIt) {
  Samples samples;
  samples[m::kMaxConnections] = Known({Value(100)});
  samples[m::kSuperuserReserved] = Known({Value(3)});
  samples[m::kActivityCount] = Known({Value(4, {{"state", "idle"}}), Value(2, {{"state", "active"}})});
  // Before PostgreSQL 16 there is no reserved_connections: it counts as 0.
  auto facts = ComputeFacts(samples, kNow);
  ASSERT_TRUE(facts.connections);
  EXPECT_EQ(facts.connections->usable, 97);
  EXPECT_EQ(facts.connections->used, 6);
  EXPECT_EQ(app::ConnectionsText(facts.connections), "6 of 97 used (91 free)");

  samples[m::kReserved] = Known({Value(5)});
  EXPECT_EQ(ComputeFacts(samples, kNow).connections->usable, 92);

  // Without max_connections (the settings collector disabled), the rule is empty and so is the fact.
  samples.erase(m::kMaxConnections);
  EXPECT_FALSE(ComputeFacts(samples, kNow).connections);
  EXPECT_EQ(app::ConnectionsText(std::nullopt), app::kUnknown);
}

TEST(StatusPageTest, PasswordExpiryIsTheNearestLoginRolesInDays) {
  Samples samples;
  samples[m::kPasswordValidUntil] = Known(
      {Value(kNow + 30 * 86400, {{"rolname", "app_user"}}), Value(kNow + 2.5 * 86400, {{"rolname", "reporting"}})});
  auto facts = ComputeFacts(samples, kNow);
  EXPECT_TRUE(facts.password_expiry_known);
  ASSERT_TRUE(facts.password_expiry);
  EXPECT_EQ(facts.password_expiry->role, "reporting");
  EXPECT_DOUBLE_EQ(facts.password_expiry->days, 2.5);
  EXPECT_EQ(app::PasswordExpiryText(true, facts.password_expiry), "2.5 days (reporting)");
  EXPECT_EQ(app::PasswordExpiryText(true, app::PasswordExpiry{-1.25, "old"}), "expired 1.2 days ago (old)");

  // The collector ran and no login role has a finite expiry: that is known, and not "0 days".
  samples[m::kPasswordValidUntil] = Known({});
  facts = ComputeFacts(samples, kNow);
  EXPECT_TRUE(facts.password_expiry_known);
  EXPECT_FALSE(facts.password_expiry);
  EXPECT_EQ(app::PasswordExpiryText(true, std::nullopt), "no login role's password expires");

  // Not collected at all (the roles collector disabled): unknown.
  samples[m::kPasswordValidUntil] = Family{};
  facts = ComputeFacts(samples, kNow);
  EXPECT_FALSE(facts.password_expiry_known);
  EXPECT_EQ(app::PasswordExpiryText(false, std::nullopt), app::kUnknown);
}

TEST(StatusPageTest, OldestXidAgeNamesItsDatabase) {
  Samples samples;
  samples[m::kFrozenXidAge] =
      Known({Value(1000, {{"datname", "cafe"}}), Value(214748365, {{"datname", "erp"}}), Value(5, {{"datname", "x"}})});
  const auto facts = ComputeFacts(samples, kNow);
  ASSERT_TRUE(facts.oldest_xid);
  EXPECT_EQ(facts.oldest_xid->database, "erp");
  EXPECT_EQ(app::XidAgeText(facts.oldest_xid), "214748365 in erp (10.00% of wraparound)");
  EXPECT_EQ(app::XidAgeText(std::nullopt), app::kUnknown);
}

TEST(StatusPageTest, RoleAndUptimeComeFromTheServersSeries) {
  Samples samples;
  EXPECT_EQ(app::RoleText(ComputeFacts(samples, kNow).replica), app::kUnknown);
  EXPECT_EQ(app::UptimeText(ComputeFacts(samples, kNow).uptime_seconds), app::kUnknown);
  samples[m::kIsReplica] = Known({Value(1)});
  samples[m::kPostmasterStart] = Known({Value(kNow - (2 * 86400 + 3 * 3600 + 59))});
  auto facts = ComputeFacts(samples, kNow);
  EXPECT_EQ(app::RoleText(facts.replica), "replica");
  EXPECT_EQ(app::UptimeText(facts.uptime_seconds), "2d 3h");
  samples[m::kIsReplica] = Known({Value(0)});
  EXPECT_EQ(app::RoleText(ComputeFacts(samples, kNow).replica), "primary");
}

TEST(StatusPageTest, FormatsDurationsInTwoUnits) {
  EXPECT_EQ(app::FormatDuration(0), "0s");
  EXPECT_EQ(app::FormatDuration(-3), "0s");  // a clock slightly behind the server's
  EXPECT_EQ(app::FormatDuration(59.9), "59s");
  EXPECT_EQ(app::FormatDuration(61), "1m 1s");
  EXPECT_EQ(app::FormatDuration(3 * 3600 + 120), "3h 2m");
  EXPECT_EQ(app::FormatDuration(86400 * 400), "400d 0h");
  EXPECT_EQ(app::FormatUtc(std::chrono::system_clock::from_time_t(0)), "1970-01-01 00:00:00 UTC");
}

TEST(StatusPageTest, ReadsFamiliesFromACollectedRefreshAndKnowsWhichRan) {
  auto set = std::make_shared<collector::CollectorSet>();
  set->definitions.resize(2);
  set->definitions[0].name = "settings";
  set->definitions[1].name = "roles";
  set->families.push_back({m::kMaxConnections, "", {{0, 0}}});
  set->families.push_back({m::kPasswordValidUntil, "", {{1, 1}}});
  collector::Collected collected;
  collected.set = set;
  collected.results.resize(2);
  auto rendered = std::make_shared<collector::RenderedResult>();
  rendered->lines = {"pg_settings_max_connections{target=\"t\"} 100\n"};
  collected.results[0].push_back(rendered);
  collected.status["settings"].ran = true;
  collected.status["roles"].skip_reason = "replica";

  const auto samples = app::SamplesOf(collected, app::FactFamilies());
  ASSERT_TRUE(samples.count(m::kMaxConnections));
  EXPECT_TRUE(samples.at(m::kMaxConnections).known);
  ASSERT_EQ(samples.at(m::kMaxConnections).samples.size(), 1u);
  EXPECT_EQ(samples.at(m::kMaxConnections).samples[0].value, 100);
  EXPECT_FALSE(samples.at(m::kPasswordValidUntil).known);
  EXPECT_FALSE(ComputeFacts(samples, kNow).password_expiry_known);
}

TEST(StatusPageTest, PageEscapesTheTargetAndEncodesItsProbeLink) {
  boost::asio::io_context io;
  config::TargetConfig config;
  config.name = "a<b>&c d";
  config.redacted_dsn = "host=x password=xxxxx";
  auto target = std::make_shared<targets::Target>(io.get_executor(), config, targets::TargetSettings{});
  const auto page = app::RenderStatusPage({target}, "/metrics", std::chrono::system_clock::from_time_t(0));
  EXPECT_NE(page.find("<meta name=\"viewport\""), std::string::npos);
  EXPECT_EQ(page.find("a<b>"), std::string::npos) << page;
  EXPECT_NE(page.find("<td>a&lt;b&gt;&amp;c d</td>"), std::string::npos) << page;
  EXPECT_NE(page.find("<a href=\"/probe?target=a%3Cb%3E%26c%20d\">probe</a>"), std::string::npos) << page;
  EXPECT_NE(page.find("<code>host=x password=xxxxx</code>"), std::string::npos) << page;
  // Never tried: nothing is known about the server, and the page says so rather than showing zeros.
  EXPECT_NE(page.find("<td class=\"role\">" + std::string(app::kUnknown) + "</td>"), std::string::npos) << page;
  EXPECT_NE(page.find("<td class=\"uptime\">" + std::string(app::kUnknown) + "</td>"), std::string::npos) << page;
  EXPECT_NE(page.find("as of 1970-01-01 00:00:00 UTC"), std::string::npos) << page;
}

}  // namespace
}  // namespace pgpulse
