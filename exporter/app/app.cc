#include "exporter/app/app.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <csignal>

#include "exporter/app/scrape.h"
#include "exporter/app/status_page.h"
#include "exporter/log/log.h"
#include "exporter/metrics/exposition.h"

namespace pgpulse::app {
namespace asio = boost::asio;
using async::Clock;

App::App(asio::io_context& io, cli::Flags flags, config::Config config,
         std::shared_ptr<const collector::CollectorSet> collectors)
    : io_(io), flags_(std::move(flags)), config_(std::move(config)), signals_(io, SIGINT, SIGTERM, SIGHUP) {
  target::TargetSettings settings;
  settings.collectors = std::move(collectors);
  for (const auto& target : config_.targets) {
    targets_.push_back(std::make_shared<target::Target>(io_.get_executor(), target, settings));
  }
}

void App::Start() {
  auto endpoint = http::ParseListenAddress(flags_.listen_address);
  server_ = std::make_shared<http::Server>(
      io_, endpoint, http::ServerLimits{},
      [weak = weak_from_this()](http::Request request) { return Handle(weak.lock(), std::move(request)); });
  server_->Start();
  log::Info("listening", {{"address", flags_.listen_address},
                          {"port", std::to_string(server_->port())},
                          {"telemetry_path", flags_.telemetry_path},
                          {"targets", std::to_string(targets_.size())}});
  // A first attempt right away, so /readyz and the status page know each target's state before the first scrape.
  for (auto& target : targets_) target->StartRefresh(Clock::now() + std::chrono::seconds(10));
  WatchSignals();
}

void App::Stop() {
  log::Info("shutting down");
  signals_.cancel();
  if (server_) server_->Stop();
  for (auto& target : targets_) target->Shutdown();
}

void App::WatchSignals() {
  signals_.async_wait([self = shared_from_this()](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    if (signal == SIGHUP) {
      // Reloading arrives with credential rotation; until then say so rather than silently ignoring the signal.
      log::Warn("SIGHUP received: configuration reload is not supported yet; restart pgpulse to apply changes");
      self->WatchSignals();
      return;
    }
    self->Stop();
  });
}

asio::awaitable<http::Response> App::Handle(std::shared_ptr<App> self, http::Request request) {
  if (!self) co_return http::Response{503, "text/plain; charset=utf-8", "shutting down\n", {}};
  if (request.method != "GET" && request.method != "HEAD") {
    co_return http::Response{405, "text/plain; charset=utf-8", "method not allowed\n", {{"Allow", "GET, HEAD"}}};
  }
  if (request.path == self->flags_.telemetry_path) co_return co_await self->ServeMetrics(request);
  if (request.path == "/healthz") co_return http::Response{200, "text/plain; charset=utf-8", "ok\n", {}};
  if (request.path == "/readyz") co_return self->ServeReady();
  if (request.path == "/") co_return self->ServeStatusPage();
  co_return http::Response{404, "text/plain; charset=utf-8", "not found\n", {}};
}

asio::awaitable<http::Response> App::ServeMetrics(const http::Request& request) {
  const auto deadline = Clock::now() + ScrapeBudget(request.headers);
  std::vector<std::shared_ptr<target::Refresh>> refreshes;
  for (auto& target : targets_) refreshes.push_back(target->StartRefresh(deadline));

  metrics::Exposition out;
  WriteProcessMetrics(out);
  for (std::size_t i = 0; i < targets_.size(); ++i) {
    // All refreshes run concurrently; waiting on them in turn costs no more than waiting for the slowest.
    if (co_await refreshes[i]->done.Wait(deadline)) {
      WriteTargetMetrics(*targets_[i], refreshes[i]->snapshot, out);
    } else {
      target::Snapshot late;
      late.error = "scrape deadline exceeded";
      late.duration_seconds = std::chrono::duration<double>(ScrapeBudget(request.headers)).count();
      WriteTargetMetrics(*targets_[i], late, out);
    }
  }
  co_return http::Response{200, metrics::kTextContentType, out.Serialize(), {}};
}

http::Response App::ServeReady() const {
  std::string waiting;
  for (const auto& target : targets_) {
    if (!target->tried()) waiting += (waiting.empty() ? "" : ", ") + target->name();
  }
  if (waiting.empty()) return {200, "text/plain; charset=utf-8", "ready\n", {}};
  return {503, "text/plain; charset=utf-8", "not ready: first connection attempt pending for " + waiting + "\n", {}};
}

http::Response App::ServeStatusPage() const {
  return {200, "text/html; charset=utf-8", RenderStatusPage(targets_, flags_.telemetry_path), {}};
}

}  // namespace pgpulse::app
