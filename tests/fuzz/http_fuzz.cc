// Raw bytes sent to the real Server (server.cc and its Session, session.cc) over a loopback TCP connection: Beast's
// request_parser with the server's limits, the framing check, MakeRequest, the query-string parser, and the writing
// of the answer, exactly as a client reaches them. The client then half-closes, reads whatever comes back and closes;
// each input runs until the server has let go of the connection, so inputs do not overlap.
//
// Besides crashes, leaks and hangs it checks what the handler is given (a path without the query, lower-case header
// names) and what goes out: the handler echoes query parameters into a response header, and no input may turn that
// into a header line of the attacker's choosing.
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "exporter/http/query_string.h"
#include "exporter/http/server.h"
#include "exporter/log/log.h"

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using pgpulse::http::Request;
using pgpulse::http::Response;

[[noreturn]] void Fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "http fuzz: %s\n---\n%.*s\n---\n", what, static_cast<int>(detail.size()), detail.data());
  std::abort();
}

// The header name an injection test uses, as HasInjectedHeader looks for it (case-insensitive).
bool StartsWithInjectionMarker(std::string_view text) {
  constexpr std::string_view kMarker = "x-injected";
  if (text.size() < kMarker.size()) return false;
  for (std::size_t i = 0; i < kMarker.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != kMarker[i]) return false;
  }
  return true;
}

asio::awaitable<Response> Handle(Request request) {
  if (request.path.find('?') != std::string::npos) Fail("the path holds the query string", request.path);
  for (const auto& [name, value] : request.headers) {
    for (const char c : name) {
      if (std::isupper(static_cast<unsigned char>(c))) Fail("a header name is not lower case", name);
    }
  }
  Response response(200, "text/plain; charset=utf-8", "ok\n");
  // Whatever the client put in the query goes back in headers: PrepareResponse must refuse what cannot be sent.
  if (const auto it = request.query.find("type"); it != request.query.end()) response.content_type = it->second;
  if (const auto it = request.query.find("echo"); it != request.query.end()) {
    response.headers.emplace_back("x-echo", it->second);
  }
  if (const auto it = request.query.find("name"); it != request.query.end()) {
    // A header the handler itself names x-injected... is no injection (the fuzzer once found that): only a name that
    // smuggles a line break in front of it could be, and PrepareResponse must refuse that one.
    if (!StartsWithInjectionMarker(it->second)) response.headers.emplace_back(it->second, "1");
  }
  if (const auto it = request.query.find("status"); it != request.query.end()) {
    response.status = std::atoi(it->second.c_str());
  }
  co_return response;
}

struct Harness {
  Harness() {
    pgpulse::log::Init(pgpulse::log::Level::kError, pgpulse::log::Format::kLogfmt);
    server = std::make_shared<pgpulse::http::Server>(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0),
                                                     pgpulse::http::ServerLimits{}, Handle);
    server->Start();
  }
  asio::io_context io;
  std::shared_ptr<pgpulse::http::Server> server;
};

asio::awaitable<void> Exchange(tcp::socket& socket, std::uint16_t port, std::string_view request, std::string& answer,
                               bool& done) {
  boost::system::error_code ec;
  // Asynchronous: a blocking connect() fails with EINTR when libFuzzer's -timeout alarm (SIGALRM) lands in it.
  co_await socket.async_connect(tcp::endpoint(asio::ip::address_v4::loopback(), port),
                                asio::redirect_error(asio::use_awaitable, ec));
  if (ec) Fail("cannot connect to the server", ec.message());
  co_await asio::async_write(socket, asio::buffer(request.data(), request.size()),
                             asio::redirect_error(asio::use_awaitable, ec));
  // The server may answer and close before reading everything (a 431, a 400): then the write fails, which is fine.
  socket.shutdown(tcp::socket::shutdown_send, ec);
  co_await asio::async_read(socket, asio::dynamic_buffer(answer), asio::redirect_error(asio::use_awaitable, ec));
  done = true;
}

// A header the attacker named, on a line of its own in the response's header block.
bool HasInjectedHeader(std::string answer) {
  for (char& c : answer) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return answer.find("\nx-injected") != std::string::npos || answer.find("\rx-injected") != std::string::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Harness harness;
  const std::string_view request(reinterpret_cast<const char*>(data), size);

  // The query-string functions on their own too, on every input.
  if (pgpulse::http::PercentDecode(request).size() > size) Fail("decoding made the text longer", request);
  static_cast<void>(pgpulse::http::ParseQueryString(request));

  tcp::socket socket(harness.io);
  std::string answer;
  bool done = false;
  asio::co_spawn(harness.io, Exchange(socket, harness.server->port(), request, answer, done), asio::detached);
  while (!done) harness.io.run_one();
  socket.close();
  while (harness.server->active_connections() > 0) harness.io.run_one();

  if (HasInjectedHeader(answer)) Fail("the response holds a header the request injected", answer);
  if (!answer.empty() && answer.rfind("HTTP/1.", 0) != 0) Fail("the answer does not start with a status line", answer);
  return 0;
}
