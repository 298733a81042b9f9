#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace pgpulse::metrics {

// Whether `text` is well-formed UTF-8 (no overlong forms, surrogates or code points above U+10FFFF).
bool IsValidUtf8(std::string_view text);

// Replaces every ill-formed sequence in `text` with U+FFFD, one per maximal ill-formed subpart (the Unicode
// standard's recommended practice), and returns how many were replaced. Label values must be UTF-8: Prometheus
// rejects a whole exposition that holds one invalid byte, which would blind every target of the process.
std::size_t ReplaceInvalidUtf8(std::string& text);

}  // namespace pgpulse::metrics
