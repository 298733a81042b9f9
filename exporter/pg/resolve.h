#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "exporter/async/deadline.h"
#include "exporter/pg/conn_params.h"

namespace pgpulse::pg {

// Fills `hostaddr` for every TCP host name through Asio's resolver (its own thread), so that libpq never runs its
// blocking getaddrinfo on the event loop. `host` stays, for TLS verification and .pgpass matching. Hosts that do
// not resolve are dropped; if none is left, throws PgError(kConnect) naming them.
boost::asio::awaitable<ConnParams> ResolveHosts(boost::asio::any_io_executor executor, ConnParams params,
                                                async::Clock::time_point deadline);

}  // namespace pgpulse::pg
