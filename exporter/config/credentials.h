#pragma once

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "exporter/config/config.h"

namespace pgpulse::config {

// A target's login as pgpulse hands it to libpq. Sources, strongest first: secret_file (JSON with username and
// password, as secrets managers write it), user_file and password_file (plain text), DATA_SOURCE_USER and
// DATA_SOURCE_PASS, the DSN itself, and last libpq's passfile (.pgpass), which libpq reads at every connect.
struct Credentials {
  std::optional<std::string> user;      // nullopt: the DSN's (or libpq's default)
  std::optional<std::string> password;  // nullopt: none from pgpulse; libpq may still find one in its passfile
  // When libpq's passfile is the source, a digest of its content (libpq reads the file itself): a rotated
  // passfile is then a change like any other. Never the content.
  std::size_t passfile_digest = 0;

  bool operator==(const Credentials&) const = default;
};

// The username and password of a JSON secret ({"username": "...", "password": "...", ...}; other keys such as
// host or engine are ignored). Throws std::runtime_error naming the path and what is wrong, never a value.
Credentials ReadJsonSecret(const std::string& path);

// Reads every source of `target`. Throws std::runtime_error naming the file at fault (never its content).
Credentials LoadCredentials(const TargetConfig& target);

// The files the credentials depend on: the secret, user and password files, and libpq's passfile when no password
// comes from anywhere else. Watched, so that a rotated secret is noticed without a restart.
std::vector<std::string> CredentialFiles(const TargetConfig& target);

// What stat() says about a file, to notice a change cheaply. A Kubernetes secret volume replaces a symlink
// target rather than writing the file; stat() follows the link, so the inode changes.
struct FileStamp {
  bool exists = false;
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = 0;
  long long mtime_ns = 0;
  long long ctime_ns = 0;

  bool operator==(const FileStamp&) const = default;
};
FileStamp StampFile(const std::string& path);

}  // namespace pgpulse::config
