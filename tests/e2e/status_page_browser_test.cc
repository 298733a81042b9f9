// The status page as a browser renders it: the real pgpulse against the harness's primary and standby, and Debian's
// chromium, headless, reading "/" as a DOM and as a phone-sized screenshot. Chromium is required: without it the
// test fails, since a page nobody rendered is what it exists to catch.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <tuple>
#include <vector>

#include "tests/harness/exporter_process.h"
#include "tests/harness/files.h"
#include "tests/harness/pg_cluster.h"
#include "tests/harness/process.h"

namespace pgpulse::testing {
namespace {

using namespace std::chrono_literals;

// The first `name` in PATH that is executable, or "".
std::string FindInPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  for (std::size_t start = 0; start <= dirs.size();) {
    auto end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    const auto candidate = dirs.substr(start, end - start) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return "";
}

class StatusPageBrowserTest : public ::testing::Test {
 protected:
  PgCluster& cluster = PgCluster::Shared();
  const std::string chromium = FindInPath("chromium");
  TempDir profile;  // a fresh, empty profile per run: nothing from an earlier run (or a user) leaks in

  // Runs chromium headless on `url` with `flags`; its standard output goes to `out` (the DOM for --dump-dom) and its
  // chatter on standard error stays out of it. Bounded, so a hung browser fails the test instead of the CI job.
  CommandResult Chromium(const std::vector<std::string>& flags, const std::string& url, const std::string& out) {
    std::vector<std::string> argv = {"sh", "-c", "out=$1; shift; exec \"$@\" >\"$out\"", "sh", out, chromium,
                                     // Without these Chromium reaches for Google's servers, which this network
                                     // refuses; as root it needs --no-sandbox.
                                     "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                                     "--user-data-dir=" + profile.path()};
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.push_back(url);
    return RunCommand(argv, {{"HOME", profile.path()}}, 90s);
  }

  // The summary table's row of `name`.
  static std::string SummaryRow(const std::string& dom, const std::string& name) {
    const auto at = dom.find("<td>" + name + "</td>");
    if (at == std::string::npos) return "";
    const auto start = dom.rfind("<tr>", at), end = dom.find("</tr>", at);
    return dom.substr(start, end - start);
  }

  // The section of `name`: its details, collectors and databases.
  static std::string Section(const std::string& dom, const std::string& name) {
    const auto at = dom.find("<section class=\"target\"><h2>" + name + "</h2>");
    if (at == std::string::npos) return "";
    return dom.substr(at, dom.find("</section>", at) - at);
  }

  std::string ShortVersion(const PgServer& server) const {
    const int v = std::stoi(server.QueryValue("postgres", "SHOW server_version_num"));
    return std::to_string(v / 10000) + "." + std::to_string(v % 10000) + ".0";
  }
};

TEST_F(StatusPageBrowserTest, RendersTargetsRolesAndCollectorsOnAPhone) {
  const auto started = std::chrono::steady_clock::now();
  ASSERT_FALSE(chromium.empty()) << "chromium is not installed (apt-get install --no-install-recommends chromium)";
  ASSERT_TRUE(cluster.has_standby());
  const auto password = cluster.reporting_password();
  const auto config = WriteTempFile(
      "targets:\n"
      "  - name: shared-primary\n"
      "    dsn: " +
          cluster.primary().Uri(PgCluster::kReportingUser, password) +
          "\n"
          "  - name: standby-1\n"
          "    dsn: " +
          cluster.standby().Uri(PgCluster::kReportingUser, password) + "\n",
      ".yml");
  ExporterProcess exporter({"--config.file=" + config});

  // The first refresh of both targets has read their role from the collected series.
  const auto page = exporter.Poll(
      [](const std::string& body) {
        return body.find("<td class=\"role\">primary</td>") != std::string::npos &&
               body.find("<td class=\"role\">replica</td>") != std::string::npos &&
               body.find("<td>cafe</td><td>20") != std::string::npos;  // a database visited, with its time
      },
      30s, "/");
  ASSERT_NE(page.find("<td class=\"role\">replica</td>"), std::string::npos) << page;

  const auto url = "http://127.0.0.1:" + std::to_string(exporter.port()) + "/";
  const auto dom_file = profile.path() + "/dom.html";
  const auto dumped = Chromium({"--dump-dom"}, url, dom_file);
  ASSERT_EQ(dumped.exit_code, 0) << dumped.output;
  const auto dom = ReadFile(dom_file);
  ASSERT_NE(dom.find("<h1>pgpulse</h1>"), std::string::npos) << dom << "\n" << dumped.output;

  for (const auto& [name, role, server] : {std::tuple{"shared-primary", "primary", &cluster.primary()},
                                           std::tuple{"standby-1", "replica", &cluster.standby()}}) {
    SCOPED_TRACE(name);
    const auto row = SummaryRow(dom, name);
    ASSERT_FALSE(row.empty()) << dom;
    EXPECT_NE(row.find("<td class=\"state ready\">ready</td>"), std::string::npos) << row;
    EXPECT_NE(row.find("<td class=\"role\">" + std::string(role) + "</td>"), std::string::npos) << row;
    EXPECT_NE(row.find("<td class=\"version\">" + ShortVersion(*server) + "</td>"), std::string::npos) << row;
    EXPECT_NE(row.find(" of "), std::string::npos) << "connection headroom: " << row;
    EXPECT_NE(row.find("% of wraparound"), std::string::npos) << "oldest xid age: " << row;

    const auto section = Section(dom, name);
    ASSERT_FALSE(section.empty()) << dom;
    EXPECT_NE(section.find("<table class=\"collectors\">"), std::string::npos) << section;
    EXPECT_NE(section.find("<td>stat_activity</td><td>ok</td>"), std::string::npos) << section;
    EXPECT_NE(section.find("<td>cafe</td>"), std::string::npos) << "databases visited: " << section;
    EXPECT_NE(section.find("/probe?target=" + std::string(name)), std::string::npos) << section;
    EXPECT_NE(section.find("password=xxxxx"), std::string::npos) << "the DSN, redacted: " << section;
  }
  // A collector that cannot run on a server is listed as disabled, with the reason.
  EXPECT_NE(Section(dom, "shared-primary").find("<td>replica_lag</td><td>disabled: primary</td>"), std::string::npos)
      << Section(dom, "shared-primary");
  EXPECT_EQ(dom.find(password), std::string::npos) << "the status page shows the password";

  // A phone's viewport (390x844 CSS pixels). The file is kept for a person to look at.
  const auto screenshot =
      (std::filesystem::temp_directory_path() / ("pgpulse-status-page-" + std::to_string(getpid()) + ".png")).string();
  const auto shot = Chromium({"--screenshot=" + screenshot, "--window-size=390,844", "--hide-scrollbars"}, url,
                             profile.path() + "/screenshot.out");
  ASSERT_EQ(shot.exit_code, 0) << shot.output;
  ASSERT_TRUE(std::filesystem::exists(screenshot)) << shot.output;
  const auto png = ReadFile(screenshot);
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  // A blank or error page compresses to a few KB; this one has text and tables.
  EXPECT_GT(png.size(), 20u * 1024) << screenshot;
  std::printf("status page screenshot (390x844): %s\n", screenshot.c_str());
  std::printf("test wall time: %.1f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
}

}  // namespace
}  // namespace pgpulse::testing
