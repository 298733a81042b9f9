// What an action throws, for tests that check error messages.
#pragma once

#include <exception>
#include <functional>
#include <string>

namespace pgpulse::testing {

// The what() of the exception `action` throws, or "" when it throws none.
inline std::string ErrorOf(const std::function<void()>& action) {
  try {
    action();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace pgpulse::testing
