#pragma once

#include <map>
#include <string>
#include <vector>

namespace pgpulse::pg {

// libpq connection keywords and values (host, port, user, password, dbname, sslmode, ...), as PQconninfoParse
// yields them. Ordered so that logs and tests are stable.
using ConnParams = std::map<std::string, std::string>;

// One host of a (possibly multi-host) DSN. libpq pairs host, hostaddr and port lists by position.
struct HostEntry {
  std::string host;      // name, IP literal, or Unix socket directory
  std::string hostaddr;  // numeric address, empty when libpq needs none (Unix socket)
  std::string port;
};

// Splits host/hostaddr/port into entries, following libpq's rules: a single port applies to every host, and
// an absent host means the default Unix socket.
std::vector<HostEntry> SplitHosts(const ConnParams& params);

// Writes entries back as host/hostaddr/port lists.
void JoinHosts(const std::vector<HostEntry>& entries, ConnParams& params);

// True when libpq would have to look the host up itself (a name over TCP without hostaddr): its lookup blocks.
bool NeedsLookup(const HostEntry& entry);

}  // namespace pgpulse::pg
