#include "exporter/app/status_format.h"

#include <cmath>
#include <cstdio>
#include <ctime>

#include "exporter/metrics/utf8.h"

namespace pgpulse::app {

namespace {

std::string Printf(const char* format, double a, double b = 0) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, a, b);
  return buf;
}

}  // namespace

std::string HtmlEscape(const std::string& text) {
  std::string valid = text;
  metrics::ReplaceInvalidUtf8(valid);
  std::string out;
  out.reserve(valid.size());
  for (char c : valid) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string UrlEncode(const std::string& text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                            c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string FormatDuration(double seconds) {
  if (!std::isfinite(seconds)) return kUnknown;
  // A clock a little behind the server's would show a negative uptime or age; it is "just now".
  const auto total = static_cast<long long>(std::max(0.0, seconds));
  const long long days = total / 86400, hours = total / 3600 % 24, minutes = total / 60 % 60, secs = total % 60;
  if (days > 0) return std::to_string(days) + "d " + std::to_string(hours) + "h";
  if (hours > 0) return std::to_string(hours) + "h " + std::to_string(minutes) + "m";
  if (minutes > 0) return std::to_string(minutes) + "m " + std::to_string(secs) + "s";
  return std::to_string(secs) + "s";
}

std::string FormatUtc(std::chrono::system_clock::time_point at) {
  const std::time_t t = std::chrono::system_clock::to_time_t(at);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string RoleText(const std::optional<bool>& replica) {
  if (!replica) return kUnknown;
  return *replica ? "replica" : "primary";
}

std::string UptimeText(const std::optional<double>& seconds) { return seconds ? FormatDuration(*seconds) : kUnknown; }

std::string ConnectionsText(const std::optional<Connections>& c) {
  if (!c) return kUnknown;
  return Printf("%.0f of %.0f used", c->used, c->usable) + Printf(" (%.0f free)", c->usable - c->used);
}

std::string PasswordExpiryText(bool known, const std::optional<PasswordExpiry>& nearest) {
  if (!known) return kUnknown;
  if (!nearest) return "no login role's password expires";
  if (nearest->days < 0) return Printf("expired %.1f days ago", -nearest->days) + " (" + nearest->role + ")";
  return Printf("%.1f days", nearest->days) + " (" + nearest->role + ")";
}

std::string XidAgeText(const std::optional<XidAge>& oldest) {
  if (!oldest) return kUnknown;
  return Printf("%.0f", oldest->age) + " in " + oldest->database +
         Printf(" (%.2f%% of wraparound)", 100 * oldest->age / kXidWraparound);
}

}  // namespace pgpulse::app
