#include "exporter/http/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/stat.h>

#include "exporter/log/log.h"

namespace pgpulse::http {
namespace {

namespace ssl = boost::asio::ssl;

std::string OpenSslError() {
  const unsigned long code = ERR_get_error();  // NOLINT(google-runtime-int): OpenSSL's type
  ERR_clear_error();
  if (code == 0) return "unknown error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

// RequestClientCert and RequireAnyClientCert ask for a certificate but, as in Go, do not verify it.
int AcceptAny(int /*preverify_ok*/, X509_STORE_CTX* /*ctx*/) { return 1; }

}  // namespace

TlsContextSource::TlsContextSource(TlsServerConfig config) : config_(std::move(config)) {
  stamps_ = Stamps();
  current_ = Build();
}

std::vector<TlsContextSource::Stamp> TlsContextSource::Stamps() const {
  std::vector<Stamp> stamps;
  for (const std::string* path : {&config_.cert_file, &config_.key_file, &config_.client_ca_file}) {
    Stamp stamp;
    struct stat st {};
    if (!path->empty() && ::stat(path->c_str(), &st) == 0) {
      stamp = {st.st_dev, st.st_ino, st.st_size, st.st_mtim};
    }
    stamps.push_back(stamp);
  }
  return stamps;
}

std::shared_ptr<ssl::context> TlsContextSource::Build() const {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* ctx = context->native_handle();
  auto fail = [&](const std::string& key, const std::string& what) {
    throw WebConfigError("tls_server_config." + key + ": " + what + ": " + OpenSslError());
  };
  ERR_clear_error();
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_set_min_proto_version(ctx, config_.min_version) != 1) fail("min_version", "cannot set");
  if (SSL_CTX_set_max_proto_version(ctx, config_.max_version) != 1) fail("max_version", "cannot set");
  if (SSL_CTX_use_certificate_chain_file(ctx, config_.cert_file.c_str()) != 1) {
    fail("cert_file", "cannot load " + config_.cert_file);
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, config_.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    fail("key_file", "cannot load " + config_.key_file);
  }
  if (SSL_CTX_check_private_key(ctx) != 1) fail("key_file", "does not match cert_file");
  if (!config_.openssl_ciphers.empty() && SSL_CTX_set_cipher_list(ctx, config_.openssl_ciphers.c_str()) != 1) {
    fail("cipher_suites", "none usable");
  }
  if (config_.prefer_server_cipher_suites) SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (!config_.openssl_groups.empty() && SSL_CTX_set1_groups_list(ctx, config_.openssl_groups.c_str()) != 1) {
    fail("curve_preferences", "none usable");
  }
  if (!config_.client_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, config_.client_ca_file.c_str(), nullptr) != 1) {
      fail("client_ca_file", "cannot load " + config_.client_ca_file);
    }
    // Tells clients which CAs are accepted, so curl and browsers pick the right certificate.
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(config_.client_ca_file.c_str())) {
      SSL_CTX_set_client_CA_list(ctx, names);
    }
  }
  switch (config_.client_auth) {
    case ClientAuth::kNone:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
      break;
    case ClientAuth::kRequest:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, AcceptAny);
      break;
    case ClientAuth::kRequireAny:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, AcceptAny);
      break;
    case ClientAuth::kVerifyIfGiven:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
      break;
    case ClientAuth::kRequireAndVerify:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
      break;
  }
  // Session resumption would need a session id context with client certificates; a scrape every few seconds
  // gains little from it.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(ctx, 0);
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  return context;
}

std::shared_ptr<ssl::context> TlsContextSource::Current() {
  auto stamps = Stamps();
  if (stamps == stamps_ || stamps == failed_stamps_) return current_;
  try {
    current_ = Build();
    stamps_ = std::move(stamps);
    failed_stamps_.clear();
    log::Info("TLS certificate files changed: new connections use them");
  } catch (const WebConfigError& e) {
    failed_stamps_ = std::move(stamps);
    log::Error("TLS certificate files changed but cannot be used; still serving the previous ones",
               {{"err", e.what()}});
  }
  return current_;
}

}  // namespace pgpulse::http
