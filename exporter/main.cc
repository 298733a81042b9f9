// pgpulse: a Prometheus exporter and health monitor for PostgreSQL.
#include <sys/prctl.h>
#include <sys/resource.h>

#include <boost/asio/io_context.hpp>
#include <iostream>
#include <system_error>

#include "exporter/app/app.h"
#include "exporter/app/check.h"
#include "exporter/app/configuration.h"
#include "exporter/cli/flags.h"
#include "exporter/collector/loader.h"
#include "exporter/collector/reference.h"
#include "exporter/config/config.h"
#include "exporter/http/web_config.h"
#include "exporter/log/log.h"
#include "pgpulse/version.h"

namespace {

// Exit codes: 0 clean stop, 1 runtime failure (config, bind), 2 usage error.
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

// Before anything else, and above all before a password is read: a core dump would hold every credential pgpulse
// knows. RLIMIT_CORE 0 stops the kernel writing one; not dumpable also covers a core_pattern pipe to a crash
// collector, which ignores the limit, and keeps other processes of the same user from ptrace or /proc/<pid>/mem.
void DisableCoreDumps() {
  const rlimit none{0, 0};
  if (::setrlimit(RLIMIT_CORE, &none) != 0) std::cerr << "pgpulse: cannot disable core dumps (setrlimit)\n";
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) std::cerr << "pgpulse: cannot disable core dumps (prctl)\n";
}

}  // namespace

int main(int argc, char** argv) {
  DisableCoreDumps();
  using namespace pgpulse;
  cli::Flags flags;
  try {
    flags = cli::ParseFlags(std::vector<std::string>(argv + 1, argv + argc));
    log::Init(log::ParseLevel(flags.log_level), log::ParseFormat(flags.log_format));
  } catch (const std::invalid_argument& e) {
    std::cerr << "pgpulse: " << e.what() << "\n";
    return kExitUsage;
  }
  if (flags.show_help) {
    std::cout << cli::HelpText();
    return 0;
  }
  if (flags.show_metric_reference) {
    // Built-in collectors only: docs/metrics.md is generated from this output.
    std::cout << collector::RenderMetricReference(collector::LoadCollectors({}));
    return 0;
  }
  if (flags.show_version) {
    std::cout << "pgpulse version " << kVersion << " (revision " << kRevision << ")\n";
    return 0;
  }

  if (flags.check) return app::RunCheck(flags);

  app::Configuration configuration;
  try {
    configuration = app::LoadConfiguration(flags.config_file, config::ProcessEnvironment());
  } catch (const config::ConfigError& e) {
    log::Error("invalid configuration", {{"err", e.what()}});
    return kExitFailure;
  } catch (const std::exception& e) {
    // Loading is meant to throw only ConfigError; anything else still ends with a message and an exit code rather
    // than std::terminate and SIGABRT.
    log::Error("invalid configuration", {{"err", e.what()}});
    return kExitFailure;
  }
  log::Info("collectors loaded", {{"count", std::to_string(configuration.collectors->definitions.size())}});

  // One io_context on one thread: libpq, HTTP and timers are all non-blocking, and a single thread needs no locks.
  boost::asio::io_context io(1);
  auto app = std::make_shared<app::App>(io, flags, std::move(configuration));
  try {
    app->Start();
  } catch (const std::invalid_argument& e) {
    log::Error("invalid flag", {{"err", e.what()}});
    return kExitUsage;
  } catch (const std::system_error& e) {
    log::Error("cannot start", {{"err", e.what()}});
    return kExitFailure;
  } catch (const http::WebConfigError& e) {
    log::Error("invalid web config", {{"err", e.what()}});
    return kExitFailure;
  }
  io.run();
  log::Info("stopped");
  return 0;
}
