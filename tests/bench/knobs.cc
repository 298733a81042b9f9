#include "tests/bench/knobs.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string_view>
#include <vector>

#include "tests/bench/run_control.h"
#include "tests/harness/exporter_process.h"
#include "tests/harness/process.h"

extern char** environ;

namespace pgpulse::bench {
namespace {

std::string Env(const char* name, const std::string& fallback = "") {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

// A whole number within [low, high], else Die with `message`.
int WholeNumber(const char* name, int fallback, long low, long high, const std::string& message) {
  const std::string text = Env(name, std::to_string(fallback));
  if (text.empty() || text.size() > 9 || text.find_first_not_of("0123456789") != std::string::npos) Die(message);
  const long value = std::stol(text);
  if (value < low || value > high) Die(message);
  return static_cast<int>(value);
}

void DropPgEnvironment() {
  std::vector<std::string> names;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    if (text.starts_with("PG")) names.emplace_back(text.substr(0, text.find('=')));
  }
  for (const std::string& name : names) unsetenv(name.c_str());
}

}  // namespace

Knobs ReadKnobs(int argc, char** argv) {
  Knobs knobs;
  knobs.repo = PGPULSE_SOURCE_DIR;
  knobs.build = argc > 1 ? argv[1] : std::filesystem::path(testing::PgpulseBinary()).parent_path().string();
  knobs.databases = WholeNumber("BENCH_DATABASES", 200, 1, 999, "BENCH_DATABASES must be 1..999");
  knobs.tables = WholeNumber("BENCH_TABLES", 30, 1, 99, "BENCH_TABLES must be 1..99");
  knobs.shape = Env("BENCH_SHAPE", "realistic");
  if (knobs.shape != "realistic" && knobs.shape != "toy") Die("BENCH_SHAPE must be realistic or toy");
  knobs.interval =
      WholeNumber("BENCH_INTERVAL", 15, 2, 999999999, "BENCH_INTERVAL must be a whole number of seconds >= 2");
  knobs.warmup = WholeNumber("BENCH_WARMUP", 4, 1, 999999999, "BENCH_WARMUP must be >= 1");
  knobs.scrapes = WholeNumber("BENCH_SCRAPES", 20, 2, 999999999, "BENCH_SCRAPES must be >= 2");
  knobs.keep = Env("BENCH_KEEP") == "1";
  knobs.pg_bindir = Env("PG_BINDIR", knobs.pg_bindir);
  knobs.peer_bin = Env("PEER_BIN", knobs.peer_bin);
  for (const char* tool : {"initdb", "pg_ctl", "postgres"}) {
    const std::string path = knobs.pg_bindir + "/" + tool;
    if (access(path.c_str(), X_OK) != 0) Die(path + " is missing");
  }
  if (access(knobs.peer_bin.c_str(), X_OK) != 0) {
    Die(knobs.peer_bin + " is missing (apt-get install prometheus-postgres-exporter)");
  }
  // The files are checked now rather than after the minutes the databases take.
  knobs.peer_queries = Env("BENCH_PEER_QUERIES");
  if (!knobs.peer_queries.empty() && !std::filesystem::is_regular_file(knobs.peer_queries)) {
    Die("BENCH_PEER_QUERIES=" + knobs.peer_queries + " does not exist");
  }
  knobs.pgpulse_collectors = Env("BENCH_PGPULSE_COLLECTORS");
  if (!knobs.pgpulse_collectors.empty()) {
    if (!std::filesystem::is_regular_file(knobs.pgpulse_collectors)) {
      Die("BENCH_PGPULSE_COLLECTORS=" + knobs.pgpulse_collectors + " does not exist");
    }
    if (!HasLineStartingWith(testing::ReadFile(knobs.pgpulse_collectors), "collectors:")) {
      Die("BENCH_PGPULSE_COLLECTORS=" + knobs.pgpulse_collectors + " has no top-level collectors: block");
    }
  }

  std::error_code error;
  const auto build = std::filesystem::canonical(knobs.build, error);
  if (error || access((build.string() + "/pgpulse").c_str(), X_OK) != 0) Die(knobs.build + "/pgpulse does not exist");
  knobs.build = build.string();
  knobs.out = Env("BENCH_OUT", knobs.build + "/pgpulse-bench-results.txt");

  DropPgEnvironment();
  setenv("PGPULSE_PG_BINDIR", knobs.pg_bindir.c_str(), 1);
  return knobs;
}

}  // namespace pgpulse::bench
