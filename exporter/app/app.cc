#include "exporter/app/app.h"

#include <algorithm>
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

namespace {

double UnixNow() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

}  // namespace

App::App(asio::io_context& io, cli::Flags flags, Configuration configuration)
    : io_(io),
      flags_(std::move(flags)),
      configuration_(std::move(configuration)),
      signals_(io, SIGINT, SIGTERM, SIGHUP) {
  for (const auto& target : configuration_.config.targets) targets_.push_back(NewTarget(target));
  reload_status_.success_timestamp_seconds = UnixNow();
}

std::shared_ptr<target::Target> App::NewTarget(const config::TargetConfig& config) const {
  target::TargetSettings settings;
  settings.collectors = configuration_.collectors;
  return std::make_shared<target::Target>(io_.get_executor(), config, settings);
}

std::optional<std::string> App::Reload() {
  Configuration next;
  try {
    next = LoadConfiguration(flags_.config_file, config::ProcessEnvironment());
  } catch (const std::exception& e) {  // ConfigError, and anything unforeseen: a reload must not end the process
    reload_status_.successful = false;
    log::Error("configuration reload rejected; the running configuration stays", {{"err", e.what()}});
    return std::string(e.what());
  }
  const bool same_collectors = SameCollectors(next, configuration_);
  configuration_ = std::move(next);
  std::vector<std::shared_ptr<target::Target>> targets;
  int kept = 0;
  for (const auto& config : configuration_.config.targets) {
    auto old = std::find_if(targets_.begin(), targets_.end(), [&](const auto& t) { return t->name() == config.name; });
    if (old != targets_.end() && same_collectors && (*old)->config().SameAs(config)) {
      (*old)->ReloadCredentials();
      targets.push_back(*old);
      targets_.erase(old);
      ++kept;
      continue;
    }
    targets.push_back(NewTarget(config));
    targets.back()->Start();
  }
  // What is left was removed or changed: a scrape still waiting on one of them keeps it alive until it is done.
  for (auto& gone : targets_) gone->Shutdown();
  const auto replaced = targets.size() - static_cast<std::size_t>(kept);
  targets_ = std::move(targets);
  reload_status_ = {true, UnixNow()};
  log::Info("configuration reloaded", {{"targets", std::to_string(targets_.size())},
                                       {"kept", std::to_string(kept)},
                                       {"started", std::to_string(replaced)},
                                       {"collectors_changed", same_collectors ? "false" : "true"}});
  return std::nullopt;
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
  for (auto& target : targets_) target->Start();
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
      log::Info("SIGHUP received: reloading the configuration");
      self->Reload();
      self->WatchSignals();
      return;
    }
    self->Stop();
  });
}

asio::awaitable<http::Response> App::Handle(std::shared_ptr<App> self, http::Request request) {
  if (!self) co_return http::Response{503, "text/plain; charset=utf-8", "shutting down\n", {}};
  if (request.path == "/-/reload") {
    if (request.method != "POST" && request.method != "PUT") {
      co_return http::Response{405, "text/plain; charset=utf-8", "use POST\n", {{"Allow", "POST, PUT"}}};
    }
    co_return self->ServeReload();
  }
  if (request.method != "GET" && request.method != "HEAD") {
    co_return http::Response{405, "text/plain; charset=utf-8", "method not allowed\n", {{"Allow", "GET, HEAD"}}};
  }
  if (request.path == self->flags_.telemetry_path) co_return co_await self->ServeMetrics(request, self->targets_);
  if (request.path == "/probe") {
    std::shared_ptr<target::Target> found;
    auto refusal = self->ServeProbe(request, found);
    if (!found) co_return refusal;
    std::vector<std::shared_ptr<target::Target>> one = {found};  // named: see the g++ 12 note in connection.cc
    co_return co_await self->ServeMetrics(request, std::move(one));
  }
  if (request.path == "/healthz") co_return http::Response{200, "text/plain; charset=utf-8", "ok\n", {}};
  if (request.path == "/readyz") co_return self->ServeReady();
  if (request.path == "/") co_return self->ServeStatusPage();
  co_return http::Response{404, "text/plain; charset=utf-8", "not found\n", {}};
}

http::Response App::ServeProbe(const http::Request& request, std::shared_ptr<target::Target>& found) const {
  // Only names from the config: a DSN or host in the request is never connected to, it simply matches no name.
  auto param = request.query.find("target");
  if (param == request.query.end() || param->second.empty()) {
    return {400, "text/plain; charset=utf-8", "missing ?target=NAME (a target name from the config)\n", {}};
  }
  for (const auto& target : targets_) {
    if (target->name() == param->second) {
      found = target;
      return {};
    }
  }
  return {404, "text/plain; charset=utf-8", "unknown target; /probe serves only targets named in the config\n", {}};
}

asio::awaitable<http::Response> App::ServeMetrics(const http::Request& request,
                                                  std::vector<std::shared_ptr<target::Target>> targets) {
  const auto budget = ScrapeBudget(request.headers);
  const auto deadline = Clock::now() + budget;
  // Refreshes end a little before the answer is due, so what they collected up to then still makes it in.
  const auto refresh_deadline =
      deadline - std::min<std::chrono::milliseconds>(budget / 10, std::chrono::milliseconds(200));
  std::vector<std::shared_ptr<target::Refresh>> refreshes;
  refreshes.reserve(targets.size());
  for (auto& target : targets) refreshes.push_back(target->StartRefresh(refresh_deadline));

  metrics::Exposition out;
  WriteProcessMetrics(reload_status_, budget, out);
  std::vector<const collector::Collected*> collected;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    // All refreshes run concurrently; waiting on them in turn costs no more than waiting for the slowest.
    if (co_await refreshes[i]->done.Wait(deadline)) {
      WriteTargetMetrics(*targets[i], refreshes[i]->snapshot, out);
      collected.push_back(&refreshes[i]->snapshot.collected);
    } else {
      target::Snapshot late;
      late.error = "scrape deadline exceeded";
      late.duration_seconds = std::chrono::duration<double>(budget).count();
      WriteTargetMetrics(*targets[i], late, out);
    }
  }
  // The per-scrape series go through prometheus-cpp; the collectors' cached text follows them, sent from the
  // cache itself, which the refreshes keep alive until the answer is written.
  http::Response response{200, metrics::kTextContentType, out.Serialize(), {}};
  response.body_parts = collector::CollectedFamilyParts(collected);
  response.parts_owner = std::make_shared<const std::vector<std::shared_ptr<target::Refresh>>>(std::move(refreshes));
  co_return response;
}

http::Response App::ServeReload() {
  // Prometheus' own answer: 200 when applied, 500 with the reason when rejected. The reason names a file, line and
  // key, never a value from a DSN or secret.
  if (auto error = Reload()) return {500, "text/plain; charset=utf-8", "failed to reload config: " + *error + "\n", {}};
  return {200, "text/plain; charset=utf-8", "config reloaded\n", {}};
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
