// The exporter-toolkit web-config file (--web.config.file), as node_exporter and postgres_exporter read it: TLS,
// bcrypt basic auth and extra response headers. Existing files work unchanged; keys pgpulse cannot honour are
// refused by name rather than silently ignored.
#pragma once

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace pgpulse::http {

class WebConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class ClientAuth { kNone, kRequest, kRequireAny, kVerifyIfGiven, kRequireAndVerify };

struct TlsServerConfig {
  std::string cert_file;  // absolute, or relative to the web-config file's directory, resolved at parse time
  std::string key_file;
  std::string client_ca_file;  // empty: none
  ClientAuth client_auth = ClientAuth::kNone;
  int min_version = 0x0303;     // TLS1_2_VERSION, exporter-toolkit's default
  int max_version = 0x0304;     // TLS1_3_VERSION
  std::string openssl_ciphers;  // OpenSSL cipher list for TLS <= 1.2; empty: OpenSSL's default
  bool prefer_server_cipher_suites = true;
  std::string openssl_groups;  // for SSL_CTX_set1_groups_list; empty: OpenSSL's default
};

struct WebConfig {
  std::string origin;                                        // the file, for messages
  std::optional<TlsServerConfig> tls;                        // nullopt: plain HTTP
  std::vector<std::pair<std::string, std::string>> headers;  // added to every response
  std::map<std::string, std::string> basic_auth_users;       // name -> bcrypt hash; empty: no authentication
};

// Parses web-config YAML text. `origin` names the file in messages and `base_dir` resolves relative paths. Throws
// WebConfigError "origin: key.path: message", never quoting a hash. Files named in it are checked to be readable.
WebConfig ParseWebConfig(const std::string& text, const std::string& origin, const std::string& base_dir);
// Reads and parses the file at `path`.
WebConfig LoadWebConfig(const std::string& path);

// Whether `hash` has the form of a bcrypt hash ($2a$, $2b$ or $2y$, a two-digit cost, 53 characters of salt+hash).
bool IsBcryptHash(const std::string& hash);

}  // namespace pgpulse::http
