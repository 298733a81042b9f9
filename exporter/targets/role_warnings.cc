#include "exporter/targets/role_warnings.h"

#include "exporter/collector/capabilities.h"
#include "exporter/log/log.h"

namespace pgpulse::targets {

void RoleWarnings::Connected(const std::string& target_name, const pg::SessionInfo& session) {
  if (session.pg_monitor) {
    lacks_pg_monitor_.Forget(session.user);  // granted since: say so again if it is revoked
  } else if (lacks_pg_monitor_.First(session.user)) {
    log::Warn("the role lacks pg_monitor; collectors that need it will report no_privilege or fail",
              {{"target", target_name}, {"user", session.user}, {"fix", "GRANT pg_monitor TO " + session.user}});
  }
  if (session.server_version < collector::kOldestSupportedServer) {
    log::Warn("the server is older than pgpulse supports; its collectors report unsupported_version",
              {{"target", target_name},
               {"server_version", std::to_string(session.server_version)},
               {"oldest_supported", std::to_string(collector::kOldestSupportedServer)}});
  }
  // A managed service's administrator role is not a superuser, but can read and change far more than monitoring
  // needs; pgpulse still connects (it may be all a small team has), and says so once per role.
  if (session.managed_admin_roles.empty()) {
    managed_admin_.Forget(session.user);
  } else if (managed_admin_.First(session.user)) {
    log::Warn("the role is a member of a managed service's administrator role; use a role in pg_monitor only",
              {{"target", target_name}, {"user", session.user}, {"member_of", session.managed_admin_roles}});
  }
}

}  // namespace pgpulse::targets
