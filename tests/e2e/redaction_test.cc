// Passwords of awkward shapes, in every place a DSN can hold one, through the real binary: none may reach the log,
// the status page, /metrics or the answer of a reload, whether PostgreSQL refuses the login, nothing listens on the
// port, or the reloaded DSN is one libpq cannot parse (libpq's parse errors quote the input).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "tests/harness/exporter_process.h"
#include "tests/harness/http_client.h"
#include "tests/harness/libpq_client.h"
#include "tests/harness/metrics_text.h"
#include "tests/harness/pg_cluster.h"
#include "tests/harness/process.h"

namespace pgpulse::testing {
namespace {

using namespace std::chrono_literals;

class RedactionTest : public ::testing::Test {
 protected:
  PgCluster& cluster = PgCluster::Shared();

  // A random piece that each password ends with, so that a password found escaped (HTML, logfmt) or cut apart
  // still shows up in a search.
  static std::string Token() {
    static std::mt19937_64 random(std::random_device{}());
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(random()));
    return hex;
  }

  // Remembers a password and what to look for: the password as written, percent-encoded, and its token.
  std::string Secret(const std::string& shape) {
    const auto token = Token();
    const auto password = shape + token;
    for (const auto& trace : {password, PercentEncode(password), token}) traces_.push_back(trace);
    return password;
  }

  std::string PgHostPort() const { return "127.0.0.1:" + std::to_string(cluster.primary().port()); }
  std::string PgKeywords() const {
    return "host=127.0.0.1 port=" + std::to_string(cluster.primary().port()) + " user=" + PgCluster::kReportingUser +
           " dbname=postgres sslmode=disable";
  }
  // Nothing listens there: the connection is refused, and pgpulse logs "connect failed" with the DSN.
  std::string ClosedHostPort() const { return "127.0.0.1:" + std::to_string(closed_port_); }
  std::string ClosedKeywords() const {
    return "host=127.0.0.1 port=" + std::to_string(closed_port_) + " user=" + PgCluster::kReportingUser +
           " dbname=postgres sslmode=disable";
  }

  static std::string YamlQuoted(const std::string& text) {
    std::string quoted = "'";
    for (char c : text) quoted += c == '\'' ? std::string("''") : std::string(1, c);
    return quoted + "'";
  }
  static std::string TargetsYaml(const std::vector<std::pair<std::string, std::string>>& targets) {
    std::string yaml = "targets:\n";
    for (const auto& [name, dsn] : targets) yaml += "  - name: " + name + "\n    dsn: " + YamlQuoted(dsn) + "\n";
    return yaml;
  }

  void ExpectNoTrace(const std::string& text, const std::string& where) const {
    for (const auto& trace : traces_) {
      EXPECT_EQ(text.find(trace), std::string::npos) << where << " shows \"" << trace << "\":\n" << text;
    }
  }

  const uint16_t closed_port_ = FreePort();
  std::vector<std::string> traces_;
};

TEST_F(RedactionTest, NoPasswordShapeReachesTheLogThePagesOrAReloadAnswer) {
  // Each target holds a password in a different place and shape; half are refused by PostgreSQL (wrong
  // password), the others find nothing listening.
  const std::vector<std::pair<std::string, std::string>> targets = {
      // A raw '?' in the URI password: libpq accepts it (the user-info ends at the first '@').
      {"uri-question", "postgresql://reporting:" + Secret("Real?Secret-") + "@" + PgHostPort() + "/postgres"},
      {"uri-question-closed", "postgresql://reporting:" + Secret("Real?Closed-") + "@" + ClosedHostPort() + "/x"},
      // A percent-encoded key, which libpq decodes to "password".
      {"pct-key", "postgresql://reporting@" + ClosedHostPort() +
                      "/postgres?%70assword=" + PercentEncode(Secret("Pct&Key=")) + "&sslmode=disable"},
      {"pct-key-pg", "postgresql://reporting@" + PgHostPort() +
                         "/postgres?sslmode=disable&%70assword=" + PercentEncode(Secret("Pct/Pg "))},
      // sslpassword, in both forms.
      {"sslpw-uri", "postgresql://reporting@" + ClosedHostPort() +
                        "/postgres?sslpassword=" + PercentEncode(Secret("Ssl Uri/")) + "&sslmode=disable"},
      {"sslpw-kv", PgKeywords() + " sslpassword=" + QuoteConninfoValue(Secret("Ssl'Kv\\"))},
      // A '"' in a key=value password, and one that reads like more keywords.
      {"dquote-kv", PgKeywords() + " password=" + QuoteConninfoValue(Secret("Dq\"Kv \"x"))},
      {"space-eq-kv", ClosedKeywords() + " password=" + QuoteConninfoValue(Secret("a b=c "))},
      // Non-ASCII, percent-encoded in a URI and raw in key=value.
      {"utf8-uri", "postgresql://reporting:" + PercentEncode(Secret("pässwörd€-")) + "@" + PgHostPort() +
                       "/postgres?sslmode=disable"},
      {"utf8-kv", ClosedKeywords() + " password=" + QuoteConninfoValue(Secret("密码 pässwörd-"))},
  };
  const auto good = TargetsYaml(targets);
  const auto config = WriteTempFile(good, ".yml");
  ExporterProcess exporter({"--config.file=" + config, "--web.enable-lifecycle"});

  // Every target tries and fails, and says so in the log with its DSN.
  auto logged_all = [&] {
    const auto output = exporter.process().Output();
    for (const auto& [name, dsn] : targets) {
      bool found = false;
      for (std::size_t at = output.find("target=" + name + " "); at != std::string::npos && !found;
           at = output.find("target=" + name + " ", at + 1)) {
        const auto line_start = output.rfind('\n', at) + 1;
        found = output.substr(line_start, at - line_start).find("connect failed") != std::string::npos;
      }
      if (!found) return false;
    }
    return true;
  };
  exporter.Poll([&](const std::string&) { return logged_all(); }, 20s);
  EXPECT_TRUE(logged_all()) << exporter.process().Output();
  const auto output = exporter.process().Output();
  EXPECT_NE(output.find("password authentication failed"), std::string::npos) << output;
  EXPECT_NE(output.find("refused"), std::string::npos) << output;

  const auto page = exporter.Get("/");
  EXPECT_EQ(page.status, 200);
  for (const auto& [name, dsn] : targets) EXPECT_NE(page.body.find("<td>" + name + "</td>"), std::string::npos);
  EXPECT_NE(page.body.find("password=xxxxx"), std::string::npos) << page.body;
  EXPECT_NE(page.body.find("sslpassword=xxxxx"), std::string::npos) << page.body;
  ExpectNoTrace(page.body, "the status page");
  const auto metrics = exporter.Get("/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_EQ(MetricValue(metrics.body, "pg_up", {{"target", "uri-question"}}), 0) << metrics.body;
  ExpectNoTrace(metrics.body, "/metrics");

  // Reloads with one more target whose DSN holds a password that libpq cannot parse, or would misread: each is
  // refused, and neither the answer nor the log quotes the DSN.
  const std::vector<std::string> broken = {
      // libpq: invalid connection option "<what follows the space>", which is the rest of the password.
      PgKeywords() + " password=Ab1-" + Secret("") + " " + Secret("Cd2-") + "=c",
      // libpq: missing "=" after "<a quoted piece>"; the '"' inside put the old filter out of step.
      PgKeywords() + " password=Dq\"x " + Secret("Tail\""),
      PgKeywords() + " password='Unterminated " + Secret(""),
      "postgresql://reporting:" + Secret("Bad%zz") + "@" + PgHostPort() + "/postgres",
      // An unencoded '/' cuts the user-info short: libpq would take "Sl" for the port, the rest for the database.
      "postgresql://reporting:Sl/" + Secret("ash-") + "@" + PgHostPort() + "/postgres",
  };
  for (const auto& dsn : broken) {
    SCOPED_TRACE("reload with DSN: " + dsn);
    auto with_broken = targets;
    with_broken.emplace_back("broken", dsn);
    WriteFile(config, TargetsYaml(with_broken));
    const auto answer = HttpRequest("POST", exporter.port(), "/-/reload");
    EXPECT_EQ(answer.status, 500) << answer.body;
    EXPECT_NE(answer.body.find("targets[" + std::to_string(targets.size()) + "].dsn: invalid DSN"), std::string::npos)
        << answer.body;
    ExpectNoTrace(answer.body, "the reload's answer");
  }
  WriteFile(config, good);
  EXPECT_EQ(HttpRequest("POST", exporter.port(), "/-/reload").status, 200);

  ExpectNoTrace(exporter.Get("/").body, "the status page");
  ExpectNoTrace(exporter.Get("/metrics").body, "/metrics");
  ExpectNoTrace(exporter.process().Output(), "the log");
  EXPECT_TRUE(exporter.process().Running());
}

}  // namespace
}  // namespace pgpulse::testing
