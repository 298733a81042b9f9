#include "exporter/app/check_report.h"

#include <set>

#include "exporter/app/one_line.h"
#include "exporter/log/log.h"
#include "exporter/metrics/utf8.h"

namespace pgpulse::app {

std::string TargetCheck::Problem() const {
  // Short: the report's rows and the log line give the details.
  if (!reachable) return "unreachable";
  if (role_safe != true) return "role unsafe";
  if (!error.empty()) return "down";
  if (pg_monitor != true) return "lacks pg_monitor";
  return "";
}

TargetCheck CheckTarget(const Configuration& configuration, const targets::Target& target,
                        const std::optional<targets::Snapshot>& snapshot) {
  TargetCheck check;
  check.name = target.name();
  check.dsn = target.config().redacted_dsn;
  if (!snapshot) {
    check.error = "no answer within the check's time limit";
  } else {
    const auto& s = *snapshot;
    check.reachable = s.up || s.refused;
    check.error = OneLine(s.error);
    if (s.refused) {
      check.role_safe = false;
      check.role_note = check.error;
    } else if (s.up) {
      check.user = s.role;
      check.version = s.short_version;
      check.pg_monitor = s.pg_monitor;
      check.replica = s.in_recovery;
      // Up as a superuser (or a member of one) means the target allows it; say so, it is still worth knowing.
      check.role_safe = true;
      if (s.superuser) check.role_note = "superuser, allowed by allow_superuser";
      if (!s.superuser_roles.empty())
        check.role_note = "member of " + s.superuser_roles + ", allowed by allow_superuser";
      if (!s.managed_admin_roles.empty()) {
        check.role_note = "member of " + s.managed_admin_roles + " (a managed service's administrator role)";
      }
    }
  }
  const auto& caps = target.capabilities();
  std::set<std::string> required;
  for (const auto& def : configuration.collectors->definitions) {
    if (def.scope == collector::Scope::kCluster && !def.requires_extension.empty())
      required.insert(def.requires_extension);
  }
  for (const auto& name : required) {
    std::optional<bool> present;
    if (caps && check.replica) present = caps->extensions.count(name) > 0;
    check.extensions.push_back({name, present});
  }
  for (const auto& [name, settings] : configuration.config.collectors) {
    if (settings.enabled == false) check.collectors.push_back({name, false, "disabled in the config"});
  }
  if (snapshot) {
    for (const auto& [name, status] : snapshot->collected.status) {
      if (status.skip_reason) {
        check.collectors.push_back({name, false, *status.skip_reason});
      } else {
        check.collectors.push_back({name, true, !status.success ? "failed" : status.ran ? "ok" : "not run yet"});
      }
    }
  }
  return check;
}

namespace {

std::string YesNo(const std::optional<bool>& value) { return !value ? "unknown" : *value ? "yes" : "no"; }

std::string Json(std::string text) {
  metrics::ReplaceInvalidUtf8(text);  // libpq's messages may hold the server's own encoding
  return log::JsonQuote(text);
}

std::string Json(const std::optional<bool>& value) { return !value ? "null" : *value ? "true" : "false"; }

}  // namespace

std::string RenderCheckTable(const std::vector<TargetCheck>& checks) {
  std::string out;
  for (const auto& c : checks) {
    const auto row = [&out](const std::string& key, const std::string& value) {
      // A value may hold names from the server (the login role, in the DSN too), which PostgreSQL lets hold a
      // newline or bytes that are not UTF-8: each row stays one line of valid text.
      std::string text = OneLine(value);
      metrics::ReplaceInvalidUtf8(text);
      out += "  " + key + std::string(key.size() < 12 ? 12 - key.size() : 1, ' ') + text + "\n";
    };
    out += "target " + c.name + ": " + (c.healthy() ? "healthy" : "UNHEALTHY: " + c.Problem()) + "\n";
    row("dsn", c.dsn);
    row("reachable", c.reachable ? "yes" : "no");
    if (!c.error.empty()) row("error", c.error);
    if (!c.user.empty()) row("user", c.user);
    if (!c.version.empty()) row("version", c.version);
    row("role safe", YesNo(c.role_safe) + (c.role_note.empty() ? "" : " (" + c.role_note + ")"));
    row("pg_monitor", YesNo(c.pg_monitor));
    row("server", !c.replica ? "unknown" : *c.replica ? "replica" : "primary");
    for (const auto& e : c.extensions)
      row("extension", e.name + ": " + (!e.present ? "unknown" : *e.present ? "present" : "missing"));
    for (const auto& col : c.collectors) {
      row("collector", col.name + ": " + (col.enabled ? "enabled, " : "disabled, ") + col.reason);
    }
    out += "\n";
  }
  return out;
}

std::string RenderCheckJson(const std::vector<TargetCheck>& checks) {
  bool healthy = true;
  std::string targets;
  for (const auto& c : checks) {
    healthy = healthy && c.healthy();
    std::string extensions, collectors;
    for (const auto& e : c.extensions) {
      extensions += std::string(extensions.empty() ? "" : ",") + "{\"name\":" + Json(e.name) +
                    ",\"present\":" + Json(e.present) + "}";
    }
    for (const auto& col : c.collectors) {
      collectors += std::string(collectors.empty() ? "" : ",") + "{\"name\":" + Json(col.name) +
                    ",\"enabled\":" + (col.enabled ? "true" : "false") + ",\"reason\":" + Json(col.reason) + "}";
    }
    const std::string server = !c.replica ? "null" : *c.replica ? "\"replica\"" : "\"primary\"";
    targets += std::string(targets.empty() ? "" : ",") + "\n{\"name\":" + Json(c.name) + ",\"dsn\":" + Json(c.dsn) +
               ",\"healthy\":" + (c.healthy() ? "true" : "false") + ",\"problem\":" + Json(c.Problem()) +
               ",\"reachable\":" + (c.reachable ? "true" : "false") + ",\"error\":" + Json(c.error) +
               ",\"user\":" + Json(c.user) + ",\"version\":" + Json(c.version) + ",\"role_safe\":" + Json(c.role_safe) +
               ",\"role_note\":" + Json(c.role_note) + ",\"pg_monitor\":" + Json(c.pg_monitor) +
               ",\"server\":" + server + ",\"extensions\":[" + extensions + "],\"collectors\":[" + collectors + "]}";
  }
  return std::string("{\"healthy\":") + (healthy ? "true" : "false") + ",\"targets\":[" + targets + "\n]}\n";
}

}  // namespace pgpulse::app
