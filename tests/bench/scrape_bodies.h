// What the scraped bodies say: series, pg_up, which databases' table statistics were served, and how old the cached
// results were that pgpulse served.
#ifndef PGPULSE_TESTS_BENCH_SCRAPE_BODIES_H_
#define PGPULSE_TESTS_BENCH_SCRAPE_BODIES_H_

#include <map>
#include <string>

namespace pgpulse::bench {

struct BodyFacts {
  long long series = 0;            // sample lines: not a comment, not empty
  std::string up = "-";            // the value of the last pg_up sample, "-" without one
  int databases = 0;               // distinct datname="svc_..." in `coverage_metric` samples
  long long statement_series = 0;  // pg_stat_statements* samples
};

// A missing body (no response) has no facts: 0 series, no pg_up.
BodyFacts AnalyseBody(const std::string& path, const std::string& coverage_metric);

// Folds one pgpulse body into `oldest`: per collector, the largest pgpulse_collector_cache_age_seconds seen.
void FoldCacheAges(const std::string& path, std::map<std::string, double>& oldest);

}  // namespace pgpulse::bench

#endif  // PGPULSE_TESTS_BENCH_SCRAPE_BODIES_H_
