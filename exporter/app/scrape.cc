#include "exporter/app/scrape.h"

#include "exporter/app/scrape_plan.h"
#include "exporter/collector/collected.h"
#include "exporter/metrics/exposition.h"

namespace pgpulse::app {
namespace asio = boost::asio;
using async::Clock;

asio::awaitable<http::Response> Scrape::Answer(const http::Request& request,
                                               std::vector<std::shared_ptr<targets::Target>> targets) {
  const auto plan = PlanScrape(request.headers, Clock::now());
  std::vector<std::shared_ptr<targets::Refresh>> refreshes;
  refreshes.reserve(targets.size());
  for (auto& target : targets) refreshes.push_back(target->StartRefresh(plan.refresh_deadline));

  metrics::Exposition out;
  WriteProcessMetrics(reload_status_, plan.budget, out);
  std::vector<const collector::Collected*> collected;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    // All refreshes run concurrently; waiting on them in turn costs no more than waiting for the slowest.
    if (co_await refreshes[i]->done.Wait(plan.deadline)) {
      WriteTargetMetrics(*targets[i], refreshes[i]->snapshot, out);
      collected.push_back(&refreshes[i]->snapshot.collected);
    } else {
      targets::Snapshot late;
      late.error = "scrape deadline exceeded";
      late.duration_seconds = std::chrono::duration<double>(plan.budget).count();
      WriteTargetMetrics(*targets[i], late, out);
    }
  }
  // The per-scrape series go through prometheus-cpp; the collectors' cached text follows them, sent from the
  // cache itself, which the refreshes keep alive until the answer is written.
  http::Response response{200, metrics::kTextContentType, out.Serialize(), {}};
  response.body_parts = collector::CollectedFamilyParts(collected);
  response.parts_owner = std::make_shared<const std::vector<std::shared_ptr<targets::Refresh>>>(std::move(refreshes));
  co_return response;
}

}  // namespace pgpulse::app
