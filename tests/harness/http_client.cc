#include "tests/harness/http_client.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <exception>
#include <optional>
#include <utility>

namespace pgpulse::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

// Body limit well above any realistic exposition, but bounded so a runaway response cannot eat the machine.
constexpr uint64_t kMaxBodyBytes = uint64_t{1} << 30;

// Starts one asynchronous operation and runs the context until it completes. Async operations are used only because
// beast::tcp_stream's deadline (which also covers connect) applies to them; the caller still sees a blocking call.
template <typename Start>
beast::error_code RunOperation(asio::io_context& io, Start&& start) {
  std::optional<beast::error_code> result;
  start([&result](beast::error_code error, auto&&...) { result = error; });
  io.restart();
  while (!result && io.run_one() > 0) {
  }
  return result.value_or(asio::error::operation_aborted);
}

std::string Lower(beast::string_view text) {
  std::string lower(text.data(), text.size());
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

}  // namespace

HttpResponse HttpRequest(const std::string& method, uint16_t port, const std::string& target, const std::string& body,
                         std::map<std::string, std::string> headers, std::chrono::milliseconds timeout) {
  const auto started = std::chrono::steady_clock::now();
  HttpResponse response;
  auto failed = [&](const std::string& what) {
    response.status = 0;
    response.headers.clear();
    response.body = what;
    response.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return response;
  };
  const std::string address = "127.0.0.1:" + std::to_string(port);
  try {
    asio::io_context io;
    beast::tcp_stream stream(io);
    // One deadline for connect, write and read together: the timeout bounds the whole exchange.
    stream.expires_after(timeout);

    const asio::ip::tcp::endpoint endpoint(asio::ip::address_v4::loopback(), port);
    if (auto error = RunOperation(io, [&](auto handler) { stream.async_connect(endpoint, std::move(handler)); })) {
      return failed("connect to " + address + ": " + error.message());
    }

    http::request<http::string_body> request;
    request.method_string(method);
    request.target(target);
    request.version(11);
    request.set(http::field::host, address);
    request.set(http::field::user_agent, "pgpulse-test-harness");
    request.set(http::field::connection, "close");
    for (const auto& [name, value] : headers) request.set(name, value);
    request.body() = body;
    if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") request.prepare_payload();
    if (auto error = RunOperation(io, [&](auto handler) { http::async_write(stream, request, std::move(handler)); })) {
      return failed("send " + method + " " + target + " to " + address + ": " + error.message());
    }

    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxBodyBytes);
    parser.skip(method == "HEAD");  // a HEAD response announces a body that never comes
    if (auto error =
            RunOperation(io, [&](auto handler) { http::async_read(stream, buffer, parser, std::move(handler)); })) {
      return failed("receive the response to " + method + " " + target + " from " + address + ": " + error.message());
    }
    beast::error_code ignored;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);

    auto& message = parser.get();
    response.status = static_cast<int>(message.result_int());
    for (const auto& field : message) {
      const std::string name = Lower(field.name_string());
      auto [it, inserted] = response.headers.emplace(name, std::string(field.value().data(), field.value().size()));
      if (!inserted) it->second += ", " + std::string(field.value().data(), field.value().size());
    }
    response.body = std::move(message.body());
  } catch (const std::exception& error) {
    return failed(method + " " + target + " on " + address + ": " + error.what());
  }
  response.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return response;
}

HttpResponse HttpGet(uint16_t port, const std::string& target, std::map<std::string, std::string> headers,
                     std::chrono::milliseconds timeout) {
  return HttpRequest("GET", port, target, "", std::move(headers), timeout);
}

}  // namespace pgpulse::testing
