#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "exporter/config/config.h"
#include "exporter/config/credentials.h"
#include "exporter/log/once.h"

namespace pgpulse::targets {

// One target's credentials, kept current: loaded from their sources at start, read again when one of their files
// changes (the owner polls) and after the server rejected them, so a rotated secret is used without a restart.
// Counts what the exporter reports about rotation. Never logs, returns or stores a secret anywhere else.
class CredentialWatch {
 public:
  CredentialWatch(config::TargetConfig config, std::string target_name);

  // Reads the sources again: always when `force`, otherwise only if a file's stat() changed. Returns true when the
  // credentials in use changed. A source that cannot be read keeps the last good credentials in use.
  bool Reload(bool force, const std::string& reason);

  // The credentials to connect with; nullopt while none could ever be read (error() says why).
  const std::optional<config::Credentials>& current() const { return current_; }
  const std::string& error() const { return error_; }

  void CountAuthFailure() { ++auth_failures_; }
  std::uint64_t auth_failures() const { return auth_failures_; }
  // Logins the server accepted: every session pgpulse opened, on the target's own connection or a database visit's.
  // Their rate shows connection churn (each login is a backend start and an authentication on the server).
  void CountLogin() { ++logins_; }
  std::uint64_t logins() const { return logins_; }
  std::uint64_t reloads(bool success) const { return success ? reloads_ok_ : reloads_failed_; }
  // When the credentials last changed: the newest modification time of their files, or for credentials written
  // into the config or environment, when pgpulse loaded them. Unix seconds.
  double last_change_seconds() const { return last_change_seconds_; }

 private:
  std::vector<config::FileStamp> Stamps() const;

  config::TargetConfig config_;
  std::string target_name_;
  std::vector<std::string> files_;
  std::vector<config::FileStamp> stamps_;
  std::optional<config::Credentials> current_;
  std::string error_;
  log::Once logged_errors_;  // a failing source is logged once per error until it reads again, not at every poll
  std::uint64_t auth_failures_ = 0;
  std::uint64_t logins_ = 0;
  std::uint64_t reloads_ok_ = 0;
  std::uint64_t reloads_failed_ = 0;
  double last_change_seconds_ = 0;
};

}  // namespace pgpulse::targets
