#pragma once

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>

namespace pgpulse::async {

using Clock = std::chrono::steady_clock;

// Arms a timer for the lifetime of one operation. When the deadline passes, `on_expire` runs (typically cancelling
// a socket wait) and expired() turns true, so the operation can tell a timeout from other aborts. Asio 1.18 has no
// per-operation cancellation slots, so this is how every wait in pgpulse gets a bound.
class DeadlineGuard {
 public:
  DeadlineGuard(const boost::asio::any_io_executor& executor, Clock::time_point deadline,
                std::function<void()> on_expire)
      : timer_(executor, deadline), state_(std::make_shared<State>()) {
    state_->on_expire = std::move(on_expire);
    // The handler holds the shared state, not `this`: the guard may be gone by the time an aborted wait completes.
    timer_.async_wait([state = state_](const boost::system::error_code& ec) {
      if (ec || state->disarmed) return;
      state->expired = true;
      state->on_expire();
    });
  }
  ~DeadlineGuard() { Disarm(); }
  DeadlineGuard(const DeadlineGuard&) = delete;
  DeadlineGuard& operator=(const DeadlineGuard&) = delete;

  bool expired() const { return state_->expired || Clock::now() >= timer_.expiry(); }
  void Disarm() {
    state_->disarmed = true;
    timer_.cancel();
  }

 private:
  struct State {
    std::function<void()> on_expire;
    bool expired = false;
    bool disarmed = false;
  };
  boost::asio::steady_timer timer_;
  std::shared_ptr<State> state_;
};

}  // namespace pgpulse::async
