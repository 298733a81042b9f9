#include "tests/harness/os_user.h"

#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <stdexcept>
#include <vector>

#include "tests/harness/errno_text.h"
#include "tests/harness/spawn.h"

namespace pgpulse::testing {
namespace {

// Used only where `nobody` is missing (minimal containers); created once and kept, like any system account.
constexpr const char* kDedicatedUser = "pgpulse-test";

std::optional<OsUser> LookUp(const std::string& name) {
  passwd entry{};
  passwd* found = nullptr;
  std::vector<char> buffer(16384);
  if (getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 || found == nullptr) {
    return std::nullopt;
  }
  return OsUser{name, entry.pw_uid, entry.pw_gid};
}

}  // namespace

std::optional<OsUser> ServerOsUser() {
  if (geteuid() != 0) return std::nullopt;
  if (auto nobody = LookUp("nobody"); nobody && nobody->uid != 0) return nobody;
  if (auto dedicated = LookUp(kDedicatedUser)) return dedicated;

  SpawnOptions useradd;
  useradd.argv = {"useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", kDedicatedUser};
  const std::optional<int> code = WaitForExit(Spawn(useradd), std::chrono::seconds(30));
  // A concurrent test binary may have created it first, so look it up again rather than trusting the exit code.
  if (auto dedicated = LookUp(kDedicatedUser)) return dedicated;
  throw std::runtime_error("running as root, `nobody` does not exist and `useradd " + std::string(kDedicatedUser) +
                           "` failed (exit " + (code ? std::to_string(*code) : "timeout") + ")");
}

void ChownTo(const std::string& path, const std::optional<OsUser>& user) {
  if (!user) return;
  if (chown(path.c_str(), user->uid, user->gid) != 0) {
    throw std::runtime_error("chown " + user->name + " " + path + ": " + ErrnoText(errno));
  }
}

}  // namespace pgpulse::testing
