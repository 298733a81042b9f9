#include "exporter/pg/conn_params.h"

#include <algorithm>

namespace pgpulse::pg {
namespace {

std::vector<std::string> SplitList(const std::string& value) {
  std::vector<std::string> items;
  std::string::size_type start = 0;
  while (true) {
    auto comma = value.find(',', start);
    items.push_back(value.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return items;
}

std::string Lookup(const ConnParams& params, const std::string& key) {
  auto it = params.find(key);
  return it == params.end() ? std::string{} : it->second;
}

bool IsSocketPath(const std::string& host) { return !host.empty() && (host[0] == '/' || host[0] == '@'); }

}  // namespace

std::vector<HostEntry> SplitHosts(const ConnParams& params) {
  const auto hosts = SplitList(Lookup(params, "host"));
  const auto addrs = SplitList(Lookup(params, "hostaddr"));
  const auto ports = SplitList(Lookup(params, "port"));
  const auto count = std::max(hosts.size(), addrs.size());
  std::vector<HostEntry> entries(count);
  for (std::size_t i = 0; i < count; ++i) {
    if (hosts.size() == count) entries[i].host = hosts[i];
    if (addrs.size() == count) entries[i].hostaddr = addrs[i];
    entries[i].port = ports.size() == 1 ? ports[0] : (i < ports.size() ? ports[i] : std::string{});
  }
  return entries;
}

void JoinHosts(const std::vector<HostEntry>& entries, ConnParams& params) {
  std::string hosts, addrs, ports;
  bool any_addr = false, any_port = false;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const char* sep = i == 0 ? "" : ",";
    hosts += sep + entries[i].host;
    addrs += sep + entries[i].hostaddr;
    ports += sep + entries[i].port;
    any_addr = any_addr || !entries[i].hostaddr.empty();
    any_port = any_port || !entries[i].port.empty();
  }
  params.erase("host");
  params.erase("hostaddr");
  params.erase("port");
  if (!hosts.empty() && hosts != std::string(entries.size() - 1, ',')) params["host"] = hosts;
  if (any_addr) params["hostaddr"] = addrs;
  if (any_port) params["port"] = ports;
}

bool NeedsLookup(const HostEntry& entry) {
  // An IP literal also goes through the resolver: it answers at once without DNS, and there is one code path.
  return entry.hostaddr.empty() && !entry.host.empty() && !IsSocketPath(entry.host);
}

}  // namespace pgpulse::pg
