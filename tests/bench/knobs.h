// The benchmark's knobs: environment variables, checked before anything starts.
#ifndef PGPULSE_TESTS_BENCH_KNOBS_H_
#define PGPULSE_TESTS_BENCH_KNOBS_H_

#include <string>

namespace pgpulse::bench {

struct Knobs {
  std::string repo;   // the source tree (collectors/ and git describe)
  std::string build;  // the build dir: its pgpulse is measured, its CMakeCache.txt gives the build type
  std::string out;    // BENCH_OUT, default <build>/pgpulse-bench-results.txt
  int databases = 200;
  int tables = 30;
  std::string shape = "realistic";
  int interval = 15;  // seconds between two scrapes of one exporter
  int warmup = 4;
  int scrapes = 20;
  bool keep = false;               // BENCH_KEEP=1: keep the temp dir
  std::string peer_queries;        // BENCH_PEER_QUERIES, empty: Debian's example, adapted
  std::string pgpulse_collectors;  // BENCH_PGPULSE_COLLECTORS, empty: pgpulse's defaults
  std::string pg_bindir = "/usr/lib/postgresql/15/bin";
  std::string peer_bin = "/usr/bin/prometheus-postgres-exporter";
};

// Reads and checks the knobs (Die with a message naming the knob when one is wrong), then removes every PG* variable
// from the environment, so that a developer's PGHOST, PGPORT or PGSSLMODE cannot redirect the run, and hands
// PG_BINDIR to the harness (PGPULSE_PG_BINDIR). argv[1], if given, is the build dir; else the one this program was
// built in.
Knobs ReadKnobs(int argc, char** argv);

}  // namespace pgpulse::bench

#endif  // PGPULSE_TESTS_BENCH_KNOBS_H_
