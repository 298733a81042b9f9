#include "tests/bench/figures.h"

#include <algorithm>
#include <fstream>
#include <map>

#include "tests/bench/exporters.h"
#include "tests/bench/proc_stats.h"
#include "tests/bench/run_control.h"

namespace pgpulse::bench {
namespace {

// The lower median, as sort | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }' gives it; nullopt when empty.
template <typename T>
std::optional<T> Median(std::vector<T> values) {
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  return values[(values.size() + 1) / 2 - 1];
}

std::string PerScrape(const std::string& total, int scrapes, int decimals) {
  return Fixed(Number(total) / scrapes, decimals);
}

}  // namespace

ExporterFigures ComputeFigures(const Knobs& knobs, const ExporterRecords& records, const ConnectionSampler& sampler,
                               bool pgpulse, const LoginCosts& costs) {
  ExporterFigures fig;
  const Window& window = records.loop.window;
  const int n = knobs.scrapes;
  fig.cpu_ms = Fixed((window.ticks_end - window.ticks_start) * 1000.0 / ClockTicksPerSecond() / n, 1);
  fig.rss_mib = Fixed(window.rss_kb / 1024.0, 1);
  fig.hwm_mib = Fixed(window.hwm_kb / 1024.0, 1);
  fig.exec_ms = PerScrape(window.statements.exec_ms, n, 1);
  fig.plan_ms = PerScrape(window.statements.plan_ms, n, 1);
  fig.dbtime_ms = Fixed((Number(window.statements.exec_ms) + Number(window.statements.plan_ms)) / n, 1);
  fig.backends_mib = Fixed(window.backends_kb / 1024.0, 1);
  fig.calls = PerScrape(window.statements.calls, n, 0);
  fig.opened = Fixed(static_cast<double>(records.connections_opened) / n, 1);
  const double opened = Number(fig.opened);
  fig.conn_cpu_ms = Fixed(opened * Number(costs.server_cpu_ms), 1);
  fig.logins_min = Fixed(opened * 60 / knobs.interval, 0);
  fig.conn_cpu_min = Fixed(opened * Number(costs.server_cpu_ms) * 60 / knobs.interval, 0);
  fig.login_cpu_ms = Fixed(opened * Number(costs.scram_client_ms), 1);
  fig.cpu_wo_login_ms = Fixed(std::max(0.0, Number(fig.cpu_ms) - Number(fig.login_cpu_ms)), 1);
  fig.window_s = Fixed(window.t_end - window.t_start, 0);

  // The scrapes of the window, and all of them.
  std::vector<long long> series, statement_series;
  std::vector<double> walls, bytes;
  std::optional<int> fewest;
  double wall_max = 0;
  int over_timeout = 0;
  int busiest = 0;
  const auto& scrapes = records.loop.scrapes;
  for (size_t i = 0; i < scrapes.size(); ++i) {
    const ScrapeRecord& scrape = scrapes[i];
    const BodyFacts& body = records.bodies.at(i);
    if (scrape.result.code != 200 || body.up == "-" || Number(body.up) != 1) ++fig.failed;
    if (fig.cov_first.empty() && body.databases >= knobs.databases) {
      fig.cov_first = std::to_string(scrape.index);
      fig.cov_first_s = Fixed(scrape.t1 - records.started, 0);
    }
    if (scrape.index < knobs.warmup) continue;
    series.push_back(body.series);
    statement_series.push_back(body.statement_series);
    walls.push_back(scrape.result.seconds);
    bytes.push_back(static_cast<double>(scrape.result.bytes));
    wall_max = std::max(wall_max, scrape.result.seconds);
    if (scrape.result.seconds > kScrapeTimeoutSeconds) ++over_timeout;
    fewest = std::min(fewest.value_or(body.databases), body.databases);
    busiest = std::max(busiest, sampler.MaxWithin(pgpulse, scrape.t0 - 0.05, scrape.t1 + 0.05));
  }
  if (auto median = Median(series)) fig.series = std::to_string(*median);
  if (auto median = Median(statement_series)) fig.stmt_series = std::to_string(*median);
  fig.bytes = Fixed(Median(bytes).value_or(0) / 1048576, 1);
  fig.wall_med = Fixed(Median(walls).value_or(0), 2);
  fig.wall_max = Fixed(wall_max, 2);
  fig.over_timeout = std::to_string(over_timeout);
  if (fewest) fig.cov_window_min = std::to_string(*fewest);
  fig.conn_scrape = std::to_string(busiest);
  fig.conn_all = std::to_string(sampler.Max(pgpulse));

  const FreshRun& one = records.fresh.at(0);
  const FreshRun& four = records.fresh.at(1);
  fig.sf_calls1 = one.statements.calls;
  fig.sf_calls4 = four.statements.calls;
  fig.sf_marker1 = one.stat_database_calls;
  fig.sf_marker4 = four.stat_database_calls;
  fig.sf_ratio =
      Fixed(Number(one.statements.calls) > 0 ? Number(four.statements.calls) / Number(one.statements.calls) : 0, 2);
  fig.sf_wall1 = Fixed(one.t1 - one.t0, 2);
  fig.sf_wall4 = Fixed(four.t1 - four.t0, 2);
  fig.sf_conn4 = std::to_string(sampler.MaxWithin(pgpulse, four.t0 - 0.05, four.t1 + 0.05));
  if (one.codes != "200" || four.codes != "200,200,200,200") ++fig.failed;
  return fig;
}

long long ConnectionsOpened(const std::string& server_log, const std::string& role, double from, double to) {
  const std::string user = "user=" + role + " ";
  std::ifstream in(server_log);
  long long opened = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.find("connection authorized:") == std::string::npos || line.find(user) == std::string::npos) continue;
    const double t = Number(line);
    if (t >= from && t <= to) ++opened;
  }
  return opened;
}

RefreshGaps LongestRefreshGap(const std::vector<RefreshRecord>& refreshes) {
  std::map<std::string, double> last_calls, last_refresh, longest;
  for (const RefreshRecord& row : refreshes) {
    if (row.calls > last_calls[row.datname]) {
      if (auto previous = last_refresh.find(row.datname); previous != last_refresh.end()) {
        longest[row.datname] = std::max(longest[row.datname], row.t0 - previous->second);
      }
      last_refresh[row.datname] = row.t0;
    }
    last_calls[row.datname] = row.calls;
  }
  RefreshGaps gaps;
  double most = 0;
  int twice = 0;
  for (const auto& [datname, t] : last_refresh) gaps.refreshed += datname.starts_with("svc_") ? 1 : 0;
  for (const auto& [datname, gap] : longest) {
    if (!datname.starts_with("svc_")) continue;
    ++twice;
    most = std::max(most, gap);
  }
  gaps.longest = twice > 0 ? Fixed(most, 0) + " s" : "- (< 2 refreshes)";
  return gaps;
}

}  // namespace pgpulse::bench
