#include "exporter/http/basic_auth.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstring>
#include <functional>
#include <memory>
#include <stdexcept>
#include <utility>

namespace pgpulse::http {
namespace {

namespace asio = boost::asio;

// libxcrypt understands $2a$, $2b$ and $2y$. The comparison takes the same time wherever the hashes differ.
bool Bcrypt(const std::string& password, const std::string& hash) {
  auto data = std::make_unique<crypt_data>();
  const char* out = crypt_rn(password.c_str(), hash.c_str(), data.get(), sizeof(crypt_data));
  bool ok = out != nullptr && out[0] != '*' && std::strlen(out) == hash.size() &&
            CRYPTO_memcmp(out, hash.data(), hash.size()) == 0;
  OPENSSL_cleanse(data.get(), sizeof(crypt_data));
  return ok;
}

// Runs `verify` on `worker` and resumes the awaiting coroutine on its own executor with the result.
template <class Token>
auto OnWorker(asio::thread_pool& worker, std::function<bool()> verify, Token&& token) {
  return asio::async_initiate<Token, void(bool)>(
      [&worker](auto handler, std::function<bool()> work) {
        auto io = asio::get_associated_executor(handler);
        auto guard = asio::make_work_guard(io);  // the io_context must not run out of work while we compute
        asio::post(worker, [work = std::move(work), handler = std::move(handler), guard = std::move(guard)]() mutable {
          const bool ok = work();
          auto io_executor = guard.get_executor();
          asio::post(io_executor, [handler = std::move(handler), ok]() mutable { std::move(handler)(ok); });
          guard.reset();
        });
      },
      token, std::move(verify));
}

}  // namespace

bool DecodeBase64(const std::string& text, std::string& out) {
  out.clear();
  std::uint32_t bits = 0;
  int count = 0;
  std::size_t i = 0;
  for (; i < text.size() && text[i] != '='; ++i) {
    const char c = text[i];
    int v = -1;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    if (c >= '0' && c <= '9') v = c - '0' + 52;
    if (c == '+') v = 62;
    if (c == '/') v = 63;
    if (v < 0) return false;
    bits = (bits << 6) | static_cast<std::uint32_t>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push_back(static_cast<char>((bits >> count) & 0xFF));
    }
  }
  for (; i < text.size(); ++i) {
    if (text[i] != '=') return false;
  }
  return true;
}

BasicAuth::BasicAuth(std::map<std::string, std::string> users, std::size_t max_pending)
    : users_(std::move(users)), max_pending_(max_pending) {
  if (RAND_bytes(hmac_key_.data(), static_cast<int>(hmac_key_.size())) != 1) {
    throw std::runtime_error("basic auth: no random bytes for the cache key");
  }
  // The costliest user's hash: an unknown name then never answers faster than a known one.
  for (const auto& [user, hash] : users_) {
    if (dummy_hash_.empty() || hash.compare(4, 2, dummy_hash_, 4, 2) > 0) dummy_hash_ = hash;
  }
}

BasicAuth::~BasicAuth() { worker_.join(); }

BasicAuth::Key BasicAuth::CacheKey(const std::string& user, const std::string& password,
                                   const std::string& hash) const {
  // Lengths first, so that no two different triples feed the same bytes.
  std::string message;
  for (const std::string* part : {&user, &password, &hash}) {
    message += std::to_string(part->size()) + ":" + *part;
  }
  Key key{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), hmac_key_.data(), static_cast<int>(hmac_key_.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), key.data(), &length);
  OPENSSL_cleanse(message.data(), message.size());
  return key;
}

void BasicAuth::Remember(const Key& key) {
  constexpr std::size_t kMaxCached = 1024;
  if (!cache_.insert(key).second) return;
  cache_order_.push_back(key);
  if (cache_order_.size() > kMaxCached) {
    cache_.erase(cache_order_.front());
    cache_order_.pop_front();
  }
}

asio::awaitable<BasicAuth::Result> BasicAuth::Check(std::string authorization) {
  static constexpr std::string_view kScheme = "basic ";
  if (authorization.size() <= kScheme.size()) co_return Result::kDenied;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    const char c = authorization[i];
    if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != kScheme[i]) co_return Result::kDenied;
  }
  std::string decoded;
  const bool valid = DecodeBase64(authorization.substr(kScheme.size()), decoded);
  OPENSSL_cleanse(authorization.data(), authorization.size());
  const auto colon = decoded.find(':');
  if (!valid || colon == std::string::npos || decoded.find('\0') != std::string::npos) co_return Result::kDenied;
  const std::string user = decoded.substr(0, colon);
  std::string password = decoded.substr(colon + 1);
  OPENSSL_cleanse(decoded.data(), decoded.size());

  auto found = users_.find(user);
  const bool known = found != users_.end();
  const std::string& hash = known ? found->second : dummy_hash_;
  const Key key = CacheKey(user, password, hash);
  if (known && cache_.count(key)) {
    OPENSSL_cleanse(password.data(), password.size());
    co_return Result::kAllowed;
  }
  if (pending_ >= max_pending_) {
    OPENSSL_cleanse(password.data(), password.size());
    co_return Result::kBusy;
  }
  ++pending_;
  auto shared_password = std::make_shared<std::string>(std::move(password));
  // A named local: g++ 12 mishandles temporaries that live across a co_await.
  std::function<bool()> verify = [shared_password, hash] {
    const bool ok = Bcrypt(*shared_password, hash);
    OPENSSL_cleanse(shared_password->data(), shared_password->size());
    return ok;
  };
  const bool match = co_await OnWorker(worker_, std::move(verify), asio::use_awaitable);
  --pending_;
  if (!known || !match) co_return Result::kDenied;
  Remember(key);
  co_return Result::kAllowed;
}

}  // namespace pgpulse::http
