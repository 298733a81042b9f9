#pragma once

#include <string>

#include "exporter/log/once.h"
#include "exporter/pg/connection.h"

namespace pgpulse::targets {

// What a new session tells about the role pgpulse logged in as, and the server, said in the log: a role without
// pg_monitor, or a managed service's administrator role, once per role until it changes (a target reconnects after
// every restart and would repeat it); a server older than pgpulse supports, at every connect.
class RoleWarnings {
 public:
  void Connected(const std::string& target_name, const pg::SessionInfo& session);

 private:
  log::Once lacks_pg_monitor_;
  log::Once managed_admin_;
};

}  // namespace pgpulse::targets
