#include "exporter/http/session.h"

#include <algorithm>
#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>
#include <exception>
#include <limits>
#include <string_view>
#include <utility>

#include "exporter/http/beast_message.h"
#include "exporter/http/listen_address.h"
#include "exporter/http/tls_context.h"
#include "exporter/log/log.h"

namespace pgpulse::http {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;
using boost::system::error_code;

// Size of a single read while waiting for the next keep-alive request or draining a closing connection.
constexpr std::size_t kReadChunk = 4096;
// After an answer that ends the connection we read and discard what the client is still sending for a moment: closing
// a socket with unread data makes the kernel send RST, which can destroy the response before the client reads it.
constexpr std::chrono::milliseconds kLingerTimeout{1000};
constexpr std::size_t kMaxDrainBytes = std::size_t{64} * 1024;
// Over-cap connections are answered without reading their request, so they need only a little draining.
constexpr std::size_t kRejectDrainBytes = std::size_t{4} * 1024;

bool IsHttpError(const error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category();
}

}  // namespace

Server::Session::Session(std::shared_ptr<Server> server, tcp::socket socket, bool over_capacity)
    : server_(std::move(server)),
      stream_(server_->tls_ ? Stream(std::move(socket), server_->tls_->Current()) : Stream(std::move(socket))),
      timer_(stream_.get_executor()),
      over_capacity_(over_capacity) {
  error_code ec;
  const tcp::endpoint remote = stream_.socket().remote_endpoint(ec);
  remote_address_ = ec ? "unknown" : FormatEndpoint(remote);
  server_->sessions_.insert(this);
  if (over_capacity_) {
    ++server_->rejecting_;
  } else {
    ++server_->active_;
  }
}

Server::Session::~Session() {
  server_->sessions_.erase(this);
  SetWaiting(false);
  if (!counted_) return;
  if (over_capacity_) {
    --server_->rejecting_;
    server_->accept_resume_.cancel();  // room for the next 503, should the accept loop be waiting
  } else {
    --server_->active_;
  }
}

asio::awaitable<void> Server::Session::Run(std::shared_ptr<Session> self) {
  try {
    if (self->over_capacity_) {
      co_await self->Reject();
    } else {
      co_await self->Serve();
    }
  } catch (const std::exception& e) {
    // Only our own code can throw here (handler exceptions are caught in Serve), e.g. std::bad_alloc.
    log::Error("http connection failed", {{"remote", self->remote_address_}, {"error", e.what()}});
  }
  self->Close();
}

bool Server::Session::HasUnreadBytes() const {
  error_code ec;
  return stream_.socket().available(ec) > 0 && !ec;
}

// No log line: under an idle-socket attack this runs thousands of times a second (Server::evicted_connections).
void Server::Session::Evict() {
  SetWaiting(false);
  if (counted_ && !over_capacity_) {
    counted_ = false;
    --server_->active_;
  }
  Close();
}

void Server::Session::SetWaiting(bool waiting) {
  if (waiting == waiting_at_.has_value()) return;
  if (waiting) {
    waiting_at_ = server_->waiting_.insert(server_->waiting_.end(), this);
  } else {
    server_->waiting_.erase(*waiting_at_);
    waiting_at_.reset();
  }
}

void Server::Session::Close() {
  if (closed_) return;
  closed_ = true;
  ++timer_generation_;
  timer_.cancel();
  error_code ignored;
  stream_.socket().close(ignored);
}

asio::awaitable<void> Server::Session::Serve() {
  const ServerLimits& limits = server_->limits_;
  if (stream_.is_tls() && !co_await Handshake()) co_return;
  if (!stream_.is_tls()) {
    // ReadHeaderInPlainSight reads after a readiness wait, so bytes (or end of file, or an error) are there; the
    // socket is non-blocking all the same, so that a readiness that proved wrong means waiting again, never blocking
    // the event loop. Set once here rather than for every request.
    error_code ec;
    stream_.socket().non_blocking(true, ec);
    if (ec) co_return;
  }
  bool first = true;
  while (!closed_) {
    // Until its headers are in, a connection gives way to a newer one when the server is full (Server::AcceptLoop).
    SetWaiting(true);
    // Between keep-alive requests the client may think for idle_timeout. A new connection gets no idle allowance:
    // its first request must arrive within header_timeout, so silent connections cannot hog the connection cap.
    if (!first && buffer_.size() == 0) {
      Arm(limits.idle_timeout);
      const error_code ec = co_await AwaitRequestBytes();
      Disarm();
      if (ec) co_return;  // peer left, idle timeout or Stop(): there is no request to answer
    }
    first = false;

    RequestParser parser;
    parser.header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(limits.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
    parser.body_limit(static_cast<std::uint64_t>(limits.max_body_bytes));

    // One deadline for all the headers, so a client trickling bytes cannot hold the connection open for long.
    error_code ec;
    Arm(limits.header_timeout);
    if (stream_.is_tls()) {
      co_await bhttp::async_read_header(stream_, buffer_, parser, asio::redirect_error(asio::use_awaitable, ec));
    } else {
      ec = co_await ReadHeaderInPlainSight(parser);
    }
    if (!ec) SetWaiting(false);
    if (!ec && !HasUnambiguousFraming(parser.get())) {
      Disarm();
      // Where this request ends is uncertain, so nothing after it on the connection can be trusted either.
      if (co_await Write(PlainResponse(400, "bad request: Transfer-Encoding must be exactly \"chunked\"\n"), 11,
                         /*keep_alive=*/false, /*head=*/false)) {
        co_await LingeringClose(kMaxDrainBytes);
      }
      co_return;
    }
    if (!ec && !parser.is_done() && Expects100Continue(parser.get())) {
      // Without this, curl and others pause for a second before sending a body.
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      co_await asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                                 asio::redirect_error(asio::use_awaitable, ec));
    }
    if (!ec && !parser.is_done()) {
      Arm(limits.read_timeout);
      co_await bhttp::async_read(stream_, buffer_, parser, asio::redirect_error(asio::use_awaitable, ec));
    }
    Disarm();
    if (ec) {
      const int status = StatusForReadError(ec, parser.got_some() || buffer_.size() > 0);
      if (status == 0) co_return;
      const char* body = status == 431   ? "request header fields too large\n"
                         : status == 413 ? "request body too large\n"
                         : status == 408 ? "request timeout\n"
                                         : "bad request\n";
      // The parser's state is unknown after an error, so the connection cannot carry another request.
      if (co_await Write(PlainResponse(status, body), 11, /*keep_alive=*/false, /*head=*/false)) {
        co_await LingeringClose(kMaxDrainBytes);
      }
      co_return;
    }

    const bool keep_alive = parser.get().keep_alive();
    const bool head = parser.get().method() == bhttp::verb::head;
    const unsigned version = parser.get().version();
    Response response;
    try {
      response = co_await server_->handler_(MakeRequest(parser.release(), remote_address_));
    } catch (...) {
      // The message may quote a connection string or query, so it goes neither to the client nor to the log.
      log::Warn("http handler threw an exception", {{"remote", remote_address_}});
      response = PlainResponse(500, "internal error");
    }
    if (closed_) co_return;  // stopped while the handler ran
    if (!co_await Write(std::move(response), version, keep_alive, head)) co_return;
    if (!keep_alive) {
      co_await LingeringClose(kMaxDrainBytes);
      co_return;
    }
  }
}

asio::awaitable<error_code> Server::Session::AwaitRequestBytes() {
  error_code ec;
  if (stream_.is_tls()) {
    const std::size_t n =
        co_await stream_.async_read_some(buffer_.prepare(kReadChunk), asio::redirect_error(asio::use_awaitable, ec));
    buffer_.commit(n);
  } else {
    // Readiness only: the bytes stay in the socket, where HasUnreadBytes() sees them, until the session reads them.
    co_await stream_.socket().async_wait(tcp::socket::wait_read, asio::redirect_error(asio::use_awaitable, ec));
  }
  co_return ec;
}

asio::awaitable<error_code> Server::Session::ReadHeaderInPlainSight(RequestParser& parser) {
  tcp::socket& socket = stream_.socket();
  for (;;) {
    error_code ec;
    if (buffer_.size() > 0) {
      buffer_.consume(parser.put(buffer_.data(), ec));
      if (ec != bhttp::error::need_more) co_return ec;  // done with the header, or a parse or size error
    }
    co_await socket.async_wait(tcp::socket::wait_read, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return ec;
    const std::size_t ready = std::max<std::size_t>(socket.available(ec), 1);
    const std::size_t n = socket.read_some(buffer_.prepare(std::min(ready, server_->limits_.max_header_bytes + 1)), ec);
    buffer_.commit(n);
    if (ec == asio::error::would_block) continue;
    if (ec == asio::error::eof)
      co_return parser.got_some() || buffer_.size() > 0 ? bhttp::error::partial_message : bhttp::error::end_of_stream;
    if (ec) co_return ec;
  }
}

asio::awaitable<bool> Server::Session::Handshake() {
  // A handshake is part of getting the request in: same short deadline, and a full server may close it for a newer
  // connection, so TLS clients that stall mid-handshake cannot lock out a probe either.
  SetWaiting(true);
  error_code ec;
  Arm(server_->limits_.header_timeout);
  co_await stream_.tls().async_handshake(asio::ssl::stream_base::server, asio::redirect_error(asio::use_awaitable, ec));
  Disarm();
  // A refused client certificate or protocol version ends here; the client sees the TLS alert.
  if (ec) log::Debug("TLS handshake failed", {{"remote", remote_address_}, {"error", ec.message()}});
  co_return !ec;
}

int Server::Session::StatusForReadError(const error_code& ec, bool got_request_bytes) const {
  if (closed_) return 0;
  if (ec == asio::error::operation_aborted) return timed_out_ && got_request_bytes ? 408 : 0;
  if (ec == bhttp::error::header_limit) return 431;
  if (ec == bhttp::error::body_limit) return 413;
  // end_of_stream and partial_message mean the peer went away; socket errors mean the connection is gone.
  if (!IsHttpError(ec) || ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message) return 0;
  return 400;
}

asio::awaitable<bool> Server::Session::Write(Response response, unsigned version, bool keep_alive, bool head) {
  auto out = PrepareResponse(std::move(response), version, keep_alive, remote_address_);
  error_code ec;
  Arm(server_->limits_.write_timeout);
  if (head) {
    // Content-Length stays that of the GET body, as HEAD requires, but only the header goes out.
    bhttp::response_serializer<bhttp::string_body> serializer(out.message);
    co_await bhttp::async_write_header(stream_, serializer, asio::redirect_error(asio::use_awaitable, ec));
  } else {
    // Content-Length counts the parts: Beast writes the header and `body`, the parts follow in one gathered write.
    co_await bhttp::async_write(stream_, out.message, asio::redirect_error(asio::use_awaitable, ec));
    if (!ec && !out.parts.empty()) {
      co_await asio::async_write(stream_, out.parts, asio::redirect_error(asio::use_awaitable, ec));
    }
  }
  Disarm();
  co_return !ec;
}

asio::awaitable<void> Server::Session::Reject() {
  // A plain-text 503 means nothing to a TLS client, and a handshake would spend what the cap is there to save.
  if (stream_.is_tls()) co_return;
  const std::string& response = OverCapacityResponse();
  error_code ec;
  Arm(std::min(server_->limits_.write_timeout, kLingerTimeout));
  co_await asio::async_write(stream_, asio::buffer(response), asio::redirect_error(asio::use_awaitable, ec));
  Disarm();
  if (!ec) co_await LingeringClose(kRejectDrainBytes);
}

// Half-closes, then discards input until the client closes too (or a short time or byte budget runs out), so our
// close does not turn into an RST that could destroy the response in the client's receive buffer.
asio::awaitable<void> Server::Session::LingeringClose(std::size_t max_bytes) {
  SetWaiting(!over_capacity_);  // the answer is out: a newcomer may cut the draining short
  error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (ec) co_return;
  std::array<char, kReadChunk> scratch;
  std::size_t drained = 0;
  Arm(std::min(server_->limits_.read_timeout, kLingerTimeout));
  while (!ec && drained < max_bytes) {
    drained +=
        co_await stream_.socket().async_read_some(asio::buffer(scratch), asio::redirect_error(asio::use_awaitable, ec));
  }
  Disarm();
}

// Socket deadlines: when the timer fires it cancels the pending socket operation instead of closing the socket,
// so a timed-out request can still be answered with 408. The generation number makes a stale expiry harmless
// even when its handler was already queued before Disarm() ran.
void Server::Session::Arm(std::chrono::milliseconds timeout) {
  if (closed_) return;
  const std::uint64_t generation = ++timer_generation_;
  timed_out_ = false;
  timer_.expires_after(timeout);
  timer_.async_wait([self = shared_from_this(), generation](const error_code& ec) {
    if (ec || generation != self->timer_generation_) return;
    self->timed_out_ = true;
    error_code ignored;
    self->stream_.socket().cancel(ignored);
  });
}

void Server::Session::Disarm() {
  ++timer_generation_;
  timer_.cancel();
}

}  // namespace pgpulse::http
