// The operating-system account the PostgreSQL servers run as.
#ifndef PGPULSE_TESTS_HARNESS_OS_USER_H_
#define PGPULSE_TESTS_HARNESS_OS_USER_H_

#include <sys/types.h>

#include <optional>
#include <string>

namespace pgpulse::testing {

struct OsUser {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
};

// initdb, pg_ctl and postgres refuse to run as root, and CI runs the tests as root. Returns the unprivileged account
// to use in that case (`nobody`, or a dedicated system user created on demand where `nobody` does not exist), or
// nullopt when we are not root and the servers simply run as ourselves. Throws if no such account can be found.
std::optional<OsUser> ServerOsUser();

// chown `path` (not recursively) to `user`, if any. Throws with the path on failure.
void ChownTo(const std::string& path, const std::optional<OsUser>& user);

}  // namespace pgpulse::testing

#endif  // PGPULSE_TESTS_HARNESS_OS_USER_H_
