#include "exporter/targets/credential_watch.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "exporter/log/log.h"

namespace pgpulse::targets {

CredentialWatch::CredentialWatch(config::TargetConfig config, std::string target_name)
    : config_(std::move(config)), target_name_(std::move(target_name)), files_(config::CredentialFiles(config_)) {
  Reload(true, "start");
  // Loading is not a rotation: only later loads count as reloads.
  reloads_ok_ = 0;
  reloads_failed_ = 0;
}

std::vector<config::FileStamp> CredentialWatch::Stamps() const {
  std::vector<config::FileStamp> stamps;
  stamps.reserve(files_.size());
  for (const auto& file : files_) stamps.push_back(config::StampFile(file));
  return stamps;
}

bool CredentialWatch::Reload(bool force, const std::string& reason) {
  auto stamps = Stamps();
  if (!force && stamps == stamps_) return false;
  stamps_ = std::move(stamps);
  config::Credentials loaded;
  try {
    loaded = config::LoadCredentials(config_);
  } catch (const std::runtime_error& e) {
    ++reloads_failed_;
    error_ = e.what();  // names the file, never its content
    if (logged_errors_.First(error_)) {
      log::Warn("cannot read credentials; the last good ones stay in use",
                {{"target", target_name_}, {"reason", reason}, {"err", error_}});
    }
    return false;
  }
  ++reloads_ok_;
  error_.clear();
  logged_errors_.Clear();
  if (current_ == loaded) return false;
  const bool first = !current_;
  current_ = std::move(loaded);
  double newest = 0;
  for (const auto& stamp : stamps_) {
    if (stamp.exists) newest = std::max(newest, static_cast<double>(stamp.mtime_ns) / 1e9);
  }
  last_change_seconds_ =
      newest > 0 ? newest : std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  if (!first) {
    log::Info("credentials changed; new connections use them",
              {{"target", target_name_}, {"reason", reason}, {"user", current_->user.value_or("")}});
  }
  return !first;
}

}  // namespace pgpulse::targets
