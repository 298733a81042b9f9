#include "exporter/config/secret_file.h"

#include <sys/stat.h>

#include <cstdio>
#include <stdexcept>

#include "exporter/log/log.h"
#include "exporter/log/once.h"

namespace pgpulse::config {
namespace {

// Once per path for the life of the process: the files are re-read every time they change and after every failed
// login, and a warning at each of those would drown the log.
// libpq's rule for its key files: owner only, except that a root-owned file may be group-readable (0640). That is
// how Kubernetes secret volumes (root:fsGroup, 0440) and systemd credentials hand files to an unprivileged process.
void WarnIfOthersCanRead(const std::string& path, mode_t mode, uid_t owner) {
  const mode_t allowed = owner == 0 ? S_IRGRP : 0;
  if ((mode & (S_IRWXG | S_IRWXO) & ~allowed) == 0) return;
  static log::Once warned;
  if (!warned.First(path)) return;
  char octal[8];
  std::snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(mode & 07777));
  log::Warn(
      "credential file is accessible to group or others; it should be readable by its owner only (0600, or 0640 when "
      "owned by root)",
      {{"file", path}, {"mode", octal}});
}

}  // namespace

std::string ReadSecretFile(const std::string& path, std::size_t max_bytes) {
  RegularFile file;
  try {
    file = ReadRegularFile(path, max_bytes);
  } catch (const FileReadError& e) {
    throw std::runtime_error("cannot read secret file " + path + ": " + e.reason());
  }
  WarnIfOthersCanRead(path, file.mode, file.owner);
  std::string secret = std::move(file.content);
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  return secret;
}

std::optional<std::string> CheckSecretFile(const std::string& path) {
  try {
    if (ReadSecretFile(path).empty()) return "secret file " + path + " is empty";
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return std::nullopt;
}

}  // namespace pgpulse::config
