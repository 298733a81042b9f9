#pragma once

#include <chrono>
#include <memory>

#include "exporter/collector/collector_set.h"
#include "exporter/pg/connection.h"

namespace pgpulse::targets {

struct TargetSettings {
  std::shared_ptr<const collector::CollectorSet> collectors;  // none: only pg_up and the version
  std::chrono::milliseconds connect_timeout{5000};
  pg::SessionSettings session;
  std::chrono::milliseconds backoff_initial{500};
  std::chrono::milliseconds backoff_max{10000};
  std::chrono::milliseconds discovery_interval{300000};  // how often pg_database is read again
  // Time one refresh may spend visiting databases; the rest wait for the next refresh (oldest results first).
  std::chrono::milliseconds database_budget{3000};
  // A visiting connection kept open (few databases) is closed after this long unused, e.g. when scrapes stop.
  std::chrono::milliseconds idle_timeout{300000};
  // How often the credential files are checked for a change (stat(); read only when it changed).
  std::chrono::milliseconds credential_poll{2000};
};

}  // namespace pgpulse::targets
