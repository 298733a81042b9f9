// HTTP basic authentication against bcrypt hashes (the web-config file's basic_auth_users). bcrypt is slow on
// purpose (tens of milliseconds), so it runs on one worker thread of its own, never on the io_context thread, and
// successful checks are remembered under a keyed hash so a scrape every few seconds pays for it once.
#pragma once

#include <array>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>

namespace pgpulse::http {

class BasicAuth {
 public:
  enum class Result { kAllowed, kDenied, kBusy };

  // `max_pending`: bcrypt checks running or queued at once; beyond it Check answers kBusy at once, so a flood of
  // wrong passwords cannot queue unbounded CPU work (cached successes are still answered).
  explicit BasicAuth(std::map<std::string, std::string> users, std::size_t max_pending = 8);
  ~BasicAuth();  // waits for a running check to finish
  BasicAuth(const BasicAuth&) = delete;
  BasicAuth& operator=(const BasicAuth&) = delete;

  // `authorization` is the request's Authorization header ("" when absent). Call on the io_context thread only.
  boost::asio::awaitable<Result> Check(std::string authorization);

 private:
  using Key = std::array<std::uint8_t, 32>;
  Key CacheKey(const std::string& user, const std::string& password, const std::string& hash) const;
  void Remember(const Key& key);

  const std::map<std::string, std::string> users_;
  std::string dummy_hash_;  // verified against for unknown users, so a wrong name costs what a wrong password does
  const std::size_t max_pending_;
  std::size_t pending_ = 0;  // io thread only
  std::array<std::uint8_t, 32> hmac_key_{};
  std::set<Key> cache_;          // io thread only
  std::deque<Key> cache_order_;  // oldest first, to bound the cache
  boost::asio::thread_pool worker_{1};
};

// The base64 decoding of `text` (standard alphabet, padding optional), or false on a character outside it.
bool DecodeBase64(const std::string& text, std::string& out);

}  // namespace pgpulse::http
