#include "exporter/pg/socket_wait.h"

#include <poll.h>

#include <boost/asio/async_result.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>

namespace pgpulse::pg {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

bool ReadyNow(int fd, SocketInterest interest) {
  pollfd entry{};
  entry.fd = fd;
  entry.events = static_cast<short>((interest != SocketInterest::kWrite ? POLLIN : 0) |
                                    (interest != SocketInterest::kRead ? POLLOUT : 0));
  // Errors and hang-ups count as ready: libpq reports them on its next call, which is what the caller does next.
  return ::poll(&entry, 1, 0) > 0;
}

// Starts a read wait and a write wait; whichever completes first completes the operation and cancels the other.
// Asio 1.18 has no parallel_group, hence the small shared state.
template <typename Handler>
void WaitEither(asio::posix::stream_descriptor& socket, Handler handler) {
  struct State {
    explicit State(Handler h) : handler(std::move(h)) {}
    Handler handler;
    bool done = false;
  };
  auto state = std::make_shared<State>(std::move(handler));
  auto complete = [state, &socket](const error_code& ec) {
    if (state->done) return;
    state->done = true;
    if (!ec) socket.cancel();
    std::move(state->handler)(ec);
  };
  socket.async_wait(asio::posix::stream_descriptor::wait_read, complete);
  socket.async_wait(asio::posix::stream_descriptor::wait_write, complete);
}

}  // namespace

asio::awaitable<error_code> WaitSocket(asio::posix::stream_descriptor& socket, SocketInterest interest) {
  if (!socket.is_open()) co_return asio::error::bad_descriptor;
  if (ReadyNow(socket.native_handle(), interest)) co_return error_code{};
  error_code ec;
  if (interest == SocketInterest::kReadOrWrite) {
    auto token = asio::redirect_error(asio::use_awaitable, ec);
    co_await asio::async_initiate<decltype(token), void(error_code)>(
        [&socket](auto handler) { WaitEither(socket, std::move(handler)); }, token);
  } else {
    auto type = interest == SocketInterest::kRead ? asio::posix::stream_descriptor::wait_read
                                                  : asio::posix::stream_descriptor::wait_write;
    co_await socket.async_wait(type, asio::redirect_error(asio::use_awaitable, ec));
  }
  co_return ec;
}

}  // namespace pgpulse::pg
