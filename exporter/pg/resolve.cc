#include "exporter/pg/resolve.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdlib>

#include "exporter/pg/error.h"

namespace pgpulse::pg {
namespace asio = boost::asio;

namespace {

// libpq reads PGHOST/PGHOSTADDR/PGPORT when the DSN names no host; read them here so they get resolved too.
void ApplyEnvironmentDefaults(ConnParams& params) {
  for (const auto& [key, env] : {std::pair{"host", "PGHOST"}, {"hostaddr", "PGHOSTADDR"}, {"port", "PGPORT"}}) {
    if (params.count(key)) continue;
    if (const char* value = std::getenv(env); value != nullptr && *value != '\0') params[key] = value;
  }
}

}  // namespace

asio::awaitable<ConnParams> ResolveHosts(asio::any_io_executor executor, ConnParams params,
                                         async::Clock::time_point deadline) {
  ApplyEnvironmentDefaults(params);
  auto entries = SplitHosts(params);
  asio::ip::tcp::resolver resolver(executor);
  std::vector<HostEntry> usable;
  std::string failures;
  for (auto& entry : entries) {
    if (!NeedsLookup(entry)) {
      usable.push_back(entry);
      continue;
    }
    async::DeadlineGuard guard(executor, deadline, [&resolver] { resolver.cancel(); });
    boost::system::error_code ec;
    // Named, not a temporary: g++ 12 mishandles temporaries that live across a co_await.
    const std::string port = entry.port.empty() ? "5432" : entry.port;
    auto results = co_await resolver.async_resolve(entry.host, port, asio::redirect_error(asio::use_awaitable, ec));
    if (guard.expired()) throw PgError(ErrorKind::kTimeout, "timed out resolving host \"" + entry.host + "\"");
    if (ec || results.empty()) {
      failures += (failures.empty() ? "" : "; ") + ("could not resolve host \"" + entry.host + "\": " + ec.message());
      continue;
    }
    entry.hostaddr = results.begin()->endpoint().address().to_string();
    usable.push_back(entry);
  }
  if (usable.empty() && !entries.empty()) throw PgError(ErrorKind::kConnect, failures);
  JoinHosts(usable, params);
  co_return params;
}

}  // namespace pgpulse::pg
