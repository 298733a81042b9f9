#include "exporter/app/check.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <iostream>

#include "exporter/app/check_report.h"
#include "exporter/app/configuration.h"
#include "exporter/log/log.h"

namespace pgpulse::app {
namespace asio = boost::asio;
using async::Clock;

namespace {

constexpr int kExitHealthy = 0;
constexpr int kExitUnhealthy = 1;
constexpr int kExitConfig = 2;

// As long as the server gives a target's first refresh: an exec probe's timeout must allow for it.
constexpr auto kCheckTimeout = std::chrono::seconds(10);

// Every target's refresh side by side (they are independent), then each one's snapshot, or nullopt for one that
// did not end in time. The refreshes carry the deadline into every connect and query, so they end by it.
asio::awaitable<void> RefreshAll(std::vector<std::shared_ptr<targets::Target>> targets,
                                 std::vector<std::optional<targets::Snapshot>>& out) {
  const auto deadline = Clock::now() + kCheckTimeout;
  std::vector<std::shared_ptr<targets::Refresh>> refreshes;
  refreshes.reserve(targets.size());
  for (auto& target : targets) refreshes.push_back(target->StartRefresh(deadline));
  for (auto& refresh : refreshes) {
    if (co_await refresh->done.Wait(deadline + std::chrono::seconds(1))) {
      out.push_back(refresh->snapshot);
    } else {
      out.emplace_back();
    }
  }
  for (auto& target : targets) target->Shutdown();
}

}  // namespace

int RunCheck(const cli::Flags& flags) {
  Configuration configuration;
  try {
    configuration = LoadConfiguration(flags.config_file, config::ProcessEnvironment());
  } catch (const std::exception& e) {  // ConfigError names the file, line and key; anything else still ends here
    log::Error("invalid configuration", {{"err", e.what()}});
    return kExitConfig;
  }
  // One thread, as the server runs: libpq, the resolver and the timers are all non-blocking.
  asio::io_context io(1);
  std::vector<std::shared_ptr<targets::Target>> targets;
  for (const auto& config : configuration.config.targets) {
    targets::TargetSettings settings;  // the server's defaults (App::NewTarget)
    settings.collectors = configuration.collectors;
    targets.push_back(std::make_shared<targets::Target>(io.get_executor(), config, settings));
    log::Info("checking target", {{"target", config.name}, {"dsn", config.redacted_dsn}});
  }
  std::vector<std::optional<targets::Snapshot>> snapshots;
  asio::co_spawn(io, RefreshAll(targets, snapshots), asio::detached);
  io.run();

  std::vector<TargetCheck> checks;
  bool healthy = true;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    checks.push_back(CheckTarget(configuration, *targets[i], i < snapshots.size() ? snapshots[i] : std::nullopt));
    healthy = healthy && checks.back().healthy();
    if (!checks.back().healthy()) {
      log::Warn("target unhealthy",
                {{"target", checks.back().name}, {"problem", checks.back().Problem()}, {"err", checks.back().error}});
    }
  }
  std::cout << (flags.output == "json" ? RenderCheckJson(checks) : RenderCheckTable(checks)) << std::flush;
  return healthy ? kExitHealthy : kExitUnhealthy;
}

}  // namespace pgpulse::app
