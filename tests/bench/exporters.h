// The two exporters side by side: how each is configured and started, and one scrape as Prometheus makes it.
#ifndef PGPULSE_TESTS_BENCH_EXPORTERS_H_
#define PGPULSE_TESTS_BENCH_EXPORTERS_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "tests/bench/database_shape.h"
#include "tests/bench/knobs.h"
#include "tests/harness/exporter_process.h"
#include "tests/harness/pg_server.h"

namespace pgpulse::bench {

enum class Exporter { kPgpulse, kPeer };

inline const char* NameOf(Exporter exporter) { return exporter == Exporter::kPgpulse ? "pgpulse" : "peer"; }
inline const char* RoleOf(Exporter exporter) { return exporter == Exporter::kPgpulse ? kPgpulseRole : kPeerRole; }

struct ExporterSetup {
  std::string work;         // the run's temp dir, which holds the files below
  std::string pgpulse_bin;  // a copy of <build>/pgpulse, so that a rebuild during the run cannot mix two binaries
  std::string pgpulse_config;
  std::string pgpulse_config_note;  // for the report's header
  std::string peer_bin;
  std::string peer_dsn;
  std::string peer_queries;
  std::string peer_queries_note;
};

// Writes pgpulse's config and password file and the peer's queries file into `work`, and copies pgpulse there.
ExporterSetup PrepareExporters(const Knobs& knobs, const std::string& work, const testing::PgServer& server,
                               const Passwords& passwords);

// Starts the exporter on a free loopback port and waits until it answers (pgpulse: /readyz, the peer: /), 30 s at
// most; Die with its output if it does not.
std::unique_ptr<testing::ExporterProcess> StartExporter(const ExporterSetup& setup, Exporter exporter);
// Stops it (SIGTERM, then SIGKILL) and keeps its output as <work>/<log_name>.
void StopExporter(std::unique_ptr<testing::ExporterProcess>& process, const ExporterSetup& setup,
                  const std::string& log_name);

// Prometheus' default scrape timeout, which it announces in X-Prometheus-Scrape-Timeout-Seconds.
inline constexpr int kScrapeTimeoutSeconds = 10;

struct ScrapeResult {
  int code = 0;  // HTTP status; 0: no response
  double seconds = 0;
  size_t bytes = 0;
};
// GET /metrics with the headers Prometheus sends that matter here, allowed 180 s; the body goes to `body_path` (no
// file when there was no response), errors are appended to <work>/scrape.err.
ScrapeResult Scrape(uint16_t port, const std::string& body_path, const std::string& work);

}  // namespace pgpulse::bench

#endif  // PGPULSE_TESTS_BENCH_EXPORTERS_H_
