#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "exporter/collector/collected.h"

namespace pgpulse::app {

// The collected series the status page reads its at-a-glance facts from, in one place. The page computes what
// alerts/recording.yml computes from the same series, so it agrees with the alerts and dashboards, and costs no SQL.
namespace fact_metrics {
inline constexpr char kIsReplica[] = "pg_replication_is_replica";
inline constexpr char kPostmasterStart[] = "pg_postmaster_start_time_seconds";
inline constexpr char kMaxConnections[] = "pg_settings_max_connections";
inline constexpr char kSuperuserReserved[] = "pg_settings_superuser_reserved_connections";
inline constexpr char kReserved[] = "pg_settings_reserved_connections";  // PostgreSQL 16 and later
inline constexpr char kActivityCount[] = "pg_stat_activity_count";
inline constexpr char kPasswordValidUntil[] = "pg_role_password_valid_until_seconds";
inline constexpr char kFrozenXidAge[] = "pg_database_datfrozenxid_age";
inline constexpr char kRoleLabel[] = "rolname";
inline constexpr char kDatabaseLabel[] = "datname";
}  // namespace fact_metrics

// Transaction IDs before wraparound, as pg:database_xid_wraparound_ratio divides by.
inline constexpr double kXidWraparound = 2147483648.0;

struct Sample {
  std::map<std::string, std::string> labels;
  double value = 0;
};

// A family's samples in one refresh. `known` is false when no collector that feeds it ran (disabled, skipped on
// this server, or the target was down): the page then says so instead of showing a made-up value.
struct Family {
  bool known = false;
  std::vector<Sample> samples;
};
using Samples = std::map<std::string, Family, std::less<>>;

// Parses exposition sample lines ("name{a=\"b\"} 1\n"). Comment lines and lines it cannot read are skipped.
std::vector<Sample> ParseSampleLines(std::string_view text);

// The families named in `names`, from a target's last refresh.
Samples SamplesOf(const collector::Collected& collected, const std::vector<std::string_view>& names);

// Every family ComputeFacts reads.
const std::vector<std::string_view>& FactFamilies();

struct Connections {
  double used = 0;    // pg:connections_used
  double usable = 0;  // pg:connections_usable
};
struct PasswordExpiry {
  double days = 0;  // pg:role_password_expiry_days; negative once expired
  std::string role;
};
struct XidAge {
  double age = 0;
  std::string database;
};

// One target's facts at a glance; nullopt where the series were not collected.
struct TargetFacts {
  std::optional<bool> replica;
  std::optional<double> uptime_seconds;
  std::optional<Connections> connections;
  bool password_expiry_known = false;             // the roles collector ran
  std::optional<PasswordExpiry> password_expiry;  // the nearest; nullopt when known and no password expires
  std::optional<XidAge> oldest_xid;
};

TargetFacts ComputeFacts(const Samples& samples, double now_unix_seconds);

}  // namespace pgpulse::app
