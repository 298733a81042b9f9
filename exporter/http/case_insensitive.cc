#include "exporter/http/case_insensitive.h"

#include <algorithm>
#include <cctype>

namespace pgpulse::http {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
           return std::tolower(x) == std::tolower(y);
         });
}

}  // namespace pgpulse::http
