// Between Beast's messages and the server's own Request and Response, and the checks on a request's framing that
// decide whether it can be read at all. Private to exporter/http/*.cc: Beast stays out of the headers other layers
// include, so they need neither Beast's headers nor its compile time.
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <memory>
#include <string>
#include <vector>

#include "exporter/http/server.h"

namespace pgpulse::http {

using BeastRequest = boost::beast::http::request<boost::beast::http::string_body>;
using BeastResponse = boost::beast::http::response<boost::beast::http::string_body>;

// The handler's view of a request: HEAD reads as GET, the query string decoded, header names in lower case and
// repeated headers combined. Takes the body out of `message`.
Request MakeRequest(BeastRequest&& message, const std::string& remote_address);

// The wire message, and the body parts that follow it with what keeps them alive.
struct Outgoing {
  BeastResponse message;
  std::vector<boost::asio::const_buffer> parts;
  std::shared_ptr<const void> parts_owner;
};

// The handler's response as it goes on the wire. A response that cannot be sent as given (a status outside 200-599,
// a header that is not a token or holds CR/LF/NUL, a framing header) is logged and replaced by a plain 500.
Outgoing PrepareResponse(Response response, unsigned version, bool keep_alive, const std::string& remote_address);

// A text/plain response of the server's own (errors it answers without asking the handler).
Response PlainResponse(int status, std::string body);

// The whole 503 sent, as raw bytes, to a connection over the cap, whose request is never read.
const std::string& OverCapacityResponse();

bool Expects100Continue(const BeastRequest& message);

// Whether the request's framing is one that every HTTP implementation reads alike: no Transfer-Encoding, or exactly
// one "chunked" without a Content-Length.
bool HasUnambiguousFraming(const BeastRequest& message);

}  // namespace pgpulse::http
