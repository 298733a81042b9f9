// One client connection of the Server: reading requests under deadlines, keep-alive, writing answers, closing so that
// the answer survives. Private to exporter/http/*.cc, because it brings in Beast.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <string>

#include "exporter/http/server.h"
#include "exporter/http/stream.h"

namespace pgpulse::http {

// The coroutine frame and every pending timer handler hold a shared_ptr to the session, and it holds one to the
// Server, so nothing it references can disappear while it runs. It counts itself in the Server's sessions (for
// Stop()) and in its active connections, or, over capacity, in those being rejected, for its whole lifetime.
class Server::Session : public std::enable_shared_from_this<Session> {
 public:
  // With `over_capacity` the session answers 503 without reading a request, then closes.
  Session(std::shared_ptr<Server> server, boost::asio::ip::tcp::socket socket, bool over_capacity);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Static with the owner as a parameter: a coroutine copies its parameters into its frame, so the session lives at
  // least as long as the frame even before the coroutine first runs.
  static boost::asio::awaitable<void> Run(std::shared_ptr<Session> self);

  // Ends all I/O at once; the coroutine notices on its next step. Used by Server::Stop().
  void Close();
  // Whether bytes have arrived that the session has not read yet: a request that may already be complete.
  bool HasUnreadBytes() const;
  // Close() for a connection that waited longest for a request when a new one needs its place: it stops counting
  // as active at once, not when its coroutine ends.
  void Evict();

 private:
  using RequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

  boost::asio::awaitable<void> Serve();
  // Waits, under the armed deadline, until a keep-alive connection's next request begins to arrive.
  boost::asio::awaitable<boost::system::error_code> AwaitRequestBytes();
  // Plain TCP, on a socket Serve() made non-blocking: reads and parses the request header. Bytes leave the socket only
  // inside this coroutine's own steps, never in a completion still queued, so at any moment a waiting connection's
  // request is either visible in the socket (HasUnreadBytes) or already parsed: the eviction at the cap cannot mistake
  // a complete request for an idle connection. TLS reads through Beast, since its bytes are records, not the request.
  boost::asio::awaitable<boost::system::error_code> ReadHeaderInPlainSight(RequestParser& parser);
  // TLS only: the handshake, under the read deadline. Returns whether it succeeded.
  boost::asio::awaitable<bool> Handshake();
  // The status to answer a failed read with, or 0 to close silently because nobody is listening.
  int StatusForReadError(const boost::system::error_code& ec, bool got_request_bytes) const;
  // Returns whether the whole response was written.
  boost::asio::awaitable<bool> Write(Response response, unsigned version, bool keep_alive, bool head);
  boost::asio::awaitable<void> Reject();
  boost::asio::awaitable<void> LingeringClose(std::size_t max_bytes);
  void Arm(std::chrono::milliseconds timeout);
  void Disarm();
  // Enters (at the back) or leaves the Server's list of connections waiting for a request, the eviction order.
  void SetWaiting(bool waiting);

  const std::shared_ptr<Server> server_;
  Stream stream_;  // plain TCP, or TLS when the server has a TLS context
  boost::asio::steady_timer timer_;
  boost::beast::flat_buffer buffer_;  // bytes read but not yet parsed, e.g. a pipelined next request
  std::string remote_address_;
  const bool over_capacity_;
  bool counted_ = true;  // in the Server's active count (or, over capacity, its rejecting count)
  std::optional<std::list<Session*>::iterator> waiting_at_;
  std::uint64_t timer_generation_ = 0;
  bool timed_out_ = false;
  bool closed_ = false;
};

}  // namespace pgpulse::http
