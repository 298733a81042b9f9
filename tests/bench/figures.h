// From the raw records of a run to the figures of the report, each formatted once.
#ifndef PGPULSE_TESTS_BENCH_FIGURES_H_
#define PGPULSE_TESTS_BENCH_FIGURES_H_

#include <string>
#include <vector>

#include "tests/bench/calibration.h"
#include "tests/bench/connection_sampler.h"
#include "tests/bench/knobs.h"
#include "tests/bench/scrape_bodies.h"
#include "tests/bench/scrape_loop.h"

namespace pgpulse::bench {

// Everything measured about one exporter.
struct ExporterRecords {
  double started = 0;  // epoch seconds just before the exporter was started
  LoopResult loop;
  std::vector<BodyFacts> bodies;  // one per scrape of the loop
  std::vector<FreshRun> fresh;    // 1 scrape, then 4 simultaneous
  long long connections_opened = 0;
};

// Per scrape of the window unless the name says otherwise. Empty where the script printed nothing.
struct ExporterFigures {
  std::string cpu_ms, login_cpu_ms, cpu_wo_login_ms, rss_mib, hwm_mib;
  std::string exec_ms, plan_ms, dbtime_ms, calls;
  std::string opened, conn_cpu_ms, logins_min, conn_cpu_min, backends_mib, window_s;
  std::string series, stmt_series, bytes, wall_med, wall_max, over_timeout;
  std::string conn_scrape, conn_all;
  std::string cov_first, cov_first_s, cov_window_min;
  std::string sf_calls1, sf_calls4, sf_marker1, sf_marker4, sf_ratio, sf_wall1, sf_wall4, sf_conn4;
  int failed = 0;  // scrapes with an HTTP status other than 200 or pg_up other than 1
};

ExporterFigures ComputeFigures(const Knobs& knobs, const ExporterRecords& records, const ConnectionSampler& sampler,
                               bool pgpulse, const LoginCosts& costs);

// `connection authorized: user=<role> ` lines of the server log (log_line_prefix '%n ...': epoch seconds first)
// within [from, to].
long long ConnectionsOpened(const std::string& server_log, const std::string& role, double from, double to);

// The longest time between two scrapes that ran pgpulse's table statistics in one service database (its calls
// grew), over all of them: "<n> s", or "- (< 2 refreshes)" when no database was refreshed twice; and how many
// service databases were refreshed at least once.
struct RefreshGaps {
  std::string longest;
  int refreshed = 0;
};
RefreshGaps LongestRefreshGap(const std::vector<RefreshRecord>& refreshes);

}  // namespace pgpulse::bench

#endif  // PGPULSE_TESTS_BENCH_FIGURES_H_
