// pgpulse's per-table collectors (scope: database) as built into this tree, and the TTL each runs with.
#ifndef PGPULSE_TESTS_BENCH_COLLECTOR_TTLS_H_
#define PGPULSE_TESTS_BENCH_COLLECTOR_TTLS_H_

#include <optional>
#include <string>
#include <vector>

#include "tests/bench/knobs.h"

namespace pgpulse::bench {

// The names of <repo>/collectors/*.yaml files with a `scope: database` line, sorted.
std::vector<std::string> PerTableCollectors(const std::string& repo);

// The collector's TTL in seconds: BENCH_PGPULSE_COLLECTORS' setting (the last `<name>: ... ttl: <d>` line), else the
// collector file's top-level `ttl:`, else 0; nullopt when the duration is not of the form 1h2m3s.
std::optional<long> TtlSeconds(const Knobs& knobs, const std::string& collector);

}  // namespace pgpulse::bench

#endif  // PGPULSE_TESTS_BENCH_COLLECTOR_TTLS_H_
