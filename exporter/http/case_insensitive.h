// HTTP's names and tokens (header names, "chunked", "100-continue", "localhost") compare without regard to ASCII case.
#pragma once

#include <string_view>

namespace pgpulse::http {

// ASCII case-insensitive comparison, as HTTP header names and tokens need.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace pgpulse::http
