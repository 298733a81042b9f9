#include "exporter/http/server.h"

#include <algorithm>
#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <exception>
#include <limits>
#include <stdexcept>
#include <string_view>
#include <system_error>

#include "exporter/http/case_insensitive.h"
#include "exporter/http/listen_address.h"
#include "exporter/http/query_string.h"
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
// On EMFILE and friends, accepting again at once would spin the only thread; live connections need time to end.
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};

std::string ToString(boost::beast::string_view text) { return std::string(text.data(), text.size()); }

std::string Lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// "ip:port", with brackets for IPv6 and IPv4-mapped peers (seen on a dual-stack socket) shown as plain IPv4.
std::string FormatEndpoint(const tcp::endpoint& endpoint) {
  asio::ip::address address = endpoint.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  }
  const std::string port = std::to_string(endpoint.port());
  return address.is_v6() ? "[" + address.to_string() + "]:" + port : address.to_string() + ":" + port;
}

Request MakeRequest(bhttp::request<bhttp::string_body>&& message, const std::string& remote_address) {
  Request request;
  // HEAD must behave exactly like GET, so routers written for "GET" serve it too; the body is dropped on the way out.
  request.method = message.method() == bhttp::verb::head ? "GET" : ToString(message.method_string());
  const std::string_view target(message.target().data(), message.target().size());
  const std::size_t path_end = target.find_first_of("?#");
  request.path = std::string(target.substr(0, path_end));
  if (path_end != std::string_view::npos && target[path_end] == '?') {
    const std::string_view rest = target.substr(path_end + 1);
    request.query = ParseQueryString(rest.substr(0, rest.find('#')));
  }
  for (const auto& field : message) {
    // Repeated fields are combined as RFC 9110 section 5.3 allows, so no value is silently lost.
    auto [it, inserted] = request.headers.emplace(Lowercase(ToString(field.name_string())), ToString(field.value()));
    if (!inserted) it->second += ", " + ToString(field.value());
  }
  request.body = std::move(message.body());
  request.remote_address = remote_address;
  return request;
}

bool IsToken(std::string_view text) {
  static constexpr std::string_view kSpecials = "!#$%&'*+-.^_`|~";
  return !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) {
    return std::isalnum(c) || kSpecials.find(static_cast<char>(c)) != std::string_view::npos;
  });
}

// Builds the wire message, taking the response's body; false if the handler's response cannot be sent as given (a
// bug in the handler).
bool BuildMessage(Response& response, unsigned version, bool keep_alive, bhttp::response<bhttp::string_body>& out) {
  // 1xx would leave the client waiting for a final answer, and Beast rejects codes above 999.
  if (response.status < 200 || response.status > 599) return false;
  out.result(static_cast<unsigned>(response.status));
  out.version(version);
  out.set(bhttp::field::server, "pgpulse");
  if (!response.content_type.empty()) out.set(bhttp::field::content_type, response.content_type);
  for (const auto& [name, value] : response.headers) {
    // A CR or LF in a header would let a handler (or data it echoes) split the response.
    if (!IsToken(name) || value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) return false;
    // The server owns message framing; a handler overriding it would corrupt the connection.
    if (EqualsIgnoreCase(name, "content-length") || EqualsIgnoreCase(name, "transfer-encoding") ||
        EqualsIgnoreCase(name, "connection")) {
      return false;
    }
    if (EqualsIgnoreCase(name, "content-type") || EqualsIgnoreCase(name, "server")) {
      out.set(name, value);
    } else {
      out.insert(name, value);
    }
  }
  out.keep_alive(keep_alive);
  if (response.status == 204 || response.status == 304) return true;  // these never carry a body
  std::size_t length = response.body.size();
  for (const auto& part : response.body_parts) length += part.size();
  out.content_length(length);
  out.body() = std::move(response.body);
  return true;
}

Response PlainResponse(int status, std::string body) {
  Response response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

const std::string& OverCapacityResponse() {
  static const std::string response = [] {
    const std::string body = "too many connections\n";
    return "HTTP/1.1 503 Service Unavailable\r\nServer: pgpulse\r\nContent-Type: text/plain; charset=utf-8\r\n"
           "Content-Length: " +
           std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  }();
  return response;
}

bool IsHttpError(const error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category();
}

bool Expects100Continue(const bhttp::request<bhttp::string_body>& message) {
  const auto expect = message[bhttp::field::expect];
  return message.version() >= 11 && EqualsIgnoreCase(std::string_view(expect.data(), expect.size()), "100-continue");
}

// Whether the request's framing is one that every HTTP implementation reads alike. A proxy in front of pgpulse that
// reuses its connection for several clients must agree with pgpulse on where a request ends; otherwise the rest of
// one request is taken as the next (request smuggling). Beast reads "gzip, chunked" as chunked but "chunked, chunked"
// or "xchunked" as no body at all, and other servers differ, so the only Transfer-Encoding accepted is a single
// "chunked" without a Content-Length (Beast itself refuses the pairs it sees as conflicting).
bool HasUnambiguousFraming(const bhttp::request<bhttp::string_body>& message) {
  const auto encodings = message.equal_range(bhttp::field::transfer_encoding);
  if (encodings.first == encodings.second) return true;
  if (std::next(encodings.first) != encodings.second) return false;
  const auto value = encodings.first->value();
  return EqualsIgnoreCase(std::string_view(value.data(), value.size()), "chunked") &&
         message.count(bhttp::field::content_length) == 0;
}

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

// One client connection. The coroutine frame and every pending timer handler hold a shared_ptr to it, and it holds
// one to the Server, so nothing it references can disappear while it runs.
class Server::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(std::shared_ptr<Server> server, tcp::socket socket, bool over_capacity)
      : server_(std::move(server)),
        socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        over_capacity_(over_capacity) {
    error_code ec;
    const tcp::endpoint remote = socket_.remote_endpoint(ec);
    remote_address_ = ec ? "unknown" : FormatEndpoint(remote);
    server_->sessions_.insert(this);
    if (over_capacity_) {
      ++server_->rejecting_;
    } else {
      ++server_->active_;
    }
  }

  ~Session() {
    server_->sessions_.erase(this);
    if (over_capacity_) {
      --server_->rejecting_;
    } else {
      --server_->active_;
    }
  }

  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Static with the owner as a parameter: a coroutine copies its parameters into its frame, so the session lives at
  // least as long as the frame even before the coroutine first runs.
  static asio::awaitable<void> Run(std::shared_ptr<Session> self) {
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

  // Ends all I/O at once; the coroutine notices on its next step. Used by Server::Stop().
  void Close() {
    if (closed_) return;
    closed_ = true;
    ++timer_generation_;
    timer_.cancel();
    error_code ignored;
    socket_.close(ignored);
  }

 private:
  asio::awaitable<void> Serve() {
    const ServerLimits& limits = server_->limits_;
    bool first = true;
    while (!closed_) {
      // Between keep-alive requests the client may think for idle_timeout. A new connection gets no idle allowance:
      // its first request must arrive within read_timeout, so silent connections cannot hog the connection cap.
      if (!first && buffer_.size() == 0) {
        error_code ec;
        Arm(limits.idle_timeout);
        const std::size_t n = co_await socket_.async_read_some(buffer_.prepare(kReadChunk),
                                                               asio::redirect_error(asio::use_awaitable, ec));
        Disarm();
        if (ec) co_return;  // peer left, idle timeout or Stop(): there is no request to answer
        buffer_.commit(n);
      }
      first = false;

      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(
          std::min<std::size_t>(limits.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
      parser.body_limit(static_cast<std::uint64_t>(limits.max_body_bytes));

      // One deadline for the whole request, so a client trickling bytes cannot hold the connection open forever.
      error_code ec;
      Arm(limits.read_timeout);
      co_await bhttp::async_read_header(socket_, buffer_, parser, asio::redirect_error(asio::use_awaitable, ec));
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
        co_await asio::async_write(socket_, asio::buffer(kContinue.data(), kContinue.size()),
                                   asio::redirect_error(asio::use_awaitable, ec));
      }
      if (!ec && !parser.is_done()) {
        co_await bhttp::async_read(socket_, buffer_, parser, asio::redirect_error(asio::use_awaitable, ec));
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

  // The status to answer a failed read with, or 0 to close silently because nobody is listening.
  int StatusForReadError(const error_code& ec, bool got_request_bytes) const {
    if (closed_) return 0;
    if (ec == asio::error::operation_aborted) return timed_out_ && got_request_bytes ? 408 : 0;
    if (ec == bhttp::error::header_limit) return 431;
    if (ec == bhttp::error::body_limit) return 413;
    // end_of_stream and partial_message mean the peer went away; socket errors mean the connection is gone.
    if (!IsHttpError(ec) || ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message) return 0;
    return 400;
  }

  // The wire message, and the body parts that follow it with what keeps them alive.
  struct Outgoing {
    bhttp::response<bhttp::string_body> message;
    std::vector<asio::const_buffer> parts;
    std::shared_ptr<const void> parts_owner;
  };

  Outgoing Prepare(Response response, unsigned version, bool keep_alive) const {
    Outgoing out;
    if (!BuildMessage(response, version, keep_alive, out.message)) {
      log::Warn("http handler returned an unusable response (bad status or header)",
                {{"remote", remote_address_}, {"status", std::to_string(response.status)}});
      out.message = {};
      auto fallback = PlainResponse(500, "internal error");
      BuildMessage(fallback, version, keep_alive, out.message);
      return out;
    }
    out.parts.reserve(response.body_parts.size());
    for (const auto& part : response.body_parts) out.parts.emplace_back(part.data(), part.size());
    out.parts_owner = std::move(response.parts_owner);
    return out;
  }

  // Returns whether the whole response was written.
  asio::awaitable<bool> Write(Response response, unsigned version, bool keep_alive, bool head) {
    auto out = Prepare(std::move(response), version, keep_alive);
    error_code ec;
    Arm(server_->limits_.write_timeout);
    if (head) {
      // Content-Length stays that of the GET body, as HEAD requires, but only the header goes out.
      bhttp::response_serializer<bhttp::string_body> serializer(out.message);
      co_await bhttp::async_write_header(socket_, serializer, asio::redirect_error(asio::use_awaitable, ec));
    } else {
      // Content-Length counts the parts: Beast writes the header and `body`, the parts follow in one gathered write.
      co_await bhttp::async_write(socket_, out.message, asio::redirect_error(asio::use_awaitable, ec));
      if (!ec && !out.parts.empty()) {
        co_await asio::async_write(socket_, out.parts, asio::redirect_error(asio::use_awaitable, ec));
      }
    }
    Disarm();
    co_return !ec;
  }

  asio::awaitable<void> Reject() {
    const std::string& response = OverCapacityResponse();
    error_code ec;
    Arm(std::min(server_->limits_.write_timeout, kLingerTimeout));
    co_await asio::async_write(socket_, asio::buffer(response), asio::redirect_error(asio::use_awaitable, ec));
    Disarm();
    if (!ec) co_await LingeringClose(kRejectDrainBytes);
  }

  // Half-closes, then discards input until the client closes too (or a short time or byte budget runs out), so our
  // close does not turn into an RST that could destroy the response in the client's receive buffer.
  asio::awaitable<void> LingeringClose(std::size_t max_bytes) {
    error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    if (ec) co_return;
    std::array<char, kReadChunk> scratch;
    std::size_t drained = 0;
    Arm(std::min(server_->limits_.read_timeout, kLingerTimeout));
    while (!ec && drained < max_bytes) {
      drained += co_await socket_.async_read_some(asio::buffer(scratch), asio::redirect_error(asio::use_awaitable, ec));
    }
    Disarm();
  }

  // Socket deadlines: when the timer fires it cancels the pending socket operation instead of closing the socket,
  // so a timed-out request can still be answered with 408. The generation number makes a stale expiry harmless
  // even when its handler was already queued before Disarm() ran.
  void Arm(std::chrono::milliseconds timeout) {
    if (closed_) return;
    const std::uint64_t generation = ++timer_generation_;
    timed_out_ = false;
    timer_.expires_after(timeout);
    timer_.async_wait([self = shared_from_this(), generation](const error_code& ec) {
      if (ec || generation != self->timer_generation_) return;
      self->timed_out_ = true;
      error_code ignored;
      self->socket_.cancel(ignored);
    });
  }

  void Disarm() {
    ++timer_generation_;
    timer_.cancel();
  }

  const std::shared_ptr<Server> server_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  boost::beast::flat_buffer buffer_;  // bytes read but not yet parsed, e.g. a pipelined next request
  std::string remote_address_;
  const bool over_capacity_;
  std::uint64_t timer_generation_ = 0;
  bool timed_out_ = false;
  bool closed_ = false;
};

Server::Server(asio::io_context& io, tcp::endpoint endpoint, ServerLimits limits, Handler handler)
    : io_(io), endpoint_(std::move(endpoint)), limits_(limits), handler_(std::move(handler)), acceptor_(io) {}

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
  // Close() only cancels I/O, sessions unregister later from their destructors; a copy keeps the loop independent.
  const std::vector<Session*> sessions(sessions_.begin(), sessions_.end());
  for (Session* session : sessions) session->Close();
}

uint16_t Server::port() const { return port_.load(); }

std::size_t Server::active_connections() const { return active_.load(); }

asio::awaitable<void> Server::AcceptLoop(std::shared_ptr<Server> self) {
  asio::steady_timer backoff(self->io_);
  while (!self->stopped_) {
    error_code ec;
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
    const bool over_capacity = self->active_.load() >= self->limits_.max_connections;
    // Answering with 503 takes a coroutine and a socket for a moment; under a flood even that must be bounded.
    if (over_capacity && self->rejecting_ >= std::max<std::size_t>(self->limits_.max_connections, 1)) continue;
    socket.set_option(tcp::no_delay(true), ec);  // best effort; a failure only costs latency
    auto session = std::make_shared<Session>(self, std::move(socket), over_capacity);
    asio::co_spawn(self->io_, Session::Run(std::move(session)), LogCoroutineFailure);
  }
}

}  // namespace pgpulse::http
