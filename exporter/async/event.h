#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>
#include <vector>

#include "exporter/async/deadline.h"

namespace pgpulse::async {

// A one-shot broadcast: any number of coroutines wait, Set() wakes them all. Each waiter has its own deadline,
// so one impatient waiter does not wake the others. Single-threaded use only (pgpulse runs one io_context thread).
class Event {
 public:
  // The waiters' timers run on `executor`. (Asking the coroutine for it, co_await this_coro::executor, works as well,
  // but clang-analyzer 14 follows that into Asio's frame internals and reports a false uninitialised pointer.)
  explicit Event(boost::asio::any_io_executor executor) : executor_(std::move(executor)) {}

  // True when the event was set, false when the deadline came first.
  boost::asio::awaitable<bool> Wait(Clock::time_point deadline) {
    if (set_) co_return true;
    auto timer = std::make_shared<boost::asio::steady_timer>(executor_, deadline);
    waiters_.push_back(timer);
    boost::system::error_code ec;
    co_await timer->async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    co_return set_;
  }

  void Set() {
    set_ = true;
    for (auto& timer : waiters_) timer->cancel();
    waiters_.clear();
  }

  bool is_set() const { return set_; }

 private:
  boost::asio::any_io_executor executor_;
  bool set_ = false;
  std::vector<std::shared_ptr<boost::asio::steady_timer>> waiters_;
};

}  // namespace pgpulse::async
