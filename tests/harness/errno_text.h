// Thread-safe text for an errno value (strerror may share one buffer between threads).
#ifndef PGPULSE_TESTS_HARNESS_ERRNO_TEXT_H_
#define PGPULSE_TESTS_HARNESS_ERRNO_TEXT_H_

#include <string>
#include <system_error>

namespace pgpulse::testing {

inline std::string ErrnoText(int error) { return std::generic_category().message(error); }

}  // namespace pgpulse::testing

#endif  // PGPULSE_TESTS_HARNESS_ERRNO_TEXT_H_
