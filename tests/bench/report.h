// The results table: the same text on stdout and in the results file.
#ifndef PGPULSE_TESTS_BENCH_REPORT_H_
#define PGPULSE_TESTS_BENCH_REPORT_H_

#include <map>
#include <string>
#include <vector>

#include "tests/bench/calibration.h"
#include "tests/bench/figures.h"
#include "tests/bench/knobs.h"
#include "tests/bench/statements.h"

namespace pgpulse::bench {

// What the header says about the run.
struct RunDescription {
  std::string pgpulse_version;  // first line of `pgpulse --version`
  std::string build_type;
  std::string pgpulse_built;  // the binary's modification time, UTC
  std::string tree;           // git describe --always --dirty at the start
  std::string pgpulse_config_note;
  std::string peer_version;
  std::string peer_queries_note;
  std::string pg_version;
  std::string shape_note;
  std::string offset;  // seconds between a pgpulse scrape and the peer's
};

struct ReportInput {
  RunDescription run;
  ExporterFigures pgpulse;
  ExporterFigures peer;
  std::vector<TimeShare> pgpulse_top;
  std::vector<TimeShare> peer_top;
  std::vector<TimeShare> pgpulse_collectors;
  std::vector<std::string> per_table_collectors;
  std::map<std::string, double> oldest_served;  // pgpulse's largest cache age per collector, measured scrapes
  RefreshGaps refresh_gaps;
  LoginCosts login_costs;
  std::string deallocations;
};

std::string Report(const Knobs& knobs, const ReportInput& input);

}  // namespace pgpulse::bench

#endif  // PGPULSE_TESTS_BENCH_REPORT_H_
