#include "exporter/http/web_config.h"

#include <gtest/gtest.h>

#include <string>

#include "exporter/http/basic_auth.h"
#include "tests/harness/files.h"

namespace pgpulse::http {
namespace {

const std::string kHash = "$2y$10$X0h1gDsPszWURQaxFh.zoubFi6DXncSjhoQNJgRrnGs7EsimhC7zG";

class WebConfigTest : public ::testing::Test {
 protected:
  WebConfigTest() {
    testing::WriteFile(dir_.path() + "/c.crt", "cert");
    testing::WriteFile(dir_.path() + "/c.key", "key");
    testing::WriteFile(dir_.path() + "/ca.crt", "ca");
  }
  WebConfig Parse(const std::string& yaml) { return ParseWebConfig(yaml, "web.yml", dir_.path()); }
  // The error message for `yaml`, or "" when it parses.
  std::string Error(const std::string& yaml) {
    try {
      Parse(yaml);
    } catch (const WebConfigError& e) {
      return e.what();
    }
    return "";
  }
  testing::TempDir dir_;
};

TEST_F(WebConfigTest, ReadsAnExporterToolkitFile) {
  const auto config = Parse(R"(
tls_server_config:
  cert_file: c.crt
  key_file: c.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.crt
  min_version: TLS13
  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305]
  prefer_server_cipher_suites: false
  curve_preferences: [X25519, CurveP256]
http_server_config:
  http2: false
  headers:
    X-Content-Type-Options: nosniff
    Content-Security-Policy: ""
basic_auth_users:
  alice: ')" + kHash + "'\n");
  ASSERT_TRUE(config.tls.has_value());
  EXPECT_EQ(config.tls->cert_file, dir_.path() + "/c.crt") << "relative to the file's directory";
  EXPECT_EQ(config.tls->client_ca_file, dir_.path() + "/ca.crt");
  EXPECT_EQ(config.tls->client_auth, ClientAuth::kRequireAndVerify);
  EXPECT_EQ(config.tls->min_version, 0x0304);
  EXPECT_EQ(config.tls->max_version, 0x0304);
  EXPECT_EQ(config.tls->openssl_ciphers, "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305");
  EXPECT_FALSE(config.tls->prefer_server_cipher_suites);
  EXPECT_EQ(config.tls->openssl_groups, "X25519:P-256");
  ASSERT_EQ(config.headers.size(), 1u) << "a blank header is unset";
  EXPECT_EQ(config.headers[0].first, "X-Content-Type-Options");
  EXPECT_EQ(config.basic_auth_users.at("alice"), kHash);
}

TEST_F(WebConfigTest, EmptyFileAndNoCertificateMeanPlainHttp) {
  EXPECT_FALSE(Parse("").tls.has_value());
  EXPECT_FALSE(Parse("tls_server_config: {}\n").tls.has_value());
  const auto defaults = Parse("tls_server_config: {cert_file: c.crt, key_file: c.key}\n");
  ASSERT_TRUE(defaults.tls.has_value());
  EXPECT_EQ(defaults.tls->min_version, 0x0303) << "TLS 1.2, exporter-toolkit's default";
  EXPECT_EQ(defaults.tls->client_auth, ClientAuth::kNone);
  EXPECT_TRUE(defaults.tls->prefer_server_cipher_suites);
}

TEST_F(WebConfigTest, RefusesWhatItCannotHonourNamingFileAndKey) {
  const std::string tls = "tls_server_config:\n  cert_file: c.crt\n  key_file: c.key\n";
  EXPECT_EQ(Error("basic_auth: {}\n"), "web.yml:1: basic_auth: unknown key");
  EXPECT_EQ(Error("tls_server_config:\n  cert_file: c.crt\n"),
            "web.yml:2: tls_server_config.key_file: required with cert_file");
  EXPECT_EQ(Error("tls_server_config:\n  key_file: c.key\n"),
            "web.yml:2: tls_server_config.cert_file: required with key_file");
  EXPECT_NE(Error(tls + "  client_auth_type: VerifyClientCertIfGiven\n").find("client_ca_file: required"),
            std::string::npos);
  EXPECT_NE(Error(tls + "  client_ca_file: ca.crt\n").find("no client_auth_type"), std::string::npos);
  EXPECT_NE(Error(tls + "  client_auth_type: Sometimes\n").find("unknown client auth type"), std::string::npos);
  EXPECT_NE(Error(tls + "  min_version: TLS14\n").find("tls_server_config.min_version: unknown TLS version"),
            std::string::npos);
  EXPECT_NE(Error(tls + "  min_version: TLS13\n  max_version: TLS12\n").find("above max_version"), std::string::npos);
  EXPECT_NE(Error(tls + "  cipher_suites: [RC4]\n").find("unknown cipher suite \"RC4\""), std::string::npos);
  EXPECT_NE(Error(tls + "  cipher_suites: TLS_RSA_WITH_AES_128_CBC_SHA\n").find("must be a list"), std::string::npos);
  EXPECT_NE(Error(tls + "  prefer_server_cipher_suites: yes please\n").find("must be true or false"),
            std::string::npos);
  EXPECT_NE(Error(tls + "  client_allowed_sans: [a]\n").find("not supported by pgpulse"), std::string::npos);
  EXPECT_NE(Error("tls_server_config:\n  cert_file: nope.crt\n  key_file: c.key\n").find("cert_file: cannot read"),
            std::string::npos);
  EXPECT_NE(Error("http_server_config:\n  headers:\n    Set-Cookie: a=b\n").find("this header cannot be set"),
            std::string::npos);
  EXPECT_NE(Error("http_server_config:\n  headers:\n    X-Frame-Options: allow\n").find("accepted values"),
            std::string::npos);
  EXPECT_NE(Error("http_server_config:\n  http3: true\n").find("http_server_config.http3: unknown key"),
            std::string::npos);
  EXPECT_NE(Error("rate_limit: {burst: 1}\n").find("not supported"), std::string::npos);
  EXPECT_NE(Error("tls_server_config: [\n").find("web.yml"), std::string::npos);
}

TEST_F(WebConfigTest, AHashMustBeBcryptAndIsNeverQuoted) {
  const std::string md5 = "$apr1$abcdefgh$0123456789abcdefghijkl";
  const std::string error = Error("basic_auth_users:\n  bob: '" + md5 + "'\n");
  EXPECT_EQ(error, "web.yml:2: basic_auth_users.bob: is not a bcrypt hash ($2a$, $2b$ or $2y$)");
  const std::string shortened = kHash.substr(0, 59);
  EXPECT_EQ(Error("basic_auth_users:\n  bob: '" + shortened + "'\n").find(shortened), std::string::npos);
  EXPECT_NE(Error("basic_auth_users:\n  bob: [x]\n").find("must be a bcrypt hash string"), std::string::npos);
  EXPECT_TRUE(IsBcryptHash(kHash));
  EXPECT_TRUE(IsBcryptHash("$2b$" + kHash.substr(4)));
  EXPECT_FALSE(IsBcryptHash("$2x$" + kHash.substr(4)));
  EXPECT_FALSE(IsBcryptHash("$2y$99$" + kHash.substr(7)));
}

TEST_F(WebConfigTest, LoadResolvesPathsAgainstTheFilesDirectory) {
  const std::string path = dir_.path() + "/web.yml";
  testing::WriteFile(path, "tls_server_config:\n  cert_file: c.crt\n  key_file: c.key\n");
  const auto config = LoadWebConfig(path);
  EXPECT_EQ(config.tls->key_file, dir_.path() + "/c.key");
  EXPECT_THROW(LoadWebConfig(dir_.path() + "/missing.yml"), WebConfigError);
}

TEST(Base64Test, DecodesWithAndWithoutPadding) {
  std::string out;
  EXPECT_TRUE(DecodeBase64("YWxpY2U6czNjcmV0", out));
  EXPECT_EQ(out, "alice:s3cret");
  EXPECT_TRUE(DecodeBase64("YTpi", out));
  EXPECT_EQ(out, "a:b");
  EXPECT_TRUE(DecodeBase64("YTpiYw==", out));
  EXPECT_EQ(out, "a:bc");
  EXPECT_FALSE(DecodeBase64("YT!i", out));
  EXPECT_FALSE(DecodeBase64("YT==pi", out));
}

}  // namespace
}  // namespace pgpulse::http
