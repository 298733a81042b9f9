#include "exporter/app/scrape_plan.h"

#include <algorithm>
#include <cstdlib>

namespace pgpulse::app {

namespace {
constexpr std::chrono::milliseconds kDefaultBudget{10000};  // Prometheus' default scrape_timeout
constexpr std::chrono::milliseconds kMaxMargin{500};
constexpr std::chrono::milliseconds kMinBudget{100};
}  // namespace

std::chrono::milliseconds ScrapeBudget(const std::map<std::string, std::string>& headers) {
  auto timeout = kDefaultBudget;
  if (auto it = headers.find("x-prometheus-scrape-timeout-seconds"); it != headers.end()) {
    char* end = nullptr;
    const double seconds = std::strtod(it->second.c_str(), &end);
    if (end != it->second.c_str() && *end == '\0' && seconds > 0 && seconds < 3600) {
      timeout = std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
    }
  }
  // A quarter of short timeouts, at most half a second: room for serialising and the network.
  const auto margin = std::min(kMaxMargin, timeout / 4);
  return std::max(kMinBudget, timeout - margin);
}

ScrapePlan PlanScrape(const std::map<std::string, std::string>& headers, async::Clock::time_point now) {
  ScrapePlan plan;
  plan.budget = ScrapeBudget(headers);
  plan.deadline = now + plan.budget;
  plan.refresh_deadline =
      plan.deadline - std::min<std::chrono::milliseconds>(plan.budget / 10, std::chrono::milliseconds(200));
  return plan;
}

}  // namespace pgpulse::app
