// The Grafana dashboards, offline: generated from dashboards/src and valid JSON, the current schema, the shared
// variables, a unit and a description on every panel, rates over $__rate_interval and of counters only, links that
// keep the variables and the time range. dashboards_live_test.cc shows every panel returning live data.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/e2e/dashboards.h"
#include "tests/e2e/promql.h"
#include "tests/harness/process.h"

namespace pgpulse::testing {
namespace {

namespace fs = std::filesystem;

const std::vector<Dashboard>& Dashboards() {
  static const std::vector<Dashboard> dashboards = LoadDashboards();
  return dashboards;
}

std::string Where(const Dashboard& dashboard, const DashboardPanel& panel) {
  return "dashboards/" + dashboard.file + ", panel \"" + panel.title + "\"";
}

// Each metric's type from docs/metrics.md's metric reference (the collectors' series); pgpulse's own series outside it
// follow the naming convention (a counter ends in _total).
std::map<std::string, std::string> MetricTypes() {
  std::map<std::string, std::string> types;
  std::istringstream reference(ReadFile(std::string(PGPULSE_SOURCE_DIR) + "/docs/metrics.md"));
  static const std::regex row(R"(^\| `([a-z_:][a-z0-9_:]*)` \| (counter|gauge|histogram|summary|untyped) \|)");
  for (std::string line; std::getline(reference, line);) {
    std::smatch match;
    if (std::regex_search(line, match, row)) types[match[1].str()] = match[2].str();
  }
  return types;
}

bool IsCounter(const std::string& name, const std::map<std::string, std::string>& types) {
  const auto it = types.find(name);
  if (it != types.end()) return it->second == "counter";
  return name.find(':') == std::string::npos && name.size() > 6 && name.compare(name.size() - 6, 6, "_total") == 0;
}

// The argument of each call of `function` in `expr` (text between its parentheses).
std::vector<std::string> CallArguments(const std::string& expr, const std::string& function) {
  std::vector<std::string> arguments;
  const std::regex call("\\b" + function + "\\s*\\(");
  for (std::sregex_iterator it(expr.begin(), expr.end(), call), end; it != end; ++it) {
    const size_t open = static_cast<size_t>(it->position() + it->length() - 1);
    const size_t close = SkipPromqlBrackets(expr, open);
    arguments.push_back(expr.substr(open + 1, close - open - 2));
  }
  return arguments;
}

// The outermost [...] of a range function's argument: its range (a subquery's too).
std::string RangeOf(const std::string& argument) {
  const auto open = argument.rfind('[');
  const auto close = argument.rfind(']');
  if (open == std::string::npos || close == std::string::npos || close < open) return "";
  return argument.substr(open + 1, close - open - 1);
}

const char* const kRangeFunctions[] = {"rate", "irate", "increase"};

TEST(DashboardModelTest, FindsAndFillsEveryVariableSyntax) {
  const std::string expr = R"(rate(x{target=~"$target", db="${datname}", j=~"${job:regex}"}[$__rate_interval]))";
  EXPECT_EQ(VariablesUsed(expr), (std::set<std::string>{"target", "datname", "job", "__rate_interval"}));
  EXPECT_EQ(FillVariables(expr, {{"target", ".*"}, {"datname", "cafe"}, {"job", "pgpulse"}, {"__rate_interval", "1m"}}),
            R"(rate(x{target=~".*", db="cafe", j=~"pgpulse"}[1m]))");
  EXPECT_EQ(FillVariables("$targets $target", {{"target", "a"}}), "$targets a") << "a longer name is another variable";
  EXPECT_TRUE(VariablesUsed(R"x(label_replace(x, "rolname", "$1", "usename", "(.+)"))x").empty());
  const auto query = ParseLabelValues(R"(label_values(pg_up{cluster=~"$cluster"}, target))");
  ASSERT_TRUE(query);
  EXPECT_EQ(query->series, R"(pg_up{cluster=~"$cluster"})");
  EXPECT_EQ(query->label, "target");
  EXPECT_FALSE(ParseLabelValues("query_result(up)"));
}

TEST(DashboardModelTest, RangeFunctionsAndTheirRanges) {
  const auto arguments =
      CallArguments("sum(rate(a[1m])) / irate(b{x=\"(\"}[$__rate_interval]) + increase(c[5m:1m])", "rate");
  ASSERT_EQ(arguments.size(), 1u) << "irate( is not rate(";
  EXPECT_EQ(arguments[0], "a[1m]");
  EXPECT_EQ(RangeOf(CallArguments("increase(c[5m:1m])", "increase")[0]), "5m:1m");
  EXPECT_EQ(RangeOf(CallArguments("irate(b{x=\"(\"}[$__rate_interval])", "irate")[0]), "$__rate_interval");
  const auto types = std::map<std::string, std::string>{{"pg_up", "gauge"}, {"pg_stat_database_blks_hit", "counter"}};
  EXPECT_TRUE(IsCounter("pg_stat_database_blks_hit", types));
  EXPECT_FALSE(IsCounter("pg_up", types));
  EXPECT_TRUE(IsCounter("pgpulse_logins_total", types));
  EXPECT_FALSE(IsCounter("pg:wal_written_bytes:rate15m", types));
}

TEST(DashboardsTest, TheSetIsComplete) {
  std::set<std::string> uids;
  for (const auto& dashboard : Dashboards()) uids.insert(dashboard.uid);
  for (const char* uid : {"pgpulse-fleet", "pgpulse-database", "pgpulse-table", "pgpulse-statements",
                          "pgpulse-replication", "pgpulse-rotation", "pgpulse-capacity", "pgpulse-pgpulse"}) {
    EXPECT_TRUE(uids.count(uid)) << "no dashboard with uid " << uid;
  }
}

TEST(DashboardsTest, AreGeneratedFromTheirSourcesAndAreValidJson) {
  const std::string src = std::string(PGPULSE_SOURCE_DIR) + "/dashboards/src/generate.py";
  const auto check = RunCommand({"python3", src, "--check"});
  EXPECT_EQ(check.exit_code, 0) << check.output;
  // Python's json module is strict (no comments, trailing commas, NaN), as Grafana's import is.
  for (const auto& dashboard : Dashboards()) {
    const auto parse = RunCommand({"python3", "-c", "import json, sys; json.load(open(sys.argv[1], encoding='utf-8'))",
                                   std::string(PGPULSE_SOURCE_DIR) + "/dashboards/" + dashboard.file});
    EXPECT_EQ(parse.exit_code, 0) << dashboard.file << ": " << parse.output;
  }
}

TEST(DashboardsTest, CurrentSchemaFixedUidsNotEditable) {
  ASSERT_GE(Dashboards().size(), 8u);
  std::set<std::string> uids, titles;
  for (const auto& dashboard : Dashboards()) {
    EXPECT_GE(dashboard.schema_version, 39) << dashboard.file;
    EXPECT_FALSE(dashboard.editable) << dashboard.file;
    EXPECT_EQ("pgpulse-" + fs::path(dashboard.file).stem().string(), dashboard.uid) << dashboard.file;
    EXPECT_LE(dashboard.uid.size(), 40u) << dashboard.file << ": Grafana refuses uids over 40 characters";
    EXPECT_TRUE(uids.insert(dashboard.uid).second) << dashboard.file << ": uid " << dashboard.uid << " is taken";
    EXPECT_TRUE(titles.insert(dashboard.title).second) << dashboard.file << ": title " << dashboard.title;
  }
}

TEST(DashboardsTest, VariablesAreTheSharedOnesFromLabelValues) {
  for (const auto& dashboard : Dashboards()) {
    const auto* datasource = dashboard.Variable("datasource");
    ASSERT_TRUE(datasource) << dashboard.file << " has no datasource variable";
    EXPECT_EQ(datasource->type, "datasource") << dashboard.file;
    EXPECT_EQ(datasource->query, "prometheus") << dashboard.file;
    for (const char* name : {"job", "target"}) {
      EXPECT_TRUE(dashboard.Variable(name)) << dashboard.file << " has no " << name << " variable";
    }
    std::set<std::string> used;
    for (const auto& panel : dashboard.panels) {
      for (const auto& query : panel.queries) used.merge(VariablesUsed(query.expr));
    }
    std::set<std::string> defined;
    for (const auto& variable : dashboard.variables) {
      defined.insert(variable.name);
      if (variable.type != "query") continue;
      const auto label_values = ParseLabelValues(variable.query);
      ASSERT_TRUE(label_values) << dashboard.file << ": variable " << variable.name
                                << " is not label_values(...): " << variable.query;
      EXPECT_EQ(label_values->label, variable.name) << dashboard.file;
      // A variable reads only those defined before it (Grafana resolves them in order).
      for (const auto& name : VariablesUsed(label_values->series)) {
        EXPECT_TRUE(defined.count(name)) << dashboard.file << ": variable " << variable.name << " reads $" << name
                                         << ", which is not defined before it";
      }
    }
    for (const auto& name : used) {
      if (name.rfind("__", 0) == 0) continue;  // Grafana's own: $__rate_interval, $__range...
      EXPECT_TRUE(defined.count(name)) << dashboard.file << " uses $" << name << ", which it does not define";
    }
    // A dashboard that narrows by database or groups by cluster offers the variable.
    if (used.count("datname")) {
      EXPECT_TRUE(dashboard.Variable("datname")) << dashboard.file;
    }
    EXPECT_TRUE(dashboard.Variable("cluster")) << dashboard.file;
  }
}

TEST(DashboardsTest, EveryPanelHasAUnitAndADescription) {
  size_t panels = 0;
  for (const auto& dashboard : Dashboards()) {
    for (const auto& panel : dashboard.panels) {
      ++panels;
      EXPECT_TRUE(panel.unit && !panel.unit->empty()) << Where(dashboard, panel) << " has no unit";
      EXPECT_TRUE(panel.description && panel.description->size() >= 20)
          << Where(dashboard, panel) << " has no description worth the name";
      EXPECT_FALSE(panel.queries.empty()) << Where(dashboard, panel) << " has no query";
      for (const auto& query : panel.queries) {
        EXPECT_FALSE(query.expr.empty()) << Where(dashboard, panel) << " has an empty query";
      }
    }
  }
  EXPECT_GE(panels, 80u);
}

TEST(DashboardsTest, RatesUseRateIntervalAndReadOnlyCounters) {
  const auto types = MetricTypes();
  ASSERT_GT(types.size(), 100u) << "docs/metrics.md's metric reference was not found";
  const auto rules = LoadRules();
  for (const auto& dashboard : Dashboards()) {
    for (const auto& panel : dashboard.panels) {
      for (const auto& query : panel.queries) {
        for (const char* function : kRangeFunctions) {
          for (const auto& argument : CallArguments(query.expr, function)) {
            EXPECT_EQ(RangeOf(argument), "$__rate_interval")
                << Where(dashboard, panel) << ": " << function << "(" << argument << ")";
            for (const auto& name : PromqlMetricNames(FillVariables(argument, {}))) {
              EXPECT_TRUE(IsCounter(name, types))
                  << Where(dashboard, panel) << ": " << function << "() of " << name << ", which is a "
                  << (types.count(name) ? types.at(name) : "recorded series or gauge") << ", not a counter";
            }
          }
        }
      }
    }
  }
}

TEST(DashboardsTest, PanelsUseEveryRecordingRuleTheAlertsUse) {
  // A panel that computes a ratio its alert also computes reads the alert's recording rule, so that the two agree.
  std::set<std::string> read;
  for (const auto& dashboard : Dashboards()) {
    for (const auto& panel : dashboard.panels) {
      for (const auto& query : panel.queries) read.merge(PromqlMetricNames(query.expr));
    }
  }
  for (const auto& rule : LoadRules()) {
    if (rule.alert || rule.name.rfind("pg:", 0) != 0) continue;
    EXPECT_TRUE(read.count(rule.name)) << "no panel shows " << rule.name << " (alerts/" << rule.file << ")";
  }
}

TEST(DashboardsTest, LinksKeepTheVariablesAndTheTimeRange) {
  std::set<std::string> uids;
  for (const auto& dashboard : Dashboards()) uids.insert(dashboard.uid);
  std::set<std::pair<std::string, std::string>> drills;  // (from, to)
  static const std::regex to_dashboard(R"(^/d/([A-Za-z0-9_-]+)\?(.*)$)");
  for (const auto& dashboard : Dashboards()) {
    EXPECT_TRUE(std::any_of(dashboard.links.begin(), dashboard.links.end(),
                            [](const DashboardLink& link) { return link.include_vars && link.keep_time; }))
        << dashboard.file << " has no link to the other dashboards that keeps the variables and the time range";
    for (const auto& panel : dashboard.panels) {
      for (const auto& url : panel.link_urls) {
        std::smatch match;
        ASSERT_TRUE(std::regex_match(url, match, to_dashboard)) << Where(dashboard, panel) << ": link " << url;
        EXPECT_TRUE(uids.count(match[1].str())) << Where(dashboard, panel) << " links to a missing dashboard: " << url;
        const std::string query = match[2].str();
        for (const char* kept : {"${__url_time_range}", "var-datasource=${datasource}", "var-cluster=${cluster}",
                                 "var-job=${job}", "var-target="}) {
          EXPECT_NE(query.find(kept), std::string::npos)
              << Where(dashboard, panel) << ": link " << url << " drops " << kept;
        }
        drills.insert({dashboard.uid, match[1].str()});
      }
    }
  }
  // fleet -> instance -> database -> table
  for (const auto& [from, to] :
       std::vector<std::pair<std::string, std::string>>{{"pgpulse-fleet", "pgpulse-capacity"},
                                                        {"pgpulse-fleet", "pgpulse-replication"},
                                                        {"pgpulse-fleet", "pgpulse-rotation"},
                                                        {"pgpulse-capacity", "pgpulse-database"},
                                                        {"pgpulse-database", "pgpulse-table"},
                                                        {"pgpulse-database", "pgpulse-statements"}}) {
    EXPECT_TRUE(drills.count({from, to})) << "no data link from " << from << " to " << to;
  }
}

TEST(DashboardsTest, ProvisioningFilesPointGrafanaAtTheDashboards) {
  const std::string dir = std::string(PGPULSE_SOURCE_DIR) + "/deploy/grafana/provisioning";
  const auto datasources = YAML::LoadFile(dir + "/datasources/pgpulse.yml");
  EXPECT_EQ(datasources["apiVersion"].as<int>(0), 1);
  ASSERT_EQ(datasources["datasources"].size(), 1u);
  EXPECT_EQ(datasources["datasources"][0]["type"].as<std::string>(""), "prometheus");
  EXPECT_FALSE(datasources["datasources"][0]["url"].as<std::string>("").empty());
  const auto providers = YAML::LoadFile(dir + "/dashboards/pgpulse.yml");
  EXPECT_EQ(providers["apiVersion"].as<int>(0), 1);
  ASSERT_EQ(providers["providers"].size(), 1u);
  EXPECT_EQ(providers["providers"][0]["type"].as<std::string>(""), "file");
  const auto path = providers["providers"][0]["options"]["path"].as<std::string>("");
  EXPECT_FALSE(path.empty());
  // The deploy README tells where to mount the dashboards: the provider's path.
  EXPECT_NE(ReadFile(std::string(PGPULSE_SOURCE_DIR) + "/deploy/grafana/README.md").find(path), std::string::npos)
      << path;
}

TEST(DashboardsTest, DocsListEveryDashboard) {
  const auto docs = ReadFile(std::string(PGPULSE_SOURCE_DIR) + "/docs/dashboards.md");
  for (const auto& dashboard : Dashboards()) {
    EXPECT_NE(docs.find("`dashboards/" + dashboard.file + "`"), std::string::npos)
        << "docs/dashboards.md does not list dashboards/" << dashboard.file;
  }
}

}  // namespace
}  // namespace pgpulse::testing
