// The web-config file (--web.config.file) on arbitrary text, and the Authorization header's base64 on arbitrary bytes.
// ParseWebConfig promises that every problem becomes a WebConfigError naming the file and never quoting a bcrypt
// hash; anything else that escapes, a crash, a hang or a leak is a bug. Relative file names resolve in a temp dir that
// holds empty c.crt, c.key and ca.crt (the parser checks only that they are readable), so the TLS keys past those
// checks are explored too; the files' contents are the TLS context's business, not the parser's.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "exporter/http/basic_auth.h"
#include "exporter/http/web_config.h"

namespace {

constexpr const char* kOrigin = "fuzz-web.yml";
std::string base_dir;  // NOLINT(cert-err58-cpp): set once in LLVMFuzzerInitialize

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "web config fuzz: %s: %s\n", what, detail.c_str());
  std::abort();
}

// The hashes the input gives as basic_auth_users values: a hash is a secret that can be cracked offline, so no error
// may echo one. Other keys may hold text that merely looks like a hash (a client_auth_type of "$2y$..."); quoting
// those back is what an error should do.
std::vector<std::string> UserHashesIn(const std::string& text) {
  std::vector<std::string> hashes;
  try {
    const YAML::Node users = YAML::Load(text)["basic_auth_users"];
    if (!users.IsMap()) return hashes;
    for (const auto& entry : users) {
      if (entry.second.IsScalar() && !entry.second.Scalar().empty()) hashes.push_back(entry.second.Scalar());
    }
  } catch (const YAML::Exception&) {
    // Not YAML at all: the parser must have said so without quoting anything of the kind.
  }
  return hashes;
}

void ExpectNoHashIn(const std::string& text, const std::string& message) {
  for (const auto& hash : UserHashesIn(text)) {
    // A hash that the input also writes elsewhere (say, as a client_auth_type) may be quoted for that other key.
    const bool only_as_a_hash = text.find(hash) == text.rfind(hash);
    if (pgpulse::http::IsBcryptHash(hash) && only_as_a_hash && message.find(hash) != std::string::npos)
      Fail("an error quotes a user's hash", message);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  std::string dir = "/tmp/pgpulse-web-config-fuzz.XXXXXX";
  if (::mkdtemp(dir.data()) == nullptr) Fail("cannot make a temp dir", dir);
  for (const char* name : {"c.crt", "c.key", "ca.crt"}) std::ofstream(dir + "/" + name).put('\n');
  base_dir = dir;
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const auto config = pgpulse::http::ParseWebConfig(text, kOrigin, base_dir);
    for (const auto& [user, hash] : config.basic_auth_users) {
      if (!pgpulse::http::IsBcryptHash(hash)) Fail("accepted a user whose hash is not bcrypt", user);
    }
  } catch (const pgpulse::http::WebConfigError& e) {
    const std::string message = e.what();
    if (message.find(kOrigin) == std::string::npos) Fail("an error does not name the file", message);
    ExpectNoHashIn(text, message);
  }
  // The header decoder must stay within its input and output only what base64 can encode (3 bytes per 4 characters).
  std::string decoded;
  if (pgpulse::http::DecodeBase64(text, decoded) && decoded.size() > (text.size() / 4 + 1) * 3)
    Fail("base64 decoded to more than its input can hold", std::to_string(decoded.size()));
  return 0;
}
