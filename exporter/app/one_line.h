#pragma once

#include <string>
#include <string_view>

namespace pgpulse::app {

// `text` on one line, each run of whitespace (newlines and tabs included) one space, for a reply or report line:
// libpq's messages may span several lines, indented with tabs.
std::string OneLine(std::string_view text);

}  // namespace pgpulse::app
