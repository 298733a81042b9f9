#include "tests/harness/sanitizer_report.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "tests/harness/spawn.h"

namespace pgpulse::testing {
namespace {

// How each runtime starts a report: "==<pid>==ERROR: AddressSanitizer: ...", "==<pid>==ERROR: LeakSanitizer: detected
// memory leaks", "<file>:<line>:<col>: runtime error: ..." (UBSan), "WARNING: ThreadSanitizer: data race ...".
constexpr std::string_view kMarkers[] = {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                                         ": runtime error: ", "WARNING: ThreadSanitizer", "ERROR: ThreadSanitizer"};

}  // namespace

std::string FindSanitizerReport(std::string_view output) {
  size_t first = std::string_view::npos;
  for (std::string_view marker : kMarkers) first = std::min(first, output.find(marker));
  if (first == std::string_view::npos) return "";
  const size_t begin = output.rfind('\n', first);
  const size_t start = begin == std::string_view::npos ? 0 : begin + 1;
  return std::string(output.substr(start, output.find('\n', first) - start));
}

void ExpectNoSanitizerReport(const std::string& output, const std::vector<std::string>& argv) {
  const std::string report = FindSanitizerReport(output);
  if (report.empty()) return;
  ADD_FAILURE() << "sanitizer report from " << JoinArgv(argv) << ": " << report << "\n--- output:\n" << output;
}

}  // namespace pgpulse::testing
