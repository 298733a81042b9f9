// Side-by-side benchmark of pgpulse against Debian's prometheus-postgres-exporter (0.11.1), in one run.
//
//   pgpulse_bench [build-dir]      (tests/bench/run.sh builds it and pgpulse, then runs it)
//
// Starts a throwaway PostgreSQL 15 through the test harness with BENCH_DATABASES service databases of BENCH_TABLES
// tables each, runs both exporters side by side against it (each as its own pg_monitor role), scrapes both at a
// realistic interval and prints a table of figures, ratios and the targets (PASS/MISS). A missed target does
// not fail the run; a broken run (server or exporter does not start, a scrape fails) exits non-zero.
// tests/bench/README.md lists the knobs and says how every figure is measured.
#include <sys/stat.h>

#include <array>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <thread>

#include "tests/bench/calibration.h"
#include "tests/bench/collector_ttls.h"
#include "tests/bench/connection_sampler.h"
#include "tests/bench/database_shape.h"
#include "tests/bench/exporters.h"
#include "tests/bench/figures.h"
#include "tests/bench/knobs.h"
#include "tests/bench/report.h"
#include "tests/bench/run_control.h"
#include "tests/bench/scrape_bodies.h"
#include "tests/bench/scrape_loop.h"
#include "tests/bench/statements.h"
#include "tests/harness/pg_cluster.h"
#include "tests/harness/process.h"

namespace pgpulse::bench {
namespace {

// The run's scratch space: exporter configs, every scrape body and log. Removed at the end unless BENCH_KEEP=1.
class WorkDir {
 public:
  explicit WorkDir(bool keep) : keep_(keep) {
    path_ = "/tmp/pgpulse-bench.XXXXXX";
    if (mkdtemp(path_.data()) == nullptr) Die("cannot create a temp dir " + path_);
  }
  ~WorkDir() {
    if (keep_) {
      Log("kept " + path_);
      return;
    }
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  bool keep_;
  std::string path_;
};

// Runs `action` when the scope ends, however it ends.
template <typename Action>
class AtScopeExit {
 public:
  explicit AtScopeExit(Action action) : action_(std::move(action)) {}
  ~AtScopeExit() { action_(); }
  AtScopeExit(const AtScopeExit&) = delete;
  AtScopeExit& operator=(const AtScopeExit&) = delete;

 private:
  Action action_;
};

std::string CMakeBuildType(const std::string& build) {
  std::ifstream in(build + "/CMakeCache.txt");
  constexpr std::string_view kKey = "CMAKE_BUILD_TYPE:STRING=";
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with(kKey)) return line.substr(kKey.size());
  }
  return "";
}

std::string ModifiedUtc(const std::string& path) {
  struct stat info {};
  if (stat(path.c_str(), &info) != 0) return "?";
  std::tm utc{};
  gmtime_r(&info.st_mtime, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", &utc);
  return text;
}

std::string CommandFirstLine(const std::vector<std::string>& argv, const std::string& fallback = "") {
  try {
    const testing::CommandResult result = testing::RunCommand(argv);
    if (result.exit_code == 0 || fallback.empty()) return FirstLine(result.output);
  } catch (const std::exception&) {
  }
  return fallback;
}

std::string LastLines(const std::string& text, size_t count) {
  size_t start = text.size();
  if (start > 0 && text[start - 1] == '\n') --start;
  for (size_t lines = 0; start > 0; --start) {
    if (text[start - 1] == '\n' && ++lines == count) break;
  }
  return text.substr(start);
}

int Run(int argc, char** argv) {
  const Knobs knobs = ReadKnobs(argc, argv);
  const WorkDir work(knobs.keep);
  RunDescription run;
  run.build_type = CMakeBuildType(knobs.build);
  run.pgpulse_built = ModifiedUtc(knobs.build + "/pgpulse");
  run.tree = CommandFirstLine({"git", "-C", knobs.repo, "describe", "--always", "--dirty"}, "?");
  run.peer_version = CommandFirstLine({knobs.peer_bin, "--version"});

  Log("starting PostgreSQL (" + knobs.pg_bindir + ") through tests/harness");
  std::unique_ptr<testing::PgCluster> cluster;
  try {
    cluster = std::make_unique<testing::PgCluster>(BenchServerOptions());
  } catch (const std::runtime_error& error) {
    Die(std::string("PostgreSQL did not start: ") + error.what());
  }
  const testing::PgServer& server = cluster->primary();
  const AtScopeExit keep_server_log([&] {
    std::error_code ignored;
    if (knobs.keep) std::filesystem::copy_file(server.log_path(), work.path() + "/postgresql.log", ignored);
  });
  run.pg_version = server.QueryValue("postgres", "SHOW server_version");
  Log("PostgreSQL " + run.pg_version + " on 127.0.0.1:" + std::to_string(server.port()));

  const Passwords passwords{Secret(), Secret()};
  Log("creating roles, template database and " + std::to_string(knobs.databases) + " service databases of " +
      std::to_string(knobs.tables) + " tables (" + knobs.shape + ")");
  run.shape_note = ShapeDatabases(server, knobs, passwords);

  ConnectionSampler sampler(server);
  const ExporterSetup setup = PrepareExporters(knobs, work.path(), server, passwords);
  run.pgpulse_config_note = setup.pgpulse_config_note;
  run.peer_queries_note = setup.peer_queries_note;
  run.pgpulse_version = CommandFirstLine({setup.pgpulse_bin, "--version"});

  // --- both exporters, scraped side by side ---
  const std::array<Exporter, 2> exporters = {Exporter::kPgpulse, Exporter::kPeer};
  std::array<ExporterRecords, 2> records;
  std::array<std::unique_ptr<testing::ExporterProcess>, 2> processes;
  Log("starting pgpulse (" + run.pgpulse_version + ") and postgres_exporter");
  for (size_t i = 0; i < exporters.size(); ++i) {
    records[i].started = EpochNow();
    processes[i] = StartExporter(setup, exporters[i]);
  }
  const double base = EpochNow() + 0.5;
  run.offset = Fixed(knobs.interval / 2.0, 3);
  Log("scraping both every " + std::to_string(knobs.interval) + " s (" + std::to_string(knobs.warmup) + " warm-up + " +
      std::to_string(knobs.scrapes) + " measured scrapes, " +
      std::to_string((knobs.warmup + knobs.scrapes) * knobs.interval) + " s; peer offset by " + run.offset + " s)");
  std::array<std::exception_ptr, 2> failures;
  std::array<std::thread, 2> loops;
  for (size_t i = 0; i < exporters.size(); ++i) {
    // The peer's scrapes half an interval after pgpulse's, so that the two rarely run at the same moment.
    const double start = base + (i == 0 ? 0 : Number(run.offset));
    loops[i] = std::thread([&, i, start] {
      try {
        records[i].loop = RunScrapeLoop(knobs, server, work.path(), exporters[i], processes[i]->process().pid(),
                                        processes[i]->port(), start);
      } catch (...) {
        failures[i] = std::current_exception();
        AbandonWaits();
      }
    });
  }
  for (std::thread& loop : loops) loop.join();
  // A loop that fails cuts the other one short (its waits end with Interrupted): report the failure, not that.
  for (size_t i = 0; i < exporters.size(); ++i) {
    if (!failures[i]) continue;
    try {
      std::rethrow_exception(failures[i]);
    } catch (const Interrupted&) {
    } catch (const std::exception& error) {
      Die(std::string(i == 0 ? "pgpulse" : "postgres_exporter") + "'s scrape loop failed: " + error.what());
    }
  }
  for (const std::exception_ptr& failure : failures) {
    if (failure) std::rethrow_exception(failure);
  }
  for (size_t i = 0; i < exporters.size(); ++i) {
    if (!processes[i]->process().Running()) {
      Die(std::string(NameOf(exporters[i])) +
          " died during the run: " + LastLines(processes[i]->process().Output(), 20));
    }
    StopExporter(processes[i], setup, std::string(NameOf(exporters[i])) + ".log");
  }

  Log("1 scrape vs 4 simultaneous scrapes, each on a freshly started exporter");
  for (size_t i = 0; i < exporters.size(); ++i) records[i].fresh = RunFreshProcessTest(setup, server, exporters[i]);
  sampler.Stop();
  {
    // The raw samples, for BENCH_KEEP=1: "epoch pgpulse peer".
    std::ofstream samples(work.path() + "/connections.samples");
    for (const ConnectionSample& sample : sampler.samples()) {
      samples << Fixed(sample.epoch, 3) << ' ' << sample.pgpulse << ' ' << sample.peer << '\n';
    }
  }

  const LoginCosts costs = MeasureLoginCosts(server);

  // --- analysis ---
  Log("analysing");
  if (sampler.samples().size() <= 10) Die("the connection sampler recorded nothing: " + sampler.error());
  ReportInput input;
  const int total = knobs.warmup + knobs.scrapes;
  for (size_t i = 0; i < exporters.size(); ++i) {
    const std::string name = NameOf(exporters[i]);
    const std::string coverage_metric =
        i == 0 ? "pg_statio_user_tables_heap_blocks_hit" : "pg_statio_user_tables_heap_blks_hit";
    for (int scrape = 0; scrape < total; ++scrape) {
      const std::string body = work.path() + "/" + name + ".body." + std::to_string(scrape);
      records[i].bodies.push_back(AnalyseBody(body, coverage_metric));
      if (i == 0 && scrape >= knobs.warmup) FoldCacheAges(body, input.oldest_served);
    }
    const Window& window = records[i].loop.window;
    records[i].connections_opened =
        ConnectionsOpened(server.log_path(), RoleOf(exporters[i]), window.t_start, window.t_end);
  }
  input.run = run;
  input.pgpulse = ComputeFigures(knobs, records[0], sampler, true, costs);
  input.peer = ComputeFigures(knobs, records[1], sampler, false, costs);
  input.pgpulse_top = records[0].loop.top_queries;
  input.peer_top = records[1].loop.top_queries;
  input.pgpulse_collectors = records[0].loop.collector_times;
  input.per_table_collectors = PerTableCollectors(knobs.repo);
  input.refresh_gaps = LongestRefreshGap(records[0].loop.refreshes);
  input.login_costs = costs;
  input.deallocations = Deallocations(server);

  const std::string report = Report(knobs, input);
  const std::filesystem::path out(knobs.out);
  if (out.has_parent_path()) std::filesystem::create_directories(out.parent_path());
  std::ofstream(out) << report;
  std::cout << report << "\nresults written to " << knobs.out << std::endl;

  int broken = 0;
  for (const auto& [name, figures] : {std::pair{"pgpulse", &input.pgpulse}, std::pair{"peer", &input.peer}}) {
    if (figures->failed == 0) continue;
    Log(std::string("ERROR: ") + name + ": " + std::to_string(figures->failed) +
        " scrapes failed (HTTP status other than 200, or pg_up != 1)");
    broken = 1;
  }
  if (input.deallocations != "0") {
    Log("ERROR: pg_stat_statements evicted entries; the database figures are incomplete");
    broken = 1;
  }
  return broken;
}

}  // namespace
}  // namespace pgpulse::bench

int main(int argc, char** argv) {
  using namespace pgpulse::bench;
  InstallInterruptHandlers();
  umask(022);
  setenv("LC_ALL", "C", 1);
  try {
    return Run(argc, argv);
  } catch (const Interrupted&) {
    Log("interrupted");
    return 130;
  } catch (const std::exception& error) {
    Log(std::string("ERROR: ") + error.what());
    return 1;
  }
}
