#include "exporter/http/beast_message.h"

#include <algorithm>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <cctype>
#include <iterator>
#include <string_view>
#include <utility>

#include "exporter/http/case_insensitive.h"
#include "exporter/http/query_string.h"
#include "exporter/log/log.h"

namespace pgpulse::http {
namespace {

namespace bhttp = boost::beast::http;

std::string ToString(boost::beast::string_view text) { return std::string(text.data(), text.size()); }

std::string Lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

bool IsToken(std::string_view text) {
  static constexpr std::string_view kSpecials = "!#$%&'*+-.^_`|~";
  return !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) {
    return std::isalnum(c) || kSpecials.find(static_cast<char>(c)) != std::string_view::npos;
  });
}

// A CR or LF in a header would let a handler (or data it echoes) split the response.
bool SplitsHeader(std::string_view value) {
  return value.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

// Builds the wire message, taking the response's body; false if the handler's response cannot be sent as given (a
// bug in the handler).
bool BuildMessage(Response& response, unsigned version, bool keep_alive, BeastResponse& out) {
  // 1xx would leave the client waiting for a final answer, and Beast rejects codes above 999.
  if (response.status < 200 || response.status > 599) return false;
  out.result(static_cast<unsigned>(response.status));
  out.version(version);
  out.set(bhttp::field::server, "pgpulse");
  if (SplitsHeader(response.content_type)) return false;  // Beast writes a field's value as it is given
  if (!response.content_type.empty()) out.set(bhttp::field::content_type, response.content_type);
  for (const auto& [name, value] : response.headers) {
    if (!IsToken(name) || SplitsHeader(value)) return false;
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

}  // namespace

Request MakeRequest(BeastRequest&& message, const std::string& remote_address) {
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

Outgoing PrepareResponse(Response response, unsigned version, bool keep_alive, const std::string& remote_address) {
  Outgoing out;
  if (!BuildMessage(response, version, keep_alive, out.message)) {
    log::Warn("http handler returned an unusable response (bad status or header)",
              {{"remote", remote_address}, {"status", std::to_string(response.status)}});
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

Response PlainResponse(int status, std::string body) {
  Response response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

// Written by hand once rather than built per rejection: over the cap is exactly when the server should spend least.
const std::string& OverCapacityResponse() {
  static const std::string response = [] {
    const std::string body = "too many connections\n";
    return "HTTP/1.1 503 Service Unavailable\r\nServer: pgpulse\r\nContent-Type: text/plain; charset=utf-8\r\n"
           "Content-Length: " +
           std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  }();
  return response;
}

bool Expects100Continue(const BeastRequest& message) {
  const auto expect = message[bhttp::field::expect];
  return message.version() >= 11 && EqualsIgnoreCase(std::string_view(expect.data(), expect.size()), "100-continue");
}

// A proxy in front of pgpulse that reuses its connection for several clients must agree with pgpulse on where a
// request ends; otherwise the rest of one request is taken as the next (request smuggling). Beast reads "gzip, chunked"
// as chunked but "chunked, chunked" or "xchunked" as no body at all, and other servers differ, so the only
// Transfer-Encoding accepted is a single "chunked" without a Content-Length (Beast itself refuses the pairs it sees
// as conflicting).
bool HasUnambiguousFraming(const BeastRequest& message) {
  const auto encodings = message.equal_range(bhttp::field::transfer_encoding);
  if (encodings.first == encodings.second) return true;
  if (std::next(encodings.first) != encodings.second) return false;
  const auto value = encodings.first->value();
  return EqualsIgnoreCase(std::string_view(value.data(), value.size()), "chunked") &&
         message.count(bhttp::field::content_length) == 0;
}

}  // namespace pgpulse::http
