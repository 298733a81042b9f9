#pragma once

#include <array>
#include <string_view>

namespace pgpulse::metrics {

// Prometheus' data model: [a-zA-Z_:][a-zA-Z0-9_:]*.
bool IsMetricName(std::string_view name);
// [a-zA-Z_][a-zA-Z0-9_]*, and not starting with "__", which Prometheus keeps for itself.
bool IsLabelName(std::string_view name);

// The names the engine writes itself, in one place: the code that writes them uses these, and the config and
// collector loaders refuse them, so no user-defined series or label can collide with one.
namespace own {

// Set on every series from the target's name in the config.
inline constexpr char kTargetLabel[] = "target";

// Per-scrape series outside the pgpulse_ prefix, under postgres_exporter's names.
inline constexpr char kUp[] = "pg_up";
inline constexpr char kStatic[] = "pg_static";
inline constexpr char kServerVersionNum[] = "pg_server_version_num";
inline constexpr char kStorageLimitBytes[] = "pg_target_storage_limit_bytes";

// The labels of pgpulse's own series (pgpulse_collector_*, pgpulse_target_role_info, pg_static); a target label
// of the same name would give one of those series two values for one label.
inline constexpr char kCollectorLabel[] = "collector";
inline constexpr char kReasonLabel[] = "reason";
inline constexpr char kRoleLabel[] = "rolname";
inline constexpr char kSuperuserLabel[] = "superuser";
inline constexpr char kSuperuserViaLabel[] = "superuser_via";
inline constexpr char kManagedAdminLabel[] = "managed_admin";
inline constexpr char kPgMonitorLabel[] = "pg_monitor";
inline constexpr char kResultLabel[] = "result";
inline constexpr char kShortVersionLabel[] = "short_version";  // pg_static's
inline constexpr char kVersionLabel[] = "version";
inline constexpr std::array<std::string_view, 10> kSeriesLabels = {
    kCollectorLabel,    kReasonLabel,    kRoleLabel,   kSuperuserLabel,    kSuperuserViaLabel,
    kManagedAdminLabel, kPgMonitorLabel, kResultLabel, kShortVersionLabel, kVersionLabel};

// pgpulse_* and the per-scrape series above.
bool IsSeriesName(std::string_view name);
bool IsSeriesLabel(std::string_view name);

}  // namespace own
}  // namespace pgpulse::metrics
