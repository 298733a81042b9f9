// The benchmark's PostgreSQL: the server settings, the exporters' roles and the service databases.
#ifndef PGPULSE_TESTS_BENCH_DATABASE_SHAPE_H_
#define PGPULSE_TESTS_BENCH_DATABASE_SHAPE_H_

#include <string>

#include "tests/bench/knobs.h"
#include "tests/harness/pg_cluster.h"

namespace pgpulse::bench {

// Each exporter logs in as its own pg_monitor role, so that every server-side figure splits by exporter.
inline constexpr const char* kPgpulseRole = "reporting_pgpulse";
inline constexpr const char* kPeerRole = "reporting_peer";

// The harness's server (free loopback port, SCRAM over TCP, pg_stat_statements, an unprivileged OS user when root)
// with no service databases of its own, and what the figures need on top.
testing::PgClusterOptions BenchServerOptions();

// 32 hex digits from the system's random source.
std::string Secret();

struct Passwords {
  std::string pgpulse;
  std::string peer;
};

// Creates both exporters' roles, the template database in the knobs' shape and BENCH_DATABASES copies svc_001...,
// then resets pg_stat_statements. Returns the shape's description for the report.
std::string ShapeDatabases(const testing::PgServer& server, const Knobs& knobs, const Passwords& passwords);

}  // namespace pgpulse::bench

#endif  // PGPULSE_TESTS_BENCH_DATABASE_SHAPE_H_
