#include "exporter/config/dsn.h"

#include <libpq-fe.h>

#include <cctype>
#include <memory>
#include <optional>
#include <regex>
#include <stdexcept>

namespace pgpulse::config {
namespace {

constexpr const char* kMask = "xxxxx";

bool IsUri(const std::string& dsn) { return dsn.rfind("postgresql://", 0) == 0 || dsn.rfind("postgres://", 0) == 0; }

// libpq's parse errors quote fragments of the input; keep its wording but drop the fragments, except the name of
// an unknown option, which is never secret and is the useful part.
std::string SafeLibpqMessage(std::string message) {
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  if (message.rfind("invalid connection option", 0) == 0) return message;
  return std::regex_replace(message, std::regex("\"[^\"]*\""), "\"...\"");
}

std::string RedactUri(const std::string& dsn) {
  const auto scheme_end = dsn.find("://") + 3;
  // The user-info ends at the last '@' before the query: an unencoded '/' or '@' in a password must not end it early.
  const auto query = dsn.find('?', scheme_end);
  const auto at = dsn.rfind('@', query == std::string::npos ? std::string::npos : query);
  std::string out = dsn;
  if (at != std::string::npos && at >= scheme_end) {
    const auto colon = dsn.find(':', scheme_end);
    if (colon != std::string::npos && colon < at) out = dsn.substr(0, colon + 1) + kMask + dsn.substr(at);
  }
  static const std::regex kPasswordParam("([?&]password=)[^&]*");
  return std::regex_replace(out, kPasswordParam, std::string("$1") + kMask);
}

// Walks a key=value conninfo string with libpq's quoting rules (single quotes, backslash escapes) and masks the
// value of every password keyword. Returns nullopt when the text does not tokenise.
std::optional<std::string> RedactKeywordValue(const std::string& dsn) {
  std::string out;
  std::size_t i = 0;
  const auto n = dsn.size();
  while (i < n) {
    while (i < n && std::isspace(static_cast<unsigned char>(dsn[i]))) out += dsn[i++];
    if (i >= n) break;
    std::size_t key_start = i;
    while (i < n && dsn[i] != '=' && !std::isspace(static_cast<unsigned char>(dsn[i]))) ++i;
    std::string key = dsn.substr(key_start, i - key_start);
    while (i < n && std::isspace(static_cast<unsigned char>(dsn[i]))) ++i;
    if (i >= n || dsn[i] != '=') return std::nullopt;
    ++i;
    while (i < n && std::isspace(static_cast<unsigned char>(dsn[i]))) ++i;
    std::size_t value_start = i;
    if (i < n && dsn[i] == '\'') {
      ++i;
      while (i < n && dsn[i] != '\'') i += dsn[i] == '\\' ? 2 : 1;
      if (i >= n) return std::nullopt;
      ++i;
    } else {
      while (i < n && !std::isspace(static_cast<unsigned char>(dsn[i]))) i += dsn[i] == '\\' ? 2 : 1;
      i = std::min(i, n);
    }
    out += key + "=" + (key == "password" ? std::string(kMask) : dsn.substr(value_start, i - value_start));
  }
  return out;
}

}  // namespace

pg::ConnParams ParseDsn(const std::string& dsn) {
  char* error = nullptr;
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(PQconninfoParse(dsn.c_str(), &error),
                                                                       &PQconninfoFree);
  if (!options) {
    std::string message = error != nullptr ? SafeLibpqMessage(error) : "out of memory";
    PQfreemem(error);
    throw std::invalid_argument("invalid DSN: " + message);
  }
  pg::ConnParams params;
  for (auto* option = options.get(); option->keyword != nullptr; ++option) {
    if (option->val != nullptr) params[option->keyword] = option->val;
  }
  return params;
}

std::string RedactDsn(const std::string& dsn) {
  if (IsUri(dsn)) return RedactUri(dsn);
  return RedactKeywordValue(dsn).value_or("<unparseable DSN, not shown>");
}

std::string DescribeDsn(const pg::ConnParams& params) {
  auto get = [&params](const char* key, const std::string& fallback) {
    auto it = params.find(key);
    return it == params.end() || it->second.empty() ? fallback : it->second;
  };
  std::string user = get("user", "");
  return get("host", get("hostaddr", "localhost")) + ":" + get("port", "5432") + "/" +
         get("dbname", user.empty() ? "postgres" : user);
}

}  // namespace pgpulse::config
