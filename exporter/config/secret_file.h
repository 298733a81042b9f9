#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "exporter/config/regular_file.h"

namespace pgpulse::config {

// Why a secret file cannot be used (missing, unreadable, not a regular file, too large, empty), or nullopt when it
// can. The file's content is never part of the answer.
std::optional<std::string> CheckSecretFile(const std::string& path);

// The file's content without trailing newlines, as secrets are usually written by `echo` or a secrets manager.
// Read with ReadRegularFile (no FIFO, no device, at most `max_bytes`). A file that other users may read is warned
// about once per path, as libpq does for .pgpass. Throws std::runtime_error "cannot read secret file <path>: <why>"
// (never the content) when it cannot be read.
std::string ReadSecretFile(const std::string& path, std::size_t max_bytes = kPlainSecretMaxBytes);

}  // namespace pgpulse::config
