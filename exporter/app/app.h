#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "exporter/app/configuration.h"
#include "exporter/app/own_series.h"
#include "exporter/cli/flags.h"
#include "exporter/config/config.h"
#include "exporter/http/server.h"
#include "exporter/targets/target.h"

namespace pgpulse::app {

// Wires the pieces: the targets, the HTTP endpoints, and the signals. Lives on the one io_context thread.
class App : public std::enable_shared_from_this<App> {
 public:
  App(boost::asio::io_context& io, cli::Flags flags, Configuration configuration);

  // Binds the listener (throws std::system_error naming the address), starts each target's first connection
  // attempt, and handles SIGINT/SIGTERM (stop) and SIGHUP.
  void Start();
  void Stop();

  // Reads the configuration again (SIGHUP, POST /-/reload) and applies it only when all of it is valid. Targets
  // whose settings did not change keep their connections and caches; others are replaced. Returns why a reload
  // was rejected, or nullopt; a rejected reload leaves the running configuration as it was.
  std::optional<std::string> Reload();

 private:
  // Static, holding the App in the coroutine frame: a request in flight keeps the App alive, while the server's
  // handler holds only a weak reference (no ownership cycle between App and Server).
  static boost::asio::awaitable<http::Response> Handle(std::shared_ptr<App> self, http::Request request);
  http::Response ServeProbe(const http::Request& request, std::shared_ptr<targets::Target>& found) const;
  http::Response ServeReady() const;
  http::Response ServeReload();
  http::Response ServeStatusPage() const;
  void WatchSignals();
  std::string Endpoints() const;  // the paths served, for the start-up log

  std::shared_ptr<targets::Target> NewTarget(const config::TargetConfig& config) const;

  boost::asio::io_context& io_;
  cli::Flags flags_;
  Configuration configuration_;
  std::vector<std::shared_ptr<targets::Target>> targets_;
  ReloadStatus reload_status_;
  std::shared_ptr<http::Server> server_;
  boost::asio::signal_set signals_;
};

}  // namespace pgpulse::app
