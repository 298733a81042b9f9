// The dashboards against live data, on PostgreSQL 15 and the matrix's oldest and newest majors (ctest, and
// scripts/test-matrix.sh): a real Prometheus loads alerts/ and scrapes pgpulse watching the shared primary and standby
// with their service databases and pgbench traffic. Every metric a panel or a variable reads is one pgpulse exports
// there, and every query of every panel, with the variables filled as Grafana fills them from live label values,
// returns data through Prometheus' HTTP API: a blank panel always means a fault.
//
// PGPULSE_DASHBOARD=<name> checks only dashboards/<name>.json (while writing one).
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/alert_conditions.h"
#include "tests/e2e/collectors_fixture.h"
#include "tests/e2e/dashboards.h"
#include "tests/e2e/prometheus_service.h"
#include "tests/e2e/promql.h"
#include "tests/harness/http_client.h"
#include "tests/harness/libpq_client.h"

namespace pgpulse::testing {
namespace {

using Clock = std::chrono::steady_clock;

// What the test puts in for Grafana's own variables. Prometheus scrapes every second, so a minute holds 60 samples.
const std::map<std::string, std::string> kGrafanaVariables = {
    {"__rate_interval", "1m"}, {"__range", "5m"}, {"__interval", "15s"}, {"__range_s", "300"}};

std::vector<Dashboard> SelectedDashboards() {
  auto dashboards = LoadDashboards();
  if (const char* only = std::getenv("PGPULSE_DASHBOARD"); only && *only) {
    std::erase_if(dashboards, [only](const Dashboard& d) { return d.file != std::string(only) + ".json"; });
  }
  return dashboards;
}

std::string RegexEscape(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

// Prometheus' HTTP API.
class PrometheusApi {
 public:
  explicit PrometheusApi(uint16_t port) : port_(port) {}

  // The `data` of a successful answer; throws with Prometheus' error otherwise.
  YAML::Node Get(const std::string& path) const {
    const auto response = HttpGet(port_, path, {}, std::chrono::seconds(10));
    YAML::Node doc;
    try {
      doc = YAML::Load(response.body);  // JSON is YAML
    } catch (const YAML::Exception&) {
      throw std::runtime_error("HTTP " + std::to_string(response.status) + ": " + Tail(response.body, 500));
    }
    if (doc["status"].as<std::string>("") != "success") {
      throw std::runtime_error(doc["errorType"].as<std::string>("") + ": " + doc["error"].as<std::string>(""));
    }
    return doc["data"];
  }

  std::vector<std::string> LabelValues(const std::string& label, const std::string& series) const {
    const auto now = static_cast<long long>(UnixNow());
    std::vector<std::string> values;
    for (const auto& value : Get("/api/v1/label/" + label + "/values?match[]=" + PercentEncode(series) +
                                 "&start=" + std::to_string(now - 300) + "&end=" + std::to_string(now))) {
      values.push_back(value.as<std::string>());
    }
    std::sort(values.begin(), values.end());  // the variables sort alphabetically (sort: 1)
    return values;
  }

  // "" when `expr` returns at least one finite sample (over the last two minutes for a range query, as a time series
  // panel draws it), else what it returned.
  std::string NoData(const std::string& expr, bool instant) const {
    const auto now = static_cast<long long>(UnixNow());
    YAML::Node data;
    try {
      data = instant ? Get("/api/v1/query?query=" + PercentEncode(expr))
                     : Get("/api/v1/query_range?query=" + PercentEncode(expr) + "&start=" + std::to_string(now - 120) +
                           "&end=" + std::to_string(now) + "&step=5");
    } catch (const std::runtime_error& e) {
      return std::string("error: ") + e.what();
    }
    const auto result = data["result"];
    auto finite = [](const YAML::Node& sample) {
      const double value = std::strtod(sample[1].as<std::string>().c_str(), nullptr);
      return std::isfinite(value);
    };
    if (data["resultType"].as<std::string>("") == "scalar") return finite(result) ? "" : "a non-finite scalar";
    bool any_series = false;
    for (const auto& series : result) {
      any_series = true;
      if (series["value"] && finite(series["value"])) return "";
      for (const auto& sample : series["values"]) {
        if (finite(sample)) return "";
      }
    }
    return any_series ? "only NaN or infinite values" : "no series";
  }

  // The single value at `time` (Unix seconds) of an instant query that returns one series (a sum), or nullopt.
  std::optional<double> Value(const std::string& expr, double time) const {
    const auto result = Get("/api/v1/query?query=" + PercentEncode(expr) + "&time=" + std::to_string(time))["result"];
    if (!result.IsSequence() || result.size() != 1) return std::nullopt;
    return std::strtod(result[0]["value"][1].as<std::string>().c_str(), nullptr);
  }

 private:
  uint16_t port_;
};

// Each variable's value as Grafana sets it when the dashboard opens: All (its allValue, or every value as a regex
// alternation) where the variable has an All option, else the first value in sorted order. Throws when a variable
// lists nothing.
std::map<std::string, std::string> FillFromLiveLabels(const Dashboard& dashboard, const PrometheusApi& prometheus) {
  std::map<std::string, std::string> values = kGrafanaVariables;
  for (const auto& variable : dashboard.variables) {
    if (variable.type != "query") continue;
    const auto query = ParseLabelValues(variable.query);
    if (!query) throw std::runtime_error(dashboard.file + ": variable " + variable.name + " is not label_values()");
    const auto series = FillVariables(query->series, values);
    const auto live = prometheus.LabelValues(query->label, series);
    if (live.empty()) {
      throw std::runtime_error(dashboard.file + ": variable " + variable.name + " lists no value (" + series + ")");
    }
    if (variable.include_all) {
      if (variable.all_value) {
        values[variable.name] = *variable.all_value;
      } else {
        std::string alternation;
        for (const auto& value : live) alternation += (alternation.empty() ? "" : "|") + RegexEscape(value);
        values[variable.name] = "(" + alternation + ")";
      }
    } else {
      values[variable.name] = live.front();
    }
  }
  return values;
}

class DashboardsLive {
 public:
  explicit DashboardsLive(const ExporterProcess& exporter) {
    std::string rule_files;
    for (const auto& rule_file : RuleFiles()) rule_files += "  - '" + rule_file + "'\n";
    WriteFile(dir_.path() + "/prometheus.yml",
              "global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}\n"
              "rule_files:\n" +
                  rule_files +
                  "scrape_configs:\n"
                  "  - job_name: pgpulse\n"
                  "    static_configs: [{targets: ['127.0.0.1:" +
                  std::to_string(exporter.port()) + "']}]\n");
    prometheus_ = StartPrometheus(dir_.path() + "/prometheus.yml", dir_.path() + "/tsdb");
  }

  PrometheusApi api() const { return PrometheusApi(prometheus_.port); }
  std::string Output() const { return Tail(prometheus_.process->Output()); }

 private:
  // alerts/*.yml with rules (the Alertmanager example beside them has none).
  static std::vector<std::string> RuleFiles() {
    std::set<std::string> files;
    for (const auto& rule : LoadRules()) files.insert((AlertsDir() / rule.file).string());
    return {files.begin(), files.end()};
  }

  TempDir dir_;
  Service prometheus_;
};

// pgbench's simple updates in erp for the whole test, a few per second, so that the rates have something to show.
std::unique_ptr<ChildProcess> StartTraffic(PgCluster& cluster) {
  return std::make_unique<ChildProcess>(
      std::vector<std::string>{"/usr/lib/postgresql/15/bin/pgbench", "-n", "-N", "-T", "600", "-R", "20", "-c", "2",
                               "-h", "127.0.0.1", "-p", std::to_string(cluster.primary().port()), "-U",
                               PgCluster::kAppUser, "erp"},
      std::map<std::string, std::string>{{"PGPASSWORD", cluster.app_password()}});
}

bool WaitUntilTrue(const std::function<bool()>& condition, std::chrono::seconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!condition()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return true;
}

struct Failure {
  std::string where;
  std::string expr;
  std::string why;
};

TEST_F(CollectorsTest, DashboardPanelsShowLiveData) {
  const auto dashboards = SelectedDashboards();
  ASSERT_FALSE(dashboards.empty());
  const int major = ServerMajor(cluster.primary());
  const auto rules = LoadRules();

  AlertConditions conditions(cluster);
  const auto traffic = StartTraffic(cluster);
  DashboardsLive live(conditions.exporter_at_default_ttls());
  const auto prometheus = live.api();

  // Every series a panel or a variable reads, through the recording rules, is one pgpulse exports here.
  std::map<std::string, std::set<std::string>> readers;  // series -> "file: panel"
  for (const auto& dashboard : dashboards) {
    for (const auto& panel : dashboard.panels) {
      for (const auto& query : panel.queries) {
        for (const auto& series : ReadSeries(FillVariables(query.expr, kGrafanaVariables), rules)) {
          readers[series].insert(dashboard.file + ": " + panel.title);
        }
      }
    }
    for (const auto& variable : dashboard.variables) {
      if (const auto query = ParseLabelValues(variable.query)) {
        for (const auto& series : ReadSeries(query->series, rules)) {
          readers[series].insert(dashboard.file + ": variable " + variable.name);
        }
      }
    }
  }
  Exported exported;
  for (int scrape = 0; scrape < 3; ++scrape) {
    conditions.BeforeScrape();
    AddExported(Scrape(), exported);
    AddExported(conditions.ScrapeAtDefaultTtls(), exported);
  }
  for (const auto& [series, where] : readers) {
    if (exported.count(series) || FromPrometheus(series)) continue;
    const auto added =
        std::find_if(kAddedIn.begin(), kAddedIn.end(), [&series](const AddedIn& a) { return series == a.series; });
    if (added != kAddedIn.end() && major < added->major) continue;
    std::string list;
    for (const auto& reader : where) list += "\n  dashboards/" + reader;
    ADD_FAILURE() << series << " is not exported on PostgreSQL " << major << ", read by:" << list;
  }

  // Prometheus has scraped enough for rates and predictions (two samples each; a few more for the 15 min recording
  // rules' windows), and the standby shows replay lag at least now and then.
  ASSERT_TRUE(
      WaitUntilTrue([&] { return prometheus.NoData("min(count_over_time(pg_up[1m])) >= 10", true).empty(); }, 60s))
      << live.Output();

  // Each query is tried again until the deadline: series that come and go (replay lag while the standby catches up)
  // get their chance. What still returns nothing then is a blank panel.
  std::vector<Failure> failures;
  size_t queries = 0, returned = 0;
  const auto deadline = Clock::now() + 60s;
  for (const auto& dashboard : dashboards) {
    std::map<std::string, std::string> values;
    try {
      values = FillFromLiveLabels(dashboard, prometheus);
    } catch (const std::runtime_error& e) {
      failures.push_back({dashboard.file, "", e.what()});
      continue;
    }
    for (const auto& panel : dashboard.panels) {
      for (const auto& query : panel.queries) {
        ++queries;
        const auto expr = FillVariables(query.expr, values);
        std::string why = prometheus.NoData(expr, query.instant);
        while (!why.empty() && why.rfind("error", 0) != 0 && Clock::now() < deadline) {
          std::this_thread::sleep_for(1s);
          why = prometheus.NoData(expr, query.instant);
        }
        returned += why.empty();
        if (!why.empty()) {
          failures.push_back({"dashboards/" + dashboard.file + ", panel \"" + panel.title + "\"", expr, why});
        }
      }
    }
  }
  EXPECT_GT(queries, 0u);
  size_t panels = 0;
  for (const auto& dashboard : dashboards) panels += dashboard.panels.size();
  // A panel of the top statements draws them, the "other" remainder and the database total: the first two add up to
  // the third (at one instant, over all selected targets), so nothing is hidden between them.
  size_t add_ups = 0;
  // The statements collectors cache for 30 s at their defaults: wait until Prometheus has seen them move.
  EXPECT_TRUE(WaitUntilTrue(
      [&] {
        return prometheus.NoData("sum(increase(pg_stat_statements_database_calls_total[10m])) > 0", true).empty();
      },
      90s))
      << "the statements' database totals never moved";
  for (const auto& dashboard : dashboards) {
    auto values = FillFromLiveLabels(dashboard, prometheus);
    // Over everything Prometheus has scraped: at the collectors' default ttls the statements counters stand still
    // between refreshes, and a sum of zeros adds up trivially.
    values["__rate_interval"] = "10m";
    for (const auto& panel : dashboard.panels) {
      const DashboardQuery *top = nullptr, *other = nullptr, *total = nullptr;
      for (const auto& query : panel.queries) {
        if (query.legend == "other") {
          other = &query;
        } else if (query.legend == "database total") {
          total = &query;
        } else if (!top) {
          top = &query;
        }
      }
      if (!other || !total || !top) continue;
      ++add_ups;
      const auto whole_expr = "sum(" + FillVariables(total->expr, values) + ")";
      // The database the variables picked (the first listed) may not have moved yet where the fleet has: wait for
      // this panel's own total, so that the sums compared are not zeros that add up trivially.
      double at = 0;
      std::optional<double> whole;
      WaitUntilTrue(
          [&] {
            at = UnixNow() - 2;  // both sums at one instant that Prometheus has scraped
            whole = prometheus.Value(whole_expr, at);
            return whole && *whole > 0;
          },
          90s);
      const auto shown = prometheus.Value(
          "sum(" + FillVariables(top->expr, values) + ") + sum(" + FillVariables(other->expr, values) + ")", at);
      ASSERT_TRUE(shown && whole) << dashboard.file << ", panel \"" << panel.title << "\"";
      EXPECT_GT(*whole, 0) << dashboard.file << ", panel \"" << panel.title << "\": no traffic to add up";
      EXPECT_NEAR(*shown, *whole, 1e-6 * std::max(1.0, *whole))
          << dashboard.file << ", panel \"" << panel.title << "\": the top and \"other\" do not add up to the total";
    }
  }
  if (!std::getenv("PGPULSE_DASHBOARD")) {
    EXPECT_GE(add_ups, 3u) << "the statements dashboard's top-and-other panels";
  }

  std::cout << "dashboards: " << dashboards.size() << " dashboards, " << panels << " panels, " << queries
            << " queries evaluated on PostgreSQL " << major << ", " << returned << " returned data\n";
  for (const auto& failure : failures) {
    ADD_FAILURE() << failure.where << " shows no data on PostgreSQL " << major << " (" << failure.why << "):\n  "
                  << failure.expr;
  }
}

}  // namespace
}  // namespace pgpulse::testing
