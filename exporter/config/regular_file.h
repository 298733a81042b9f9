#pragma once

#include <sys/types.h>

#include <cstddef>
#include <stdexcept>
#include <string>

namespace pgpulse::config {

// Size caps for the files pgpulse reads. A file over its cap is refused rather than read in part: a truncated
// password or config would fail later, and more confusingly.
// password_file, user_file, *_FILE variables
inline constexpr std::size_t kPlainSecretMaxBytes = std::size_t{4} * 1024;
// secret_file, as secrets managers write it
inline constexpr std::size_t kJsonSecretMaxBytes = std::size_t{64} * 1024;
// libpq's passfile, digested to notice rotation
inline constexpr std::size_t kPassfileMaxBytes = std::size_t{64} * 1024;
// the config file and collector files
inline constexpr std::size_t kConfigFileMaxBytes = std::size_t{4} * 1024 * 1024;

// A file that could not be read. what() is "<path>: <reason>"; reason() alone lets callers phrase their own message.
// Neither ever holds the file's content.
class FileReadError : public std::runtime_error {
 public:
  FileReadError(const std::string& path, std::string reason)
      : std::runtime_error(path + ": " + reason), path_(path), reason_(std::move(reason)) {}
  const std::string& path() const { return path_; }
  const std::string& reason() const { return reason_; }

 private:
  std::string path_;
  std::string reason_;
};

struct RegularFile {
  std::string content;
  mode_t mode = 0;  // permission bits of the file read (a symlink's target), for callers that check them
  uid_t owner = 0;  // its owner
};

// Reads a whole regular file of at most `max_bytes`, following symlinks (Kubernetes secret volumes are symlinks).
// Every file pgpulse reads goes through here, so that none can stall the event loop or exhaust memory: the open
// does not wait for a FIFO's writer, anything but a regular file (FIFO, device such as /dev/zero, directory,
// socket) is refused after the open, and reading stops one byte past the cap. Throws FileReadError with reasons
// such as "is a FIFO, not a regular file" or "is larger than 4096 bytes".
RegularFile ReadRegularFile(const std::string& path, std::size_t max_bytes);

}  // namespace pgpulse::config
