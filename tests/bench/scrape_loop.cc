#include "tests/bench/scrape_loop.h"

#include <cstdio>
#include <exception>
#include <thread>

#include "tests/bench/proc_stats.h"
#include "tests/bench/run_control.h"
#include "tests/harness/libpq_client.h"

namespace pgpulse::bench {
namespace {

// Private memory of the server backends the role has open now.
long long BackendPrivateKb(const testing::PgServer& server, const std::string& role) {
  long long total = 0;
  for (const auto& row :
       server.Query("postgres", "SELECT pid FROM pg_stat_activity WHERE usename = " + testing::QuoteSqlLiteral(role))) {
    total += PrivateKb(static_cast<pid_t>(std::stol(row.at(0).value_or("0"))));
  }
  return total;
}

}  // namespace

LoopResult RunScrapeLoop(const Knobs& knobs, const testing::PgServer& server, const std::string& work,
                         Exporter exporter, pid_t pid, uint16_t port, double base) {
  const std::string name = NameOf(exporter);
  const std::string role = RoleOf(exporter);
  const int total = knobs.warmup + knobs.scrapes;
  LoopResult result;
  for (int i = 0; i < total; ++i) {
    SleepUntil(base + i * knobs.interval);
    if (i == knobs.warmup) {
      Reset(server, role);
      result.window.t_start = EpochNow();
      result.window.ticks_start = CpuTicks(pid).value_or(0);
    }
    ScrapeRecord record{i, EpochNow(), 0, {}};
    record.result = Scrape(port, work + "/" + name + ".body." + std::to_string(i), work);
    record.t1 = EpochNow();
    result.scrapes.push_back(record);
    if (exporter == Exporter::kPgpulse && i >= knobs.warmup) {
      // Which databases pgpulse's table statistics query (collectors/statio_user_tables.yaml) ran in, so far in the
      // window: staleness measured apart from pgpulse's own metrics.
      for (const DatabaseCalls& calls : StatioCallsByDatabase(server, role)) {
        result.refreshes.push_back({i, record.t0, calls.datname, calls.calls});
      }
    }
  }
  SleepUntil(base + total * knobs.interval);
  Window& window = result.window;
  window.t_end = EpochNow();
  // A gone exporter reads as 0 here; main reports it as dead before any figure is computed.
  window.ticks_end = CpuTicks(pid).value_or(0);
  window.rss_kb = StatusKb(pid, "VmRSS").value_or(0);
  window.hwm_kb = StatusKb(pid, "VmHWM").value_or(0);
  window.statements = Totals(server, role);
  window.backends_kb = BackendPrivateKb(server, role);
  result.top_queries = TopQueries(server, role, knobs.scrapes);
  if (exporter == Exporter::kPgpulse) result.collector_times = TimeByCollector(server, role, knobs.scrapes);
  return result;
}

std::vector<FreshRun> RunFreshProcessTest(const ExporterSetup& setup, const testing::PgServer& server,
                                          Exporter exporter) {
  const std::string name = NameOf(exporter);
  const std::string role = RoleOf(exporter);
  std::vector<FreshRun> runs;
  for (int n : {1, 4}) {
    const std::string prefix = setup.work + "/" + name + ".sf" + std::to_string(n);
    auto process = StartExporter(setup, exporter);
    SleepFor(exporter == Exporter::kPgpulse ? 11 : 2);
    Reset(server, role);
    FreshRun run;
    run.scrapes = n;
    run.t0 = EpochNow();
    std::vector<ScrapeResult> results(static_cast<size_t>(n));
    std::vector<std::thread> threads;
    for (int j = 0; j < n; ++j) {
      threads.emplace_back([&, j] {
        results[static_cast<size_t>(j)] =
            Scrape(process->port(), prefix + ".body." + std::to_string(j + 1), setup.work);
      });
    }
    for (std::thread& thread : threads) thread.join();
    run.t1 = EpochNow();
    SleepFor(1);
    run.statements = Totals(server, role);
    run.stat_database_calls = StatDatabaseCalls(server, role);
    StopExporter(process, setup, name + ".sf" + std::to_string(n) + ".log");
    for (const ScrapeResult& scrape : results) {
      char code[8];
      std::snprintf(code, sizeof code, "%03d", scrape.code);
      run.codes += (run.codes.empty() ? "" : ",") + std::string(code);
    }
    runs.push_back(run);
  }
  return runs;
}

}  // namespace pgpulse::bench
