// BasicAuth runs bcrypt on a worker thread of its own and resumes the request on the io_context thread: the one place
// besides Asio's resolver where pgpulse uses a second thread, so the TSan build (scripts/sanitizers.sh) runs it here.
#include "exporter/http/basic_auth.h"

#include <crypt.h>
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <string>
#include <thread>
#include <vector>

namespace pgpulse::http {
namespace {

namespace asio = boost::asio;
using Result = BasicAuth::Result;

// A bcrypt hash of `password` at the lowest cost, so the test stays fast under a sanitizer.
std::string BcryptHash(const std::string& password) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  EXPECT_NE(crypt_gensalt_rn("$2b$", 4, nullptr, 0, salt, sizeof salt), nullptr);
  crypt_data data{};
  const char* hash = crypt_rn(password.c_str(), salt, &data, sizeof data);
  EXPECT_TRUE(hash != nullptr && hash[0] != '*');
  return hash;
}

TEST(BasicAuthTest, ConcurrentChecksRunOnTheWorkerAndAnswerOnTheIoThread) {
  BasicAuth auth({{"alice", BcryptHash("s3cret")}});
  asio::io_context io;
  const std::vector<std::string> headers = {"Basic YWxpY2U6czNjcmV0",   // alice:s3cret
                                            "Basic YWxpY2U6d3Jvbmc=",   // alice:wrong
                                            "basic Ym9iOnMzY3JldA==",   // bob:s3cret, an unknown user
                                            "Basic YWxpY2U6czNjcmV0"};  // alice again, while the first is pending
  std::vector<Result> results(headers.size(), Result::kBusy);
  std::vector<std::thread::id> resumed_on(headers.size());
  for (size_t i = 0; i < headers.size(); ++i) {
    asio::co_spawn(
        io,
        [&, i]() -> asio::awaitable<void> {
          results[i] = co_await auth.Check(headers[i]);
          resumed_on[i] = std::this_thread::get_id();
        },
        asio::detached);
  }
  io.run();  // returns once every check has answered: a pending one keeps the io_context busy
  EXPECT_EQ(results, (std::vector<Result>{Result::kAllowed, Result::kDenied, Result::kDenied, Result::kAllowed}));
  for (const auto& id : resumed_on) EXPECT_EQ(id, std::this_thread::get_id());

  // Remembered now: answered without the worker.
  io.restart();
  Result cached = Result::kBusy;
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { cached = co_await auth.Check("Basic YWxpY2U6czNjcmV0"); }, asio::detached);
  io.run();
  EXPECT_EQ(cached, Result::kAllowed);
}

}  // namespace
}  // namespace pgpulse::http
