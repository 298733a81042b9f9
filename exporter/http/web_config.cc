#include "exporter/http/web_config.h"

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <set>
#include <sstream>

namespace pgpulse::http {
namespace {

// Go's crypto/tls names (the only ones exporter-toolkit accepts) and OpenSSL's names for the same suites. Like Go,
// the list only governs TLS 1.0 to 1.2; TLS 1.3's suites are not configurable.
const std::map<std::string, std::string>& CipherNames() {
  static const std::map<std::string, std::string> names = {
      {"TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA"},
      {"TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA"},
      {"TLS_RSA_WITH_AES_128_CBC_SHA256", "AES128-SHA256"},
      {"TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256"},
      {"TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384"},
      {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA-AES128-SHA"},
      {"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA-AES256-SHA"},
      {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA"},
      {"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA"},
      {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "ECDHE-ECDSA-AES128-SHA256"},
      {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "ECDHE-RSA-AES128-SHA256"},
      {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256"},
      {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384"},
      {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256"},
      {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384"},
      {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305", "ECDHE-ECDSA-CHACHA20-POLY1305"},
      {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305"},
      {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305", "ECDHE-RSA-CHACHA20-POLY1305"},
      {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305"},
  };
  return names;
}

const std::map<std::string, std::string> kCurves = {
    {"CurveP256", "P-256"}, {"CurveP384", "P-384"}, {"CurveP521", "P-521"}, {"X25519", "X25519"}};
const std::map<std::string, int> kVersions = {
    {"TLS10", 0x0301}, {"TLS11", 0x0302}, {"TLS12", 0x0303}, {"TLS13", 0x0304}};
const std::map<std::string, ClientAuth> kClientAuth = {{"NoClientCert", ClientAuth::kNone},
                                                       {"RequestClientCert", ClientAuth::kRequest},
                                                       {"RequireAnyClientCert", ClientAuth::kRequireAny},
                                                       {"VerifyClientCertIfGiven", ClientAuth::kVerifyIfGiven},
                                                       {"RequireAndVerifyClientCert", ClientAuth::kRequireAndVerify}};

// Parts of newer exporter-toolkit releases that pgpulse does not implement: refused by name, so that nobody
// believes they are in force.
const std::set<std::string> kUnsupportedTls = {"cert", "key", "client_ca", "client_allowed_sans"};

class Reader {
 public:
  Reader(std::string origin, std::string base_dir) : origin_(std::move(origin)), base_dir_(std::move(base_dir)) {}

  [[noreturn]] void Fail(const YAML::Node& node, const std::string& key, const std::string& message) const {
    std::string where = origin_;
    if (node.IsDefined() && node.Mark().line >= 0) where += ":" + std::to_string(node.Mark().line + 1);
    throw WebConfigError(where + ": " + key + ": " + message);
  }

  // A mapping's entries in file order, keys checked against `allowed` (empty: any key).
  std::vector<std::pair<std::string, YAML::Node>> Map(const YAML::Node& node, const std::string& key,
                                                      const std::set<std::string>& allowed) const {
    std::vector<std::pair<std::string, YAML::Node>> entries;
    if (node.IsNull()) return entries;
    if (!node.IsMap()) Fail(node, key, "must be a mapping");
    std::set<std::string> seen;
    for (const auto& entry : node) {
      if (!entry.first.IsScalar()) Fail(entry.first, key, "keys must be plain strings");
      const std::string name = entry.first.Scalar();
      const std::string path = key.empty() ? name : key + "." + name;
      if (!seen.insert(name).second) Fail(entry.first, path, "appears twice");
      if (!allowed.empty() && !allowed.count(name)) {
        if (kUnsupportedTls.count(name) || name == "rate_limit") Fail(entry.first, path, "not supported by pgpulse");
        Fail(entry.first, path, "unknown key");
      }
      entries.emplace_back(name, entry.second);
    }
    return entries;
  }

  std::string String(const YAML::Node& node, const std::string& key) const {
    if (!node.IsScalar()) Fail(node, key, "must be a string");
    return node.Scalar();
  }

  bool Bool(const YAML::Node& node, const std::string& key) const {
    const std::string text = node.IsScalar() ? node.Scalar() : "";
    if (text == "true") return true;
    if (text == "false") return false;
    Fail(node, key, "must be true or false");
  }

  std::vector<std::string> List(const YAML::Node& node, const std::string& key) const {
    std::vector<std::string> items;
    if (node.IsNull()) return items;
    if (!node.IsSequence()) Fail(node, key, "must be a list of strings");
    for (const auto& item : node) items.push_back(String(item, key));
    return items;
  }

  // A path that must name a readable file; relative paths start at the web-config file's directory.
  std::string File(const YAML::Node& node, const std::string& key) const {
    std::string path = String(node, key);
    if (path.empty()) return path;
    if (path.front() != '/') path = base_dir_ + "/" + path;
    if (::access(path.c_str(), R_OK) != 0) Fail(node, key, "cannot read " + path);
    return path;
  }

 private:
  std::string origin_;
  std::string base_dir_;
};

int Version(const Reader& r, const YAML::Node& node, const std::string& key) {
  const std::string name = r.String(node, key);
  auto it = kVersions.find(name);
  if (it == kVersions.end()) r.Fail(node, key, "unknown TLS version \"" + name + "\" (TLS10, TLS11, TLS12, TLS13)");
  return it->second;
}

std::string Joined(const Reader& r, const YAML::Node& node, const std::string& key,
                   const std::map<std::string, std::string>& names, const char* what) {
  std::string joined;
  for (const std::string& name : r.List(node, key)) {
    auto it = names.find(name);
    if (it == names.end()) r.Fail(node, key, std::string("unknown ") + what + " \"" + name + "\"");
    joined += (joined.empty() ? "" : ":") + it->second;
  }
  return joined;
}

std::optional<TlsServerConfig> ParseTls(const Reader& r, const YAML::Node& node) {
  const std::string key = "tls_server_config";
  TlsServerConfig tls;
  bool client_auth_given = false;
  YAML::Node ca_node;
  for (const auto& [name, value] :
       r.Map(node, key,
             {"cert_file", "key_file", "client_auth_type", "client_ca_file", "min_version", "max_version",
              "cipher_suites", "prefer_server_cipher_suites", "curve_preferences"})) {
    const std::string path = key + "." + name;
    if (name == "cert_file") tls.cert_file = r.File(value, path);
    if (name == "key_file") tls.key_file = r.File(value, path);
    if (name == "client_ca_file") {
      tls.client_ca_file = r.File(value, path);
      ca_node = value;
    }
    if (name == "client_auth_type") {
      const std::string type = r.String(value, path);
      auto it = kClientAuth.find(type);
      if (it == kClientAuth.end()) r.Fail(value, path, "unknown client auth type \"" + type + "\"");
      tls.client_auth = it->second;
      client_auth_given = true;
    }
    if (name == "min_version") tls.min_version = Version(r, value, path);
    if (name == "max_version") tls.max_version = Version(r, value, path);
    if (name == "cipher_suites") tls.openssl_ciphers = Joined(r, value, path, CipherNames(), "cipher suite");
    if (name == "prefer_server_cipher_suites") tls.prefer_server_cipher_suites = r.Bool(value, path);
    if (name == "curve_preferences") tls.openssl_groups = Joined(r, value, path, kCurves, "curve");
  }
  if (tls.cert_file.empty() && tls.key_file.empty()) {
    // exporter-toolkit serves plain HTTP when no certificate is configured; anything else set is then an error.
    if (!tls.client_ca_file.empty() || client_auth_given) r.Fail(node, key, "client settings without cert_file");
    return std::nullopt;
  }
  if (tls.cert_file.empty()) r.Fail(node, key + ".cert_file", "required with key_file");
  if (tls.key_file.empty()) r.Fail(node, key + ".key_file", "required with cert_file");
  const bool verifies =
      tls.client_auth == ClientAuth::kVerifyIfGiven || tls.client_auth == ClientAuth::kRequireAndVerify;
  if (verifies && tls.client_ca_file.empty()) {
    r.Fail(node, key + ".client_ca_file", "required by this client_auth_type");
  }
  if (!tls.client_ca_file.empty() && !client_auth_given) {
    r.Fail(ca_node, key + ".client_auth_type", "client_ca_file is set but no client_auth_type");
  }
  if (tls.min_version > tls.max_version) r.Fail(node, key + ".min_version", "is above max_version");
  return tls;
}

// The headers exporter-toolkit lets a file set, with the values it accepts (empty: any).
const std::map<std::string, std::set<std::string>>& AllowedHeaders() {
  static const std::map<std::string, std::set<std::string>> allowed = {{"Content-Security-Policy", {}},
                                                                       {"X-Frame-Options", {"deny", "sameorigin"}},
                                                                       {"X-Content-Type-Options", {"nosniff"}},
                                                                       {"X-XSS-Protection", {}},
                                                                       {"Strict-Transport-Security", {}}};
  return allowed;
}

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return text;
}

void ParseHttp(const Reader& r, const YAML::Node& node, WebConfig& config) {
  const std::string key = "http_server_config";
  for (const auto& [name, value] : r.Map(node, key, {"headers", "http2"})) {
    const std::string path = key + "." + name;
    if (name == "http2") r.Bool(value, path);  // accepted for compatibility: pgpulse serves HTTP/1.1 only
    if (name != "headers") continue;
    for (const auto& [header, text_node] : r.Map(value, path, {})) {
      const std::string hpath = path + "." + header;
      auto allowed = AllowedHeaders().find(header);
      if (allowed == AllowedHeaders().end()) r.Fail(value, hpath, "this header cannot be set");
      const std::string text = text_node.IsNull() ? "" : r.String(text_node, hpath);
      if (text.empty()) continue;  // "unset if blank"
      if (text.find_first_of("\r\n") != std::string::npos) r.Fail(text_node, hpath, "must be one line");
      if (!allowed->second.empty() && !allowed->second.count(Lower(text))) {
        std::string values;
        for (const auto& v : allowed->second) values += (values.empty() ? "" : ", ") + v;
        r.Fail(text_node, hpath, "accepted values: " + values);
      }
      config.headers.emplace_back(header, text);
    }
  }
}

}  // namespace

bool IsBcryptHash(const std::string& hash) {
  if (hash.size() != 60 || hash[0] != '$' || hash[1] != '2' || hash[3] != '$' || hash[6] != '$') return false;
  if (hash[2] != 'a' && hash[2] != 'b' && hash[2] != 'y') return false;
  if (hash[4] < '0' || hash[4] > '3' || hash[5] < '0' || hash[5] > '9') return false;
  const int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
  if (cost < 4 || cost > 31) return false;
  for (std::size_t i = 7; i < hash.size(); ++i) {
    const char c = hash[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '/';
    if (!ok) return false;
  }
  return true;
}

WebConfig ParseWebConfig(const std::string& text, const std::string& origin, const std::string& base_dir) {
  const Reader r(origin, base_dir);
  WebConfig config;
  config.origin = origin;
  YAML::Node root;
  try {
    root = YAML::Load(text);
    for (const auto& [name, value] :
         r.Map(root, "", {"tls_server_config", "http_server_config", "basic_auth_users", "rate_limit"})) {
      if (name == "tls_server_config") config.tls = ParseTls(r, value);
      if (name == "http_server_config") ParseHttp(r, value, config);
      if (name == "rate_limit") r.Fail(value, name, "not supported by pgpulse");
      if (name != "basic_auth_users") continue;
      for (const auto& [user, hash_node] : r.Map(value, name, {})) {
        // The user name is not secret (it is the key); the hash is never quoted.
        const std::string path = name + "." + user;
        if (!hash_node.IsScalar()) r.Fail(hash_node, path, "must be a bcrypt hash string");
        if (!IsBcryptHash(hash_node.Scalar())) r.Fail(hash_node, path, "is not a bcrypt hash ($2a$, $2b$ or $2y$)");
        if (user.find(':') != std::string::npos) r.Fail(hash_node, path, "a user name cannot contain ':'");
        config.basic_auth_users[user] = hash_node.Scalar();
      }
    }
  } catch (const YAML::Exception& e) {
    // The message of a YAML syntax error quotes no value, only where the error is.
    throw WebConfigError(origin + ":" + std::to_string(e.mark.line + 1) + ": invalid YAML: " + e.msg);
  }
  return config;
}

WebConfig LoadWebConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw WebConfigError(path + ": cannot read the web config file");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw WebConfigError(path + ": cannot read the web config file");
  const auto slash = path.rfind('/');
  const std::string base = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  return ParseWebConfig(text.str(), path, base);
}

}  // namespace pgpulse::http
