#include "tests/bench/proc_stats.h"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "tests/harness/proc_stat.h"

namespace pgpulse::bench {
namespace {

std::optional<long long> SumOfStatFields(pid_t pid, size_t first_field) {
  const auto fields = testing::ProcStatFields(pid);
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
