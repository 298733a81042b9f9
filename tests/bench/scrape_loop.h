// The measurement itself: each exporter scraped on a fixed schedule, and 1 scrape against 4 simultaneous ones.
#ifndef PGPULSE_TESTS_BENCH_SCRAPE_LOOP_H_
#define PGPULSE_TESTS_BENCH_SCRAPE_LOOP_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tests/bench/exporters.h"
#include "tests/bench/knobs.h"
#include "tests/bench/statements.h"
#include "tests/harness/pg_server.h"

namespace pgpulse::bench {

struct ScrapeRecord {
  int index = 0;  // 0-based; the window starts at index BENCH_WARMUP
  double t0 = 0;  // epoch seconds at the start and the end of the request
  double t1 = 0;
  ScrapeResult result;
};

// One row per database after each measured pgpulse scrape: pgpulse's table statistics calls so far in the window.
struct RefreshRecord {
  int index = 0;
  double t0 = 0;  // the scrape's start
  std::string datname;
  double calls = 0;
};

// The measurement window: from just before scrape #warmup to the moment scrape #(warmup + scrapes) would start.
struct Window {
  double t_start = 0;
  double t_end = 0;
  long long ticks_start = 0;  // the exporter's CPU
  long long ticks_end = 0;
  long long rss_kb = 0;  // at the end
  long long hwm_kb = 0;
  long long backends_kb = 0;  // private memory of the role's backends at the end
  StatementTotals statements;
};

struct LoopResult {
  std::vector<ScrapeRecord> scrapes;
  Window window;
  std::vector<RefreshRecord> refreshes;    // pgpulse only
  std::vector<TimeShare> top_queries;      // per scrape of the window
  std::vector<TimeShare> collector_times;  // pgpulse only
};

// warmup + scrapes scrapes of the exporter (pid, port), one every interval from `base` (epoch seconds); bodies go to
// <work>/<name>.body.<i>. Runs on its own thread next to the other exporter's loop; throws Interrupted or BenchError.
LoopResult RunScrapeLoop(const Knobs& knobs, const testing::PgServer& server, const std::string& work,
                         Exporter exporter, pid_t pid, uint16_t port, double base);

// 1 scrape or 4 simultaneous scrapes of a freshly started exporter.
struct FreshRun {
  int scrapes = 0;
  double t0 = 0;
  double t1 = 0;
  StatementTotals statements;
  std::string stat_database_calls;  // how often the cluster-wide pg_stat_database query ran: refreshes
  std::string codes;                // HTTP statuses, comma-separated
};
// For n = 1 and 4: start the exporter afresh (same cold caches for both), wait until it is idle (pgpulse runs a
// first refresh at start, deadline 10 s, so 11 s; the peer 2 s), reset its role's statistics, run n scrapes at the
// same moment, wait 1 s for the statistics, read them, stop it.
std::vector<FreshRun> RunFreshProcessTest(const ExporterSetup& setup, const testing::PgServer& server,
                                          Exporter exporter);

}  // namespace pgpulse::bench

#endif  // PGPULSE_TESTS_BENCH_SCRAPE_LOOP_H_
