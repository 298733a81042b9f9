#include "tests/bench/proc_stats.h"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <vector>

namespace pgpulse::bench {
namespace {

// Fields of /proc/<pid>/stat after the command name, which is in parentheses and may contain spaces: [0] is the
// state (field 3 of proc(5)).
std::optional<std::vector<std::string>> StatFields(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return std::nullopt;
  const size_t close = stat.rfind(") ");
  if (close == std::string::npos) return std::nullopt;
  std::istringstream words(stat.substr(close + 2));
  std::vector<std::string> fields;
  for (std::string word; words >> word;) fields.push_back(word);
  return fields;
}

std::optional<long long> SumOfStatFields(pid_t pid, size_t first_field) {
  const auto fields = StatFields(pid);
  // proc(5) numbers fields from 1, and fields[0] is field 3.
  const size_t first = first_field - 3;
  if (!fields || fields->size() < first + 2) return std::nullopt;
  return std::stoll((*fields)[first]) + std::stoll((*fields)[first + 1]);
}

}  // namespace

std::optional<long long> CpuTicks(pid_t pid) { return SumOfStatFields(pid, 14); }  // utime, stime

std::optional<long long> ReapedChildrenCpuTicks(pid_t pid) { return SumOfStatFields(pid, 16); }  // cutime, cstime

std::optional<long long> StatusKb(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string name;
    long long kb = 0;
    if (words >> name >> kb && name == field + ":") return kb;
  }
  return std::nullopt;
}

long long PrivateKb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/smaps_rollup");
  long long total = 0;
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string name;
    long long kb = 0;
    if (words >> name >> kb && (name == "Private_Clean:" || name == "Private_Dirty:")) total += kb;
  }
  return total;
}

long ClockTicksPerSecond() { return sysconf(_SC_CLK_TCK); }

}  // namespace pgpulse::bench
