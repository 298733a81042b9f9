// The real pgpulse binary, started for end-to-end tests (and, with ExporterOptions, the benchmark's exporters).
#ifndef PGPULSE_TESTS_HARNESS_EXPORTER_PROCESS_H_
#define PGPULSE_TESTS_HARNESS_EXPORTER_PROCESS_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/harness/http_client.h"
#include "tests/harness/process.h"

namespace pgpulse::testing {

// Path of the binary under test: the build's, or PGPULSE_BINARY_UNDER_TEST when set (CI runs the tests that measure
// memory and latency against a plain build while the suite is built with sanitizers).
std::string PgpulseBinary();

// A config file (in a temp dir) with one target, `name`, connecting with `dsn`.
std::string OneTargetConfigFile(const std::string& name, const std::string& dsn);

// Whether that binary links a sanitizer runtime (ASan or TSan), whose memory and speed are not pgpulse's own.
bool PgpulseIsSanitized();

// Which exporter to start and when it counts as started. The defaults start the pgpulse under test for e2e tests; the
// benchmark starts its own copy of pgpulse at the default log level, and its peer (postgres_exporter, which takes the
// same --web.listen-address flag).
struct ExporterOptions {
  std::string binary = PgpulseBinary();
  std::string name = "pgpulse";         // in error messages
  std::string log_level = "debug";      // --log.level=<this>; empty: no flag, the binary's default
  std::string ready_path = "/healthz";  // a 200 here means started
  std::chrono::milliseconds startup_timeout = std::chrono::seconds(15);
};

// An exporter binary (the built pgpulse, PGPULSE_BINARY, by default) on a free loopback port.
class ExporterProcess {
 public:
  // Adds --web.listen-address=127.0.0.1:<free port> and --log.level=debug to args; waits until GET /healthz is 200
  // (15 s), else throws std::runtime_error with the process output. Retries with a new port if the log says the
  // address is in use. A 200 only counts once the port is known to be ours (the listening socket belongs to our
  // child), so a stranger that grabbed the port meanwhile cannot pass for the exporter.
  explicit ExporterProcess(std::vector<std::string> args, std::map<std::string, std::string> env = {});
  // The same with another binary, log level, readiness path or start-up timeout.
  ExporterProcess(std::vector<std::string> args, std::map<std::string, std::string> env, ExporterOptions options);

  uint16_t port() const { return port_; }
  HttpResponse Get(const std::string& target, std::map<std::string, std::string> headers = {}) const;
  // GETs `path` every 200 ms until `done` holds for the body or `timeout` passes; returns the last body (so a
  // failed expectation shows what the exporter said).
  std::string Poll(const std::function<bool(const std::string&)>& done, std::chrono::milliseconds timeout,
                   const std::string& path = "/metrics") const;
  ChildProcess& process() { return *process_; }
  const ChildProcess& process() const { return *process_; }

 private:
  uint16_t port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace pgpulse::testing

#endif  // PGPULSE_TESTS_HARNESS_EXPORTER_PROCESS_H_
