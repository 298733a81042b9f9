#pragma once

#include <optional>
#include <string>

namespace pgpulse::config {

// Why a secret file cannot be used (missing, unreadable, empty), or nullopt when it can. The file's content is
// never part of the answer.
std::optional<std::string> CheckSecretFile(const std::string& path);

// The file's content without trailing newlines, as secrets are usually written by `echo` or a secrets manager.
// Throws std::runtime_error naming the path (not the content) when it cannot be read.
std::string ReadSecretFile(const std::string& path);

}  // namespace pgpulse::config
