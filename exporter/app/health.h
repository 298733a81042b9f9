#pragma once

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <vector>

#include "exporter/http/server.h"
#include "exporter/targets/target.h"

namespace pgpulse::app {

// GET /health?target=NAME[&role=primary|replica], for load balancers: 200 when the named target is up (and, with
// role, is a primary, not in recovery, or a replica, in recovery), else 503; the body says why in one line. A name
// that is not configured gets 404 and no connection; a missing target or a bad role gets 400.
boost::asio::awaitable<http::Response> AnswerHealth(http::Request request,
                                                    std::vector<std::shared_ptr<targets::Target>> targets);

}  // namespace pgpulse::app
