// The query string of a request target ("/probe?target=a&x=y"), decoded into the parameters handlers read.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace pgpulse::http {

// application/x-www-form-urlencoded decoding ('+' is a space; a stray '%' stays literal).
std::string PercentDecode(std::string_view text);

// "a=1&b=x%20y" into {a: 1, b: "x y"}; for a repeated key the first value wins.
std::map<std::string, std::string> ParseQueryString(std::string_view query);

}  // namespace pgpulse::http
