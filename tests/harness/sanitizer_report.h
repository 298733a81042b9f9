// Sanitizer reports in a child's output. A sanitized pgpulse (PGPULSE_SANITIZE) writes ASan, LeakSanitizer, UBSan and
// TSan reports to its stderr, which the harness captures; leaks are only reported once it exits. A test that looks at
// HTTP answers alone would pass over them, so the harness fails the test when a child it ran printed one.
#ifndef PGPULSE_TESTS_HARNESS_SANITIZER_REPORT_H_
#define PGPULSE_TESTS_HARNESS_SANITIZER_REPORT_H_

#include <string>
#include <string_view>
#include <vector>

namespace pgpulse::testing {

// The line holding the first sanitizer report in `output`, or empty if there is none.
std::string FindSanitizerReport(std::string_view output);

// Adds a (non-fatal) gtest failure naming the command and quoting its output when `output` holds a sanitizer report.
void ExpectNoSanitizerReport(const std::string& output, const std::vector<std::string>& argv);

}  // namespace pgpulse::testing

#endif  // PGPULSE_TESTS_HARNESS_SANITIZER_REPORT_H_
