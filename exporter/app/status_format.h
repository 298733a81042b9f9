#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "exporter/app/status_facts.h"

namespace pgpulse::app {

// What the status page shows where a fact was not collected (an en dash), never a made-up 0.
inline constexpr char kUnknown[] = "\u2013";

// Escapes markup, and replaces bytes that are not UTF-8 (a server message in another encoding) with U+FFFD, so the
// page stays valid UTF-8 whatever it quotes.
std::string HtmlEscape(const std::string& text);
// Percent-encodes everything but RFC 3986's unreserved characters, for a query parameter's value.
std::string UrlEncode(const std::string& text);

// "45s", "12m 3s", "5h 12m", "3d 4h": two units are enough to read an age or an uptime at a glance.
std::string FormatDuration(double seconds);
// "2026-12-02 17:05:09 UTC".
std::string FormatUtc(std::chrono::system_clock::time_point at);

// The facts as the page shows them; kUnknown where not collected.
std::string RoleText(const std::optional<bool>& replica);
std::string UptimeText(const std::optional<double>& seconds);
std::string ConnectionsText(const std::optional<Connections>& connections);
std::string PasswordExpiryText(bool known, const std::optional<PasswordExpiry>& nearest);
std::string XidAgeText(const std::optional<XidAge>& oldest);

}  // namespace pgpulse::app
