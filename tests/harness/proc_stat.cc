#include "tests/harness/proc_stat.h"

#include <fstream>
#include <sstream>

namespace pgpulse::testing {

std::optional<std::vector<std::string>> ProcStatFields(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return std::nullopt;
  // Parsed from the last parenthesis: the command name may contain ") ".
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream words(stat.substr(close + 1));
  std::vector<std::string> fields;
  for (std::string word; words >> word;) fields.push_back(word);
  return fields;
}

}  // namespace pgpulse::testing
