#include "exporter/app/app.h"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <csignal>

#include "exporter/http/tls_context.h"
#include "exporter/http/web_config.h"
#include "exporter/http/web_guard.h"
#include "exporter/log/log.h"

namespace pgpulse::app {
namespace asio = boost::asio;
using async::Clock;

namespace {

// Which instance a target watches, as the config names it (the DSN redacted: no password).
void LogTarget(const char* message, const targets::Target& target) {
  log::Info(message,
            {{"target", target.name()}, {"dsn", target.config().redacted_dsn}, {"origin", target.config().origin}});
}

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

std::shared_ptr<targets::Target> App::NewTarget(const config::TargetConfig& config) const {
  targets::TargetSettings settings;
  settings.collectors = configuration_.collectors;
  return std::make_shared<targets::Target>(io_.get_executor(), config, settings);
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
  std::vector<std::shared_ptr<targets::Target>> targets;
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
    LogTarget("target started", *targets.back());
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
  http::Handler handler = [weak = weak_from_this()](http::Request request) {
    return Handle(weak.lock(), std::move(request));
  };
  std::shared_ptr<http::TlsContextSource> tls;
  if (flags_.web_config_file) {
    // Throws WebConfigError (file, key and reason): pgpulse does not start with security settings it cannot honour.
    const http::WebConfig web = http::LoadWebConfig(*flags_.web_config_file);
    try {
      if (web.tls) tls = std::make_shared<http::TlsContextSource>(*web.tls);
    } catch (const http::WebConfigError& e) {
      throw http::WebConfigError(web.origin + ": " + e.what());
    }
    handler = http::GuardHandler(std::move(handler), web);
    log::Info("web config loaded", {{"file", web.origin},
                                    {"tls", web.tls ? "true" : "false"},
                                    {"basic_auth_users", std::to_string(web.basic_auth_users.size())}});
  }
  server_ = std::make_shared<http::Server>(io_, endpoint, http::ServerLimits{}, std::move(handler));
  server_->SetTls(std::move(tls));
  server_->Start();
  log::Info("listening", {{"address", flags_.listen_address},
                          {"port", std::to_string(server_->port())},
                          {"telemetry_path", flags_.telemetry_path},
                          {"targets", std::to_string(targets_.size())}});
  log::Info("serving", {{"endpoints", Endpoints()}});
  for (auto& target : targets_) LogTarget("target", *target);
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

}  // namespace pgpulse::app
