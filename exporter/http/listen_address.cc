#include "exporter/http/listen_address.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <stdexcept>
#include <string_view>

#include "exporter/http/case_insensitive.h"

namespace pgpulse::http {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

tcp::endpoint ParseListenAddress(const std::string& address) {
  const auto fail = [&address](const std::string& why) {
    return std::invalid_argument("invalid listen address \"" + address + "\": " + why);
  };
  const std::string_view text(address);
  std::string_view host;
  std::string_view port_text;
  bool bracketed = false;
  if (!text.empty() && text.front() == '[') {
    const std::size_t bracket_end = text.find(']');
    if (bracket_end == std::string_view::npos) throw fail("missing ']'");
    if (bracket_end + 1 >= text.size() || text[bracket_end + 1] != ':') throw fail("expected \":port\" after ']'");
    host = text.substr(1, bracket_end - 1);
    port_text = text.substr(bracket_end + 2);
    bracketed = true;
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) throw fail("expected host:port, :port or [ipv6]:port");
    host = text.substr(0, colon);
    if (host.find(':') != std::string_view::npos) throw fail("IPv6 addresses must be bracketed, as in [::1]:9187");
    port_text = text.substr(colon + 1);
  }

  if (port_text.empty() || port_text.size() > 5 ||
      !std::all_of(port_text.begin(), port_text.end(), [](unsigned char c) { return std::isdigit(c); })) {
    throw fail("port must be a number from 0 to 65535");
  }
  const unsigned long port = std::stoul(std::string(port_text));
  if (port > std::numeric_limits<uint16_t>::max()) throw fail("port must be a number from 0 to 65535");
  const auto port16 = static_cast<uint16_t>(port);

  error_code ec;
  if (bracketed) {
    const asio::ip::address_v6 v6 = asio::ip::make_address_v6(std::string(host), ec);
    if (ec) throw fail("not an IPv6 address inside the brackets");
    return tcp::endpoint(v6, port16);
  }
  // "::" with v6_only off is made dual-stack by Server::Start, which falls back to 0.0.0.0 without IPv6.
  if (host.empty()) return tcp::endpoint(asio::ip::address_v6::any(), port16);
  // Only the one name whose meaning is fixed; resolving others would block the io_context thread on DNS.
  if (EqualsIgnoreCase(host, "localhost")) return tcp::endpoint(asio::ip::address_v4::loopback(), port16);
  const asio::ip::address_v4 v4 = asio::ip::make_address_v4(std::string(host), ec);
  if (ec) throw fail("not an IPv4 address (host names other than localhost are not resolved)");
  return tcp::endpoint(v4, port16);
}

// Unwraps IPv4-mapped addresses because on a dual-stack socket every IPv4 peer shows up as ::ffff:a.b.c.d, which
// nobody reading a log expects.
std::string FormatEndpoint(const tcp::endpoint& endpoint) {
  asio::ip::address address = endpoint.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  }
  const std::string port = std::to_string(endpoint.port());
  return address.is_v6() ? "[" + address.to_string() + "]:" + port : address.to_string() + ":" + port;
}

}  // namespace pgpulse::http
