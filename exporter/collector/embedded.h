#pragma once

#include <string_view>
#include <utility>
#include <vector>

namespace pgpulse::collector {

// The built-in collector files, (file name, contents), compiled into the binary by CMake from collectors/*.yaml.
const std::vector<std::pair<std::string_view, std::string_view>>& EmbeddedCollectorFiles();

}  // namespace pgpulse::collector
