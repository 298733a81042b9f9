#pragma once

#include <chrono>
#include <string>

namespace pgpulse::config {

// "30s", "5m", "1h", "250ms", "1h30m". Throws std::invalid_argument.
std::chrono::milliseconds ParseDuration(const std::string& text);

}  // namespace pgpulse::config
