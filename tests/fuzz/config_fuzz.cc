// The YAML config loader on arbitrary text: ParseConfig is what LoadConfigFile runs on a file's content and what a
// reload runs. The loader promises that every problem becomes a ConfigError (one that names the file), so anything
// else that escapes it, a crash, a hang or a leak is a bug. A target it accepts must show its DSN redacted.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "exporter/config/config.h"

namespace {

constexpr const char* kOrigin = "fuzz.yml";

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "config fuzz: %s: %s\n", what, detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const auto config = pgpulse::config::ParseConfig(text, kOrigin);
    for (const auto& target : config.targets) {
      const auto password = target.conn.find("password");
      if (password != target.conn.end() && password->second.size() >= 4 &&
          target.redacted_dsn.find(password->second) != std::string::npos &&
          target.redacted_dsn.find("password=xxxxx") == std::string::npos) {
        Fail("a target's password is shown unmasked", target.redacted_dsn);
      }
    }
  } catch (const pgpulse::config::ConfigError& e) {
    if (std::string(e.what()).find(kOrigin) == std::string::npos) Fail("an error does not name the file", e.what());
  }
  // Any other exception reaches libFuzzer, which reports it as a crash (uncaught exception: std::terminate).
  return 0;
}
