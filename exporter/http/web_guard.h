// What the web-config file asks of every request, in front of the exporter's own routes.
#pragma once

#include "exporter/http/server.h"
#include "exporter/http/web_config.h"

namespace pgpulse::http {

// `inner` behind basic auth (when basic_auth_users is set: every endpoint, as exporter-toolkit does) and with
// http_server_config.headers added to each answer, 401s included.
Handler GuardHandler(Handler inner, const WebConfig& config);

}  // namespace pgpulse::http
