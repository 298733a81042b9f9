// The Server's own part: listening (dual stack where the host has IPv6), accepting within the connection cap, and
// stopping. Each accepted connection is a Session (session.cc).
#include "exporter/http/server.h"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <stdexcept>
#include <system_error>

#include "exporter/http/listen_address.h"
#include "exporter/http/session.h"
#include "exporter/http/tls_context.h"
#include "exporter/log/log.h"

namespace pgpulse::http {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

// On EMFILE and friends, accepting again at once would spin the only thread; live connections need time to end.
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};

void Listen(tcp::acceptor& acceptor, const tcp::endpoint& endpoint, bool dual_stack, error_code& ec) {
  error_code ignored;
  acceptor.close(ignored);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec && dual_stack) acceptor.set_option(asio::ip::v6_only(false), ec);
  // Lets a restarted exporter bind while connections of its previous life sit in TIME_WAIT.
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) acceptor.close(ignored);
}

// Errors meaning "this host has no usable IPv6", as opposed to e.g. a port in use, which IPv4 would not fix.
bool IsNoIpv6(const error_code& ec) {
  return ec == asio::error::address_family_not_supported || ec == asio::error::no_protocol_option ||
         ec == asio::error::operation_not_supported || ec == asio::error::invalid_argument ||
         ec == boost::system::errc::address_not_available || ec == boost::system::errc::protocol_not_supported;
}

bool IsResourceExhaustion(const error_code& ec) {
  return ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space || ec == asio::error::no_memory ||
         ec == boost::system::errc::too_many_files_open_in_system;
}

void LogCoroutineFailure(std::exception_ptr error) {
  if (!error) return;
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    log::Error("http connection failed", {{"error", e.what()}});
  } catch (...) {
    log::Error("http connection failed", {{"error", "non-standard exception"}});
  }
}

}  // namespace

Server::Server(asio::io_context& io, tcp::endpoint endpoint, ServerLimits limits, Handler handler)
    : io_(io),
      endpoint_(std::move(endpoint)),
      limits_(limits),
      handler_(std::move(handler)),
      acceptor_(io),
      accept_resume_(io) {}

Server::~Server() = default;

void Server::Start() {
  if (started_ || stopped_) throw std::logic_error("http::Server::Start may be called only once, before Stop");
  const asio::ip::address& address = endpoint_.address();
  const bool dual_stack = address.is_v6() && address.is_unspecified();
  tcp::endpoint bound = endpoint_;
  error_code ec;
  Listen(acceptor_, bound, dual_stack, ec);
  if (ec && dual_stack && IsNoIpv6(ec)) {
    log::Info("no dual-stack IPv6 listener, listening on IPv4 only",
              {{"port", std::to_string(endpoint_.port())}, {"error", ec.message()}});
    bound = tcp::endpoint(asio::ip::address_v4::any(), endpoint_.port());
    Listen(acceptor_, bound, false, ec);
  }
  if (ec) throw std::system_error(ec, "http: cannot listen on " + FormatEndpoint(bound));
  port_ = acceptor_.local_endpoint().port();
  started_ = true;
  asio::co_spawn(io_, AcceptLoop(shared_from_this()), LogCoroutineFailure);
}

void Server::Stop() {
  asio::dispatch(io_, [self = shared_from_this()] { self->StopNow(); });
}

void Server::StopNow() {
  if (stopped_) return;
  stopped_ = true;
  error_code ignored;
  acceptor_.close(ignored);
  accept_resume_.cancel();
  // Close() only cancels I/O, sessions unregister later from their destructors; a copy keeps the loop independent.
  const std::vector<Session*> sessions(sessions_.begin(), sessions_.end());
  for (Session* session : sessions) session->Close();
}

uint16_t Server::port() const { return port_.load(); }

std::size_t Server::active_connections() const { return active_.load(); }

std::uint64_t Server::evicted_connections() const { return evicted_.load(); }

bool Server::EvictOldestWaiting() {
  // Oldest first, be it idle, silent or trickling its headers. A connection whose request bytes sit unread in the
  // socket is about to be served and is never closed under its client: in a flood of real requests, the newcomer
  // gets the 503 instead.
  const auto victim =
      std::find_if(waiting_.begin(), waiting_.end(), [](const Session* session) { return !session->HasUnreadBytes(); });
  if (victim == waiting_.end()) return false;
  (*victim)->Evict();  // leaves waiting_ and the active count at once, so the newcomer fits
  ++evicted_;
  return true;
}

asio::awaitable<void> Server::AcceptLoop(std::shared_ptr<Server> self) {
  asio::steady_timer backoff(self->io_);
  const std::size_t max_rejecting = std::max<std::size_t>(self->limits_.max_connections, 1);
  while (!self->stopped_) {
    error_code ec;
    // Answering with 503 takes a coroutine and a socket for a moment, so under a flood those are bounded too. Rather
    // than accept and drop a connection without a word, stop accepting: the kernel's listen backlog holds newcomers
    // until a 503 is out (the ending Session cancels the wait), and each is then served or refused in turn.
    while (self->rejecting_ >= max_rejecting && !self->stopped_) {
      self->accept_resume_.expires_at(asio::steady_timer::time_point::max());
      co_await self->accept_resume_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    if (self->stopped_) co_return;
    tcp::socket socket = co_await self->acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (self->stopped_ || !self->acceptor_.is_open()) co_return;  // the socket, if any, closes as it goes out of scope
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      if (IsResourceExhaustion(ec)) {
        log::Warn("http accept failed, retrying shortly", {{"error", ec.message()}});
        backoff.expires_after(kAcceptRetryDelay);
        co_await backoff.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      }
      continue;  // e.g. ECONNABORTED: that client gave up, the next one may not
    }
    const bool over_capacity = self->active_.load() >= self->limits_.max_connections && !self->EvictOldestWaiting();
    socket.set_option(tcp::no_delay(true), ec);  // best effort; a failure only costs latency
    auto session = std::make_shared<Session>(self, std::move(socket), over_capacity);
    asio::co_spawn(self->io_, Session::Run(std::move(session)), LogCoroutineFailure);
  }
}

}  // namespace pgpulse::http
