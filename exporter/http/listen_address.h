#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <string>

namespace pgpulse::http {

// Parses "host:port", ":port", "[v6]:port" into an endpoint; throws std::invalid_argument naming the input.
// ":9187" means all IPv4+IPv6 addresses if the system allows (the server listens on "::" with v6_only=false,
// falling back to 0.0.0.0). Host names other than "localhost" are rejected: resolving them would block.
boost::asio::ip::tcp::endpoint ParseListenAddress(const std::string& address);

// The other way, for logs and error messages: "ip:port", with brackets for IPv6 and IPv4-mapped peers (seen on a
// dual-stack socket) shown as plain IPv4.
std::string FormatEndpoint(const boost::asio::ip::tcp::endpoint& endpoint);

}  // namespace pgpulse::http
