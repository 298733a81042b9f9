// A small HTTP/1.1 server for the exporter's endpoints (/metrics, health checks).
//
// Everything runs on the process's single io_context thread: every connection is its own coroutine, so a slow
// client or a slow handler only ever suspends its own connection.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "exporter/http/listen_address.h"

namespace pgpulse::http {

class TlsContextSource;

struct Request {
  std::string method;                          // "GET", "POST", ...
  std::string path;                            // target without the query string, e.g. "/metrics"
  std::map<std::string, std::string> query;    // decoded query parameters (percent-decoding, '+' as space)
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string remote_address;  // "ip:port" of the peer, for logs
};

struct Response {
  Response() = default;
  Response(int code, std::string type, std::string text, std::vector<std::pair<std::string, std::string>> extra = {})
      : status(code), content_type(std::move(type)), body(std::move(text)), headers(std::move(extra)) {}

  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  // More body, sent after `body` straight from where it lies (megabytes of cached metrics text need no copy into a
  // body string per scrape). `parts_owner` keeps the memory the parts point into alive until the write ends.
  std::vector<std::string_view> body_parts;
  std::shared_ptr<const void> parts_owner;
};

// Runs on the io_context thread; it must not block, only co_await. It is called through the Server, which stays
// alive while any request is in flight, so a coroutine lambda may safely use its own captures.
using Handler = std::function<boost::asio::awaitable<Response>(Request)>;

struct ServerLimits {
  std::size_t max_header_bytes = std::size_t{8} * 1024;
  std::size_t max_body_bytes = std::size_t{64} * 1024;
  // A new connection's request line and headers must arrive within this; so must a keep-alive request's, from its
  // first byte. Short, because real clients send their headers at once and a slow trickle is an attack (slowloris).
  std::chrono::milliseconds header_timeout{5000};
  std::chrono::milliseconds read_timeout{10000};  // the body, once the headers are in
  // Separate from the reads: a large /metrics answer to a slow scraper may take a while.
  std::chrono::milliseconds write_timeout{30000};
  std::chrono::milliseconds idle_timeout{60000};  // keep-alive wait for the next request
  // At this many connections a new one closes the connection that has waited longest for a request (idle, new, or
  // still sending headers), so idle or trickling sockets can never lock out a probe. Only when every connection is
  // busy with a request does the new one get 503.
  std::size_t max_connections = 64;
};

// Must be owned by a std::shared_ptr: the accept loop and every connection keep the Server alive until they end,
// so dropping the last outside reference does not stop it; call Stop().
class Server : public std::enable_shared_from_this<Server> {
 public:
  Server(boost::asio::io_context& io, boost::asio::ip::tcp::endpoint endpoint, ServerLimits limits, Handler handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds (throws std::system_error with the address in the message on failure) and starts accepting. Call once,
  // before or while the io_context runs.
  void Start();
  // Closes the acceptor and every live connection so that io_context::run() returns once in-flight handlers finish.
  // Safe from any thread: from the io_context's thread it acts immediately, otherwise it is posted there.
  void Stop();
  // Serves TLS with contexts from `tls` (nullptr: plain HTTP). Call before Start().
  void SetTls(std::shared_ptr<TlsContextSource> tls) { tls_ = std::move(tls); }
  uint16_t port() const;  // the bound port (useful with port 0); 0 before Start()
  std::size_t active_connections() const;
  std::uint64_t evicted_connections() const;  // closed to make room for a newer one, since Start()

 private:
  class Session;

  static boost::asio::awaitable<void> AcceptLoop(std::shared_ptr<Server> self);
  void StopNow();
  // At the cap, closes the connection waiting longest for a request; false when every connection is busy.
  bool EvictOldestWaiting();

  boost::asio::io_context& io_;
  const boost::asio::ip::tcp::endpoint endpoint_;
  const ServerLimits limits_;
  const Handler handler_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::shared_ptr<TlsContextSource> tls_;
  bool started_ = false;
  bool stopped_ = false;
  // Every Session registers itself for its whole lifetime so Stop() can close it; only touched on the io thread.
  std::unordered_set<Session*> sessions_;
  // Sessions waiting for a request (new, keep-alive idle, or mid-headers), oldest first; only touched on the io thread.
  std::list<Session*> waiting_;
  std::size_t rejecting_ = 0;  // over-cap connections still being answered with 503
  // The accept loop waits on this while rejecting_ is at its bound; a rejecting Session's end cancels it.
  boost::asio::steady_timer accept_resume_;
  // Atomic because tests and the lead's status code read these from other threads.
  std::atomic<std::size_t> active_{0};
  std::atomic<std::uint64_t> evicted_{0};
  std::atomic<uint16_t> port_{0};
};

}  // namespace pgpulse::http
