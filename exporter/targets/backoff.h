#pragma once

#include <chrono>
#include <random>

namespace pgpulse::targets {

// Exponential backoff with jitter for reconnects: after n consecutive failures the delay is drawn from
// [base/2, base] with base = min(initial * 2^n, max). The jitter spreads many exporters (or many targets of one)
// that lost the same server, so they do not return in lockstep.
class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max, unsigned seed = std::random_device{}())
      : initial_(initial), max_(max), random_(seed) {}

  std::chrono::milliseconds NextDelay();
  void Reset() { failures_ = 0; }
  int failures() const { return failures_; }

 private:
  std::chrono::milliseconds initial_, max_;
  int failures_ = 0;
  std::mt19937 random_;
};

}  // namespace pgpulse::targets
