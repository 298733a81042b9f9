#include "exporter/app/status_page.h"

#include <cstdio>

#include "pgpulse/version.h"

namespace pgpulse::app {

std::string HtmlEscape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
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

std::string RenderStatusPage(const std::vector<std::shared_ptr<targets::Target>>& targets,
                             const std::string& telemetry_path) {
  std::string page =
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>pgpulse</title>"
      "<style>body{font-family:sans-serif;margin:2em}td,th{padding:.3em .8em;text-align:left}"
      ".up{color:#070}.down{color:#a00}</style></head><body>\n<h1>pgpulse</h1>\n<p>version ";
  page += HtmlEscape(kVersion);
  page += " (" + HtmlEscape(kRevision) + ") &middot; <a href=\"" + HtmlEscape(telemetry_path) +
          "\">metrics</a> &middot; <a href=\"/healthz\">healthz</a> &middot; <a href=\"/readyz\">readyz</a></p>\n";
  page +=
      "<table>\n<tr><th>target</th><th>dsn</th><th>state</th><th>up</th><th>role</th><th>version</th>"
      "<th>last refresh</th><th>auth failures</th><th>last error</th></tr>\n";
  for (const auto& target : targets) {
    const auto& last = target->last();
    char duration[32];
    std::snprintf(duration, sizeof duration, "%.3fs", last.duration_seconds);
    page += "<tr><td>" + HtmlEscape(target->name()) + "</td><td>" + HtmlEscape(target->config().redacted_dsn) +
            "</td><td>" + HtmlEscape(targets::StateName(target->state())) + "</td>";
    page += last.up ? "<td class=\"up\">1</td>" : "<td class=\"down\">0</td>";
    std::string role = HtmlEscape(last.role);
    if (last.up && !last.pg_monitor) role += " (no pg_monitor)";
    page += "<td>" + role + "</td><td>" + HtmlEscape(last.short_version) + "</td><td>" +
            (target->tried() ? duration : "never") + "</td><td>" +
            std::to_string(target->credentials().auth_failures()) + "</td><td>" + HtmlEscape(last.error) +
            "</td></tr>\n";
  }
  page += "</table>\n";
  // Per collector: whether it ran, how long it took, and whether the answer came from its cache.
  page +=
      "<h2>collectors</h2>\n<table>\n<tr><th>target</th><th>collector</th><th>state</th><th>duration</th>"
      "<th>cache age</th></tr>\n";
  for (const auto& target : targets) {
    for (const auto& [name, status] : target->last().collected.status) {
      std::string state = status.skip_reason ? "skipped: " + *status.skip_reason : status.success ? "ok" : "failed";
      char duration[32], age[32] = "";
      std::snprintf(duration, sizeof duration, "%.3fs", status.duration_seconds);
      if (status.cache_age_seconds) std::snprintf(age, sizeof age, "%.0fs", *status.cache_age_seconds);
      page += "<tr><td>" + HtmlEscape(target->name()) + "</td><td>" + HtmlEscape(name) + "</td><td>" +
              HtmlEscape(state) + "</td><td>" + duration + "</td><td>" + age + "</td></tr>\n";
    }
  }
  page += "</table>\n</body></html>\n";
  return page;
}

}  // namespace pgpulse::app
