#include "exporter/app/health.h"

#include "exporter/app/one_line.h"

namespace pgpulse::app {
namespace asio = boost::asio;
using async::Clock;

namespace {

// A load balancer probes every second or two, from several places, and gives up after a few seconds. Each probe
// must answer quickly and must not cost a connection of its own. So a probe answers from the target's last refresh
// when it ended within kFresh (a scrape or another probe made it); otherwise it starts a refresh bounded by
// kRefreshBudget, or joins the one in flight (the target's singleflight: any number of probes and scrapes share one
// refresh and its one connection). A target backing off after a failed connect answers at once, without a new
// attempt. kFresh is short enough that a failover shows within a few seconds.
constexpr auto kFresh = std::chrono::seconds(3);
constexpr auto kRefreshBudget = std::chrono::seconds(2);

http::Response Text(int status, const std::string& line) {
  return {status, "text/plain; charset=utf-8", OneLine(line) + "\n", {}};
}

}  // namespace

asio::awaitable<http::Response> AnswerHealth(http::Request request,
                                             std::vector<std::shared_ptr<targets::Target>> targets) {
  const auto name = request.query.find("target");
  if (name == request.query.end() || name->second.empty()) {
    co_return Text(400, "missing ?target=NAME (a target name from the config)");
  }
  std::optional<bool> want_replica;
  if (auto role = request.query.find("role"); role != request.query.end()) {
    if (role->second != "primary" && role->second != "replica") {
      co_return Text(400, "bad role: use role=primary or role=replica");
    }
    want_replica = role->second == "replica";
  }
  std::shared_ptr<targets::Target> target;
  for (auto& candidate : targets) {
    if (candidate->name() == name->second) target = candidate;
  }
  // Only names from the config: anything else (a DSN, a host) matches no name and is never connected to.
  if (!target) co_return Text(404, "unknown target; /health serves only targets named in the config");

  targets::Snapshot snapshot;
  const auto now = Clock::now();
  if (target->tried() && now - target->last_at() < kFresh) {
    snapshot = target->last();
  } else {
    // Held by this coroutine: the refresh's snapshot stays valid while it is read below.
    auto refresh = target->StartRefresh(now + kRefreshBudget);
    if (!co_await refresh->done.Wait(now + kRefreshBudget)) {
      co_return Text(503, target->name() + " is down: no answer within 2s");
    }
    snapshot = refresh->snapshot;
  }
  if (!snapshot.up) co_return Text(503, target->name() + " is down: " + snapshot.error);
  const char* role = snapshot.in_recovery ? "replica" : "primary";
  if (want_replica && *want_replica != snapshot.in_recovery) {
    co_return Text(503, target->name() + " is a " + role + ", not a " + (*want_replica ? "replica" : "primary"));
  }
  co_return Text(200, target->name() + " is up (" + role + ")");
}

}  // namespace pgpulse::app
