// Blocking HTTP/1.1 client for talking to the exporter on loopback.
#ifndef PGPULSE_TESTS_HARNESS_HTTP_CLIENT_H_
#define PGPULSE_TESTS_HARNESS_HTTP_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

namespace pgpulse::testing {

struct HttpResponse {
  int status = 0;                              // 0: no response (connection error or timeout; see body)
  std::map<std::string, std::string> headers;  // lower-case names; repeated headers joined with ", "
  std::string body;
  double seconds = 0;  // wall time of the whole exchange, connect included
};

// One request on a fresh connection to 127.0.0.1:port, sent with "Connection: close". `headers` add to or replace
// the defaults (Host, User-Agent). `timeout` bounds the whole exchange. Never throws for network trouble: a refused
// connection, a reset or a timeout gives status 0 with the error text in body.
HttpResponse HttpRequest(const std::string& method, uint16_t port, const std::string& target,
                         const std::string& body = "", std::map<std::string, std::string> headers = {},
                         std::chrono::milliseconds timeout = std::chrono::seconds(10));

HttpResponse HttpGet(uint16_t port, const std::string& target, std::map<std::string, std::string> headers = {},
                     std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace pgpulse::testing

#endif  // PGPULSE_TESTS_HARNESS_HTTP_CLIENT_H_
