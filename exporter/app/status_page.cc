#include "exporter/app/status_page.h"

#include <cstdio>

#include "pgpulse/version.h"

namespace pgpulse::app {

namespace {

// Inline, so the page needs nothing else: on a narrow screen the summary table stacks into one card per target (its
// column names come from the CSS, so the cells stay plain) and the wide tables scroll sideways.
constexpr char kStyle[] =
    "body{font-family:system-ui,sans-serif;margin:1em;line-height:1.4;color:#222}"
    "h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ccc}"
    "h3{font-size:1em;margin-bottom:.3em}"
    "table{border-collapse:collapse}th,td{padding:.25em .6em;text-align:left;vertical-align:top;"
    "border-bottom:1px solid #e4e4e4}th{background:#f4f4f4}"
    ".scroll{overflow-x:auto;max-width:100%}"
    ".ready{color:#070}.down,.backoff,.bad{color:#a00}.connecting{color:#a60}"
    "dl{display:grid;grid-template-columns:max-content 1fr;gap:.15em 1em;margin:.5em 0}dt{color:#555}"
    "dd{margin:0;overflow-wrap:anywhere}code{overflow-wrap:anywhere}"
    "@media (max-width:700px){body{margin:.6em}table.summary thead{display:none}"
    "table.summary,table.summary tbody,table.summary tr,table.summary td{display:block}"
    "table.summary tr{border:1px solid #ccc;border-radius:4px;margin:.6em 0;padding:.3em}"
    "table.summary td{border:0;padding:.1em .3em}table.summary td:first-child{font-weight:bold}"
    "table.summary td:not(:first-child)::before{display:inline-block;min-width:9.5em;color:#555}"
    "table.summary td:nth-child(2)::before{content:'state'}table.summary td:nth-child(3)::before{content:'role'}"
    "table.summary td:nth-child(4)::before{content:'version'}table.summary td:nth-child(5)::before{content:'uptime'}"
    "table.summary td:nth-child(6)::before{content:'connections'}"
    "table.summary td:nth-child(7)::before{content:'password expiry'}"
    "table.summary td:nth-child(8)::before{content:'oldest xid age'}}";

std::string Seconds(double seconds, const char* format) {
  char buf[32];
  std::snprintf(buf, sizeof buf, format, seconds);
  return buf;
}

std::string Cell(const std::string& escaped, const std::string& css_class = "") {
  return css_class.empty() ? "<td>" + escaped + "</td>" : "<td class=\"" + css_class + "\">" + escaped + "</td>";
}

// The facts of a target's last refresh; all unknown while it is down (a down target's refresh collects nothing).
TargetFacts FactsOf(const targets::Target& target, std::chrono::system_clock::time_point now) {
  const double now_unix = std::chrono::duration<double>(now.time_since_epoch()).count();
  return ComputeFacts(SamplesOf(target.last().collected, FactFamilies()), now_unix);
}

void AppendSummary(std::string& page, const std::vector<std::shared_ptr<targets::Target>>& targets,
                   const std::vector<TargetFacts>& facts) {
  page +=
      "<h2>Targets</h2>\n<div class=\"scroll\"><table class=\"summary\">\n<thead><tr><th>target</th><th>state</th>"
      "<th>role</th><th>version</th><th>uptime</th><th>connections</th><th>password expiry</th>"
      "<th>oldest xid age</th></tr></thead>\n<tbody>\n";
  for (std::size_t i = 0; i < targets.size(); ++i) {
    const auto& target = *targets[i];
    const auto& f = facts[i];
    const std::string state = targets::StateName(target.state());
    const auto& version = target.last().short_version;
    page += "<tr>" + Cell(HtmlEscape(target.name())) + Cell(HtmlEscape(state), "state " + state) +
            Cell(RoleText(f.replica), "role") + Cell(version.empty() ? kUnknown : HtmlEscape(version), "version") +
            Cell(UptimeText(f.uptime_seconds), "uptime") + Cell(HtmlEscape(ConnectionsText(f.connections))) +
            Cell(HtmlEscape(PasswordExpiryText(f.password_expiry_known, f.password_expiry))) +
            Cell(HtmlEscape(XidAgeText(f.oldest_xid))) + "</tr>\n";
  }
  page += "</tbody></table></div>\n";
}

void AppendFact(std::string& page, const char* name, const std::string& escaped_value) {
  page += "<dt>" + std::string(name) + "</dt><dd>" + escaped_value + "</dd>";
}

void AppendTargetDetails(std::string& page, const targets::Target& target, const std::string& telemetry_path) {
  const auto& last = target.last();
  page += "<dl>";
  AppendFact(page, "dsn", "<code>" + HtmlEscape(target.config().redacted_dsn) + "</code>");
  std::string login = last.role.empty() ? std::string(kUnknown) : HtmlEscape(last.role);
  if (last.up && !last.pg_monitor) login += " (not in pg_monitor)";
  AppendFact(page, "logged in as", login);
  AppendFact(page, "server", last.version.empty() ? kUnknown : HtmlEscape(last.version));
  AppendFact(page, "last refresh",
             target.tried() ? Seconds(last.duration_seconds, "%.3f s") + (last.up ? ", up" : ", down") : "not yet");
  AppendFact(page, "auth failures", std::to_string(target.credentials().auth_failures()));
  AppendFact(page, "last error",
             last.error.empty() ? "none" : "<span class=\"bad\">" + HtmlEscape(last.error) + "</span>");
  // The name is a query value first (percent-encoded), then an attribute (escaped).
  AppendFact(page, "links",
             "<a href=\"/probe?target=" + HtmlEscape(UrlEncode(target.name())) + "\">probe</a> &middot; <a href=\"" +
                 HtmlEscape(telemetry_path) + "\">metrics</a>");
  page += "</dl>\n";
}

void AppendCollectors(std::string& page, const targets::Target& target) {
  const auto& status = target.last().collected.status;
  page += "<h3>Collectors</h3>\n";
  if (status.empty()) {
    page += "<p>No collector ran in the last refresh.</p>\n";
    return;
  }
  page +=
      "<div class=\"scroll\"><table class=\"collectors\">\n<tr><th>collector</th><th>status</th><th>duration</th>"
      "<th>cache age</th><th>series</th></tr>\n";
  for (const auto& [name, s] : status) {
    // Disabled here (the server lacks what it needs: a replica, an extension, a function) with the reason.
    std::string state = s.skip_reason ? Cell("disabled: " + HtmlEscape(*s.skip_reason))
                        : !s.success  ? Cell("failed", "bad")
                        : !s.ran      ? Cell("not run")
                                      : Cell("ok");
    page += "<tr>" + Cell(HtmlEscape(name)) + state + Cell(Seconds(s.duration_seconds, "%.3f s")) +
            Cell(s.cache_age_seconds ? FormatDuration(*s.cache_age_seconds) : kUnknown) +
            Cell(std::to_string(s.series)) + "</tr>\n";
  }
  page += "</table></div>\n";
}

void AppendDatabases(std::string& page, const targets::Target& target, std::chrono::system_clock::time_point now) {
  const auto visits = target.visited_databases();
  page += "<h3>Databases visited</h3>\n";
  if (visits.empty()) {
    page += "<p>None discovered yet.</p>\n";
    return;
  }
  page +=
      "<div class=\"scroll\"><table class=\"databases\">\n<tr><th>database</th><th>last visit</th><th>ago</th></tr>\n";
  for (const auto& visit : visits) {
    std::string when = visit.last_visit ? FormatUtc(*visit.last_visit) : "not yet";
    std::string ago = visit.last_visit ? FormatDuration(std::chrono::duration<double>(now - *visit.last_visit).count())
                                       : std::string(kUnknown);
    if (visit.last_failed) ago += " <span class=\"bad\">(last attempt failed)</span>";
    page += "<tr>" + Cell(HtmlEscape(visit.database)) + Cell(when) + Cell(ago) + "</tr>\n";
  }
  page += "</table></div>\n";
}

}  // namespace

std::string RenderStatusPage(const std::vector<std::shared_ptr<targets::Target>>& targets,
                             const std::string& telemetry_path) {
  return RenderStatusPage(targets, telemetry_path, std::chrono::system_clock::now());
}

std::string RenderStatusPage(const std::vector<std::shared_ptr<targets::Target>>& targets,
                             const std::string& telemetry_path, std::chrono::system_clock::time_point now) {
  std::string page =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>pgpulse</title><style>";
  page += kStyle;
  page += "</style></head><body>\n<h1>pgpulse</h1>\n<p>version " + HtmlEscape(kVersion) + " (" + HtmlEscape(kRevision) +
          ") &middot; <a href=\"" + HtmlEscape(telemetry_path) +
          "\">metrics</a> &middot; <a href=\"/healthz\">healthz</a> &middot; <a href=\"/readyz\">readyz</a><br>" +
          "as of " + FormatUtc(now) + "</p>\n";
  std::vector<TargetFacts> facts;
  facts.reserve(targets.size());
  for (const auto& target : targets) facts.push_back(FactsOf(*target, now));
  AppendSummary(page, targets, facts);
  for (const auto& target : targets) {
    page += "<section class=\"target\"><h2>" + HtmlEscape(target->name()) + "</h2>\n";
    AppendTargetDetails(page, *target, telemetry_path);
    AppendCollectors(page, *target);
    AppendDatabases(page, *target, now);
    page += "</section>\n";
  }
  page += "</body></html>\n";
  return page;
}

}  // namespace pgpulse::app
