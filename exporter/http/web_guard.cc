#include "exporter/http/web_guard.h"

#include <memory>
#include <utility>

#include "exporter/http/basic_auth.h"

namespace pgpulse::http {
namespace {

namespace asio = boost::asio;
using Headers = std::vector<std::pair<std::string, std::string>>;

Response WithHeaders(Response response, const Headers& headers) {
  for (const auto& header : headers) response.headers.push_back(header);
  return response;
}

}  // namespace

Handler GuardHandler(Handler inner, const WebConfig& config) {
  std::shared_ptr<BasicAuth> auth;
  if (!config.basic_auth_users.empty()) auth = std::make_shared<BasicAuth>(config.basic_auth_users);
  auto headers = std::make_shared<const Headers>(config.headers);
  if (!auth && headers->empty()) return inner;
  return [inner = std::move(inner), auth, headers](Request request) -> asio::awaitable<Response> {
    if (auth) {
      auto found = request.headers.find("authorization");
      std::string credentials = found == request.headers.end() ? "" : std::move(found->second);
      if (found != request.headers.end()) request.headers.erase(found);  // handlers never see the password
      // Named locals throughout: g++ 12 mishandles temporaries that live across a co_await.
      auto check = auth->Check(std::move(credentials));
      const BasicAuth::Result result = co_await std::move(check);
      if (result == BasicAuth::Result::kBusy) {
        co_return WithHeaders(Response{503,
                                       "text/plain; charset=utf-8",
                                       "too many authentication checks in progress\n",
                                       {{"Retry-After", "1"}}},
                              *headers);
      }
      if (result == BasicAuth::Result::kDenied) {
        co_return WithHeaders(
            Response{
                401, "text/plain; charset=utf-8", "Unauthorized\n", {{"WWW-Authenticate", "Basic realm=\"pgpulse\""}}},
            *headers);
      }
    }
    auto answer = inner(std::move(request));
    Response response = co_await std::move(answer);
    co_return WithHeaders(std::move(response), *headers);
  };
}

}  // namespace pgpulse::http
