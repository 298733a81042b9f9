#pragma once

#include <map>
#include <string>
#include <string_view>

namespace pgpulse::http {

// application/x-www-form-urlencoded decoding ('+' is a space; a stray '%' stays literal).
std::string PercentDecode(std::string_view text);

// "a=1&b=x%20y" into {a: 1, b: "x y"}; for a repeated key the first value wins.
std::map<std::string, std::string> ParseQuery(std::string_view query);

// ASCII case-insensitive comparison, as HTTP header names and tokens need.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace pgpulse::http
