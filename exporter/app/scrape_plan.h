#pragma once

#include <chrono>
#include <map>
#include <string>

#include "exporter/async/deadline.h"

namespace pgpulse::app {

// How long a scrape may take: Prometheus sends its scrape timeout in X-Prometheus-Scrape-Timeout-Seconds; pgpulse
// answers a margin before it, so the answer arrives in time even when a target does not.
std::chrono::milliseconds ScrapeBudget(const std::map<std::string, std::string>& headers);

// When a scrape must answer, and when its targets' refreshes must end: a little before, so that what they collected
// up to then still makes it into the answer.
struct ScrapePlan {
  std::chrono::milliseconds budget;
  async::Clock::time_point deadline;
  async::Clock::time_point refresh_deadline;
};
ScrapePlan PlanScrape(const std::map<std::string, std::string>& headers, async::Clock::time_point now);

}  // namespace pgpulse::app
