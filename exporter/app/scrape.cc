#include "exporter/app/scrape.h"

#include <algorithm>
#include <cstdlib>

#include "pgpulse/version.h"

namespace pgpulse::app {

namespace {
constexpr std::chrono::milliseconds kDefaultBudget{10000};  // Prometheus' default scrape_timeout
constexpr std::chrono::milliseconds kMaxMargin{500};
constexpr std::chrono::milliseconds kMinBudget{100};
}  // namespace

std::chrono::milliseconds ScrapeBudget(const std::map<std::string, std::string>& headers) {
  auto timeout = kDefaultBudget;
  if (auto it = headers.find("x-prometheus-scrape-timeout-seconds"); it != headers.end()) {
    char* end = nullptr;
    const double seconds = std::strtod(it->second.c_str(), &end);
    if (end != it->second.c_str() && *end == '\0' && seconds > 0 && seconds < 3600) {
      timeout = std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
    }
  }
  // A quarter of short timeouts, at most half a second: room for serialising and the network.
  const auto margin = std::min(kMaxMargin, timeout / 4);
  return std::max(kMinBudget, timeout - margin);
}

void WriteTargetMetrics(const target::Target& target, const target::Snapshot& snapshot, metrics::Exposition& out) {
  metrics::Labels labels = target.config().labels;
  labels["target"] = target.name();
  out.Gauge("pg_up", "Whether the connection used for this scrape worked (1) or not (0).", labels, snapshot.up ? 1 : 0);
  out.Gauge("pgpulse_scrape_duration_seconds", "Time this scrape spent on the target.", labels,
            snapshot.duration_seconds);
  if (target.config().storage_limit_bytes) {
    out.Gauge("pg_target_storage_limit_bytes", "Storage the target's volume holds, from the pgpulse config.", labels,
              static_cast<double>(*target.config().storage_limit_bytes));
  }
  collector::WriteCollected(snapshot.collected, labels, out);
  if (snapshot.up) {
    auto info = labels;
    info["short_version"] = snapshot.short_version;
    info["version"] = snapshot.version;
    out.Gauge("pg_static", "Version string as reported by PostgreSQL.", info, 1);
    out.Gauge("pg_server_version_num", "The server_version_num setting (e.g. 150004).", labels,
              snapshot.server_version_num);
  }
}

void WriteProcessMetrics(metrics::Exposition& out) {
  out.Gauge("pgpulse_build_info", "pgpulse version and source revision; the value is always 1.",
            {{"version", kVersion}, {"revision", kRevision}}, 1);
}

}  // namespace pgpulse::app
