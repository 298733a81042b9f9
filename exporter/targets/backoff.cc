#include "exporter/targets/backoff.h"

#include <algorithm>

namespace pgpulse::targets {

std::chrono::milliseconds Backoff::NextDelay() {
  // Cap the exponent before shifting so a long outage cannot overflow.
  const int exponent = std::min(failures_, 20);
  ++failures_;
  const auto base = std::min<long long>(max_.count(), initial_.count() * (1LL << exponent));
  std::uniform_int_distribution<long long> jitter(base / 2, base);
  return std::chrono::milliseconds(jitter(random_));
}

}  // namespace pgpulse::targets
