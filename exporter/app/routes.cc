// The requests pgpulse answers: App::Handle routes each to its endpoint.
#include "exporter/app/app.h"

#include "exporter/app/health.h"
#include "exporter/app/scrape.h"
#include "exporter/app/status_page.h"

namespace pgpulse::app {
namespace asio = boost::asio;

asio::awaitable<http::Response> App::Handle(std::shared_ptr<App> self, http::Request request) {
  if (!self) co_return http::Response{503, "text/plain; charset=utf-8", "shutting down\n", {}};
  if (request.path == "/-/reload") {
    if (request.method != "POST" && request.method != "PUT") {
      co_return http::Response{405, "text/plain; charset=utf-8", "use POST\n", {{"Allow", "POST, PUT"}}};
    }
    // As in Prometheus: an unauthenticated reload trigger is opt-in. SIGHUP needs access to the process instead.
    if (!self->flags_.enable_lifecycle) {
      co_return http::Response{403, "text/plain; charset=utf-8", "lifecycle API is not enabled\n", {}};
    }
    co_return self->ServeReload();
  }
  if (request.method != "GET" && request.method != "HEAD") {
    co_return http::Response{405, "text/plain; charset=utf-8", "method not allowed\n", {{"Allow", "GET, HEAD"}}};
  }
  if (request.path == self->flags_.telemetry_path) {
    Scrape scrape(self->reload_status_);  // named: see the g++ 12 note in connection.cc
    co_return co_await scrape.Answer(request, self->targets_);
  }
  if (request.path == "/probe") {
    std::shared_ptr<targets::Target> found;
    auto refusal = self->ServeProbe(request, found);
    if (!found) co_return refusal;
    std::vector<std::shared_ptr<targets::Target>> one = {found};  // named: see the g++ 12 note in connection.cc
    Scrape scrape(self->reload_status_);
    co_return co_await scrape.Answer(request, std::move(one));
  }
  if (request.path == "/health") {
    auto targets = self->targets_;  // named: see the g++ 12 note in connection.cc
    co_return co_await AnswerHealth(std::move(request), std::move(targets));
  }
  if (request.path == "/healthz") co_return http::Response{200, "text/plain; charset=utf-8", "ok\n", {}};
  if (request.path == "/readyz") co_return self->ServeReady();
  if (request.path == "/") co_return self->ServeStatusPage();
  co_return http::Response{404, "text/plain; charset=utf-8", "not found\n", {}};
}

std::string App::Endpoints() const {
  // What Handle routes, for the start-up log.
  return flags_.telemetry_path + " /probe?target=NAME /health?target=NAME /healthz /readyz /" +
         (flags_.enable_lifecycle ? std::string(" POST:/-/reload") : "");
}

http::Response App::ServeProbe(const http::Request& request, std::shared_ptr<targets::Target>& found) const {
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
