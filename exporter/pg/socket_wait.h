#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/system/error_code.hpp>

namespace pgpulse::pg {

enum class SocketInterest { kRead, kWrite, kReadOrWrite };

// Waits until libpq's socket is ready for `interest`. Returns an empty error code when ready, operation_aborted when
// the descriptor's waits were cancelled (a deadline).
//
// Asio's epoll reactor is edge-triggered and never completes a wait speculatively, while libpq may leave bytes in
// the kernel buffer after one read. So readiness is first checked with a zero-timeout poll(), which never blocks;
// only a socket that is not ready now is handed to the reactor.
boost::asio::awaitable<boost::system::error_code> WaitSocket(boost::asio::posix::stream_descriptor& socket,
                                                             SocketInterest interest);

}  // namespace pgpulse::pg
