#include "exporter/config/dsn.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <stdexcept>
#include <utility>
#include <vector>

#include "exporter/pg/conninfo.h"

namespace pgpulse::config {
namespace {

constexpr const char* kMask = "xxxxx";
constexpr const char* kUnparseable = "<unparseable DSN, not shown>";
constexpr const char* kUnparseableError =
    "invalid DSN: libpq cannot parse it; it is not shown because it may hold a password";
constexpr const char* kStrayAtError =
    "invalid DSN: the URI has an '@' after its user name and password, so libpq would read part of them as host, "
    "port or database name; percent-encode '/' (%2F) and '@' (%40) in the user name and password";

// libpq's URI prefixes, compared as libpq does: case-sensitive, at the very start.
std::size_t UriPrefixLength(const std::string& dsn) {
  for (const char* prefix : {"postgresql://", "postgres://"}) {
    if (dsn.rfind(prefix, 0) == 0) return std::strlen(prefix);
  }
  return 0;
}

// libpq ends a URI's user-info at the first '@' that comes before any '/'. A later '@' before the query means the
// user-info held an unencoded '/' or '@' and was cut short: libpq parses the DSN, but the rest of the password
// becomes the host, port or database name, which are shown on the status page and quoted by libpq's connect errors.
bool UserInfoCutShort(const std::string& dsn) {
  const auto start = UriPrefixLength(dsn);
  if (start == 0) return false;
  auto netloc = dsn.find_first_of("@/", start);
  netloc = netloc != std::string::npos && dsn[netloc] == '@' ? netloc + 1 : start;
  const auto query = dsn.find('?', netloc);
  return dsn.find('@', netloc) < query;
}

// A value as libpq's key=value syntax reads it back: bare when it can be, else single-quoted with ' and \ escaped.
std::string QuoteValue(const std::string& value) {
  const bool bare = !value.empty() && std::none_of(value.begin(), value.end(), [](char c) {
    return c == ' ' || (c >= '\t' && c <= '\r') || c == '\'' || c == '"' || c == '\\';
  });
  if (bare) return value;
  std::string quoted = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "'";
}

// Where a DSN points comes first, so that a reader finds it at a glance; the rest keeps libpq's keyword order.
int DisplayRank(const std::string& keyword) {
  static constexpr std::array<const char*, 5> kFirst = {"host", "hostaddr", "port", "dbname", "user"};
  const auto it = std::find(kFirst.begin(), kFirst.end(), keyword);
  return static_cast<int>(it - kFirst.begin());
}

}  // namespace

pg::ConnParams ParseDsn(const std::string& dsn) {
  if (UserInfoCutShort(dsn)) throw std::invalid_argument(kStrayAtError);
  const auto options = pg::ParseConnInfo(dsn);
  if (!options) throw std::invalid_argument(kUnparseableError);
  pg::ConnParams params;
  for (const auto& option : *options) params[option.keyword] = option.value;
  return params;
}

std::string RedactDsn(const std::string& dsn) {
  if (UserInfoCutShort(dsn)) return kUnparseable;
  const auto options = pg::ParseConnInfo(dsn);
  if (!options) return kUnparseable;
  std::vector<std::pair<std::string, std::string>> shown;
  for (const auto& option : *options) {
    shown.emplace_back(option.keyword, option.secret ? std::string(kMask) : QuoteValue(option.value));
  }
  std::stable_sort(shown.begin(), shown.end(),
                   [](const auto& a, const auto& b) { return DisplayRank(a.first) < DisplayRank(b.first); });
  std::string out;
  for (const auto& [keyword, value] : shown) out += (out.empty() ? "" : " ") + keyword + "=" + value;
  return out;
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
