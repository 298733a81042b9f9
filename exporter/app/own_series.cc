#include "exporter/app/own_series.h"

#include <algorithm>

#include "exporter/metrics/names.h"
#include "pgpulse/version.h"

namespace pgpulse::app {

void WriteTargetMetrics(const targets::Target& target, const targets::Snapshot& snapshot, metrics::Exposition& out) {
  metrics::Labels labels = target.config().labels;
  labels[metrics::own::kTargetLabel] = target.name();
  out.Gauge(metrics::own::kUp, "Whether the connection used for this scrape worked (1) or not (0).", labels,
            snapshot.up ? 1 : 0);
  out.Gauge("pgpulse_scrape_duration_seconds", "Time this scrape spent on the target.", labels,
            snapshot.duration_seconds);
  const auto& credentials = target.credentials();
  out.Counter("pgpulse_auth_failures_total", "Connection attempts the server rejected for their credentials.", labels,
              static_cast<double>(credentials.auth_failures()));
  out.Counter("pgpulse_logins_total", "Sessions pgpulse opened on the target (logins the server accepted).", labels,
              static_cast<double>(credentials.logins()));
  for (bool success : {true, false}) {
    auto result = labels;
    result[metrics::own::kResultLabel] = success ? "success" : "failure";
    out.Counter("pgpulse_credential_reloads_total",
                "Times the credentials were read again (a file changed, a login failed, a reload), by outcome.", result,
                static_cast<double>(credentials.reloads(success)));
  }
  if (credentials.last_change_seconds() > 0) {
    out.Gauge("pgpulse_credential_last_change_timestamp_seconds",
              "Time the credentials in use last changed (their file's modification time), in Unix seconds.", labels,
              credentials.last_change_seconds());
  }
  if (target.config().storage_limit_bytes) {
    out.Gauge(metrics::own::kStorageLimitBytes, "Storage the target's volume holds, from the pgpulse config.", labels,
              static_cast<double>(*target.config().storage_limit_bytes));
  }
  collector::WriteCollectorStatus(snapshot.collected, labels, out);
  if (snapshot.up) {
    auto role = labels;
    role[metrics::own::kRoleLabel] = snapshot.role;
    role[metrics::own::kSuperuserLabel] = snapshot.superuser ? "true" : "false";
    role[metrics::own::kPgMonitorLabel] = snapshot.pg_monitor ? "true" : "false";
    role[metrics::own::kSuperuserViaLabel] = snapshot.superuser_roles;
    role[metrics::own::kManagedAdminLabel] = snapshot.managed_admin_roles;
    out.Gauge("pgpulse_target_role_info",
              "The role pgpulse is logged in as; labels tell whether it is a superuser, which superuser roles and "
              "managed-service administrator roles it is a member of, and whether it has pg_monitor's privileges.",
              role, 1);
    auto info = labels;
    info[metrics::own::kShortVersionLabel] = snapshot.short_version;
    info[metrics::own::kVersionLabel] = snapshot.version;
    out.Gauge(metrics::own::kStatic, "Version string as reported by PostgreSQL.", info, 1);
    out.Gauge(metrics::own::kServerVersionNum, "The server_version_num setting (e.g. 150004).", labels,
              snapshot.server_version_num);
  }
}

void WriteProcessMetrics(const ReloadStatus& reload, std::chrono::milliseconds budget, metrics::Exposition& out) {
  // Exported so that an alert can compare each target's scrape duration with the time it was allowed.
  out.Gauge("pgpulse_scrape_timeout_seconds",
            "Time pgpulse allowed this scrape: Prometheus' scrape timeout less a margin for sending the answer.", {},
            std::chrono::duration<double>(budget).count());
  out.Gauge("pgpulse_build_info", "pgpulse version and source revision; the value is always 1.",
            {{"version", kVersion}, {"revision", kRevision}}, 1);
  out.Gauge("pgpulse_config_last_reload_successful",
            "Whether the last configuration reload was applied (1) or rejected (0).", {}, reload.successful ? 1 : 0);
  out.Gauge("pgpulse_config_last_reload_success_timestamp_seconds",
            "Time the configuration was last loaded successfully, at start or by a reload, in Unix seconds.", {},
            reload.success_timestamp_seconds);
}

}  // namespace pgpulse::app
