#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

namespace pgpulse::testing {

// Runs one coroutine on `io` to completion and returns its result (or rethrows its exception). Test-only: the
// exporter itself never waits like this.
template <typename T>
T RunAsync(boost::asio::io_context& io, boost::asio::awaitable<T> task) {
  auto future = boost::asio::co_spawn(io, std::move(task), boost::asio::use_future);
  io.restart();
  io.run();
  return future.get();
}

}  // namespace pgpulse::testing
