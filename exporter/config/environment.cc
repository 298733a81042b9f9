#include "exporter/config/environment.h"

#include <cstdlib>
#include <map>
#include <regex>
#include <stdexcept>

#include "exporter/config/dsn.h"
#include "exporter/config/secret_file.h"

namespace pgpulse::config {

EnvLookup ProcessEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr || *value == '\0') return std::nullopt;
    return std::string(value);
  };
}

std::vector<std::string> SplitDataSourceNames(const std::string& value) {
  static const std::regex kDsnStart(R"(^\s*(postgres(ql)?://|[A-Za-z_]+\s*=))");
  std::vector<std::string> dsns;
  std::string::size_type start = 0;
  while (start <= value.size()) {
    auto comma = value.find(',', start);
    std::string piece = value.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (dsns.empty() || std::regex_search(piece, kDsnStart)) {
      dsns.push_back(piece);
    } else {
      dsns.back() += "," + piece;
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return dsns;
}

std::vector<std::string> SplitDataSourceUris(const std::string& value) {
  std::vector<std::string> uris;
  std::string pending;
  std::string::size_type start = 0;
  while (true) {
    auto comma = value.find(',', start);
    std::string piece = value.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    pending += (pending.empty() ? "" : ",") + piece;
    if (comma == std::string::npos || piece.find_first_of("/?") != std::string::npos) {
      uris.push_back(pending);
      pending.clear();
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return uris;
}

std::vector<TargetConfig> TargetsFromEnvironment(const EnvLookup& env) {
  std::vector<TargetConfig> targets;
  auto add = [&targets](const std::string& dsn, const std::string& origin) {
    TargetConfig target;
    target.origin = origin;
    try {
      target.conn = ParseDsn(dsn);
    } catch (const std::invalid_argument& e) {
      throw ConfigError(origin + ": " + e.what());
    }
    target.redacted_dsn = RedactDsn(dsn);
    target.name = DescribeDsn(target.conn);
    targets.push_back(std::move(target));
  };

  if (auto names = env("DATA_SOURCE_NAME")) {
    auto dsns = SplitDataSourceNames(*names);
    for (std::size_t i = 0; i < dsns.size(); ++i) {
      add(dsns[i], dsns.size() == 1 ? "DATA_SOURCE_NAME" : "DATA_SOURCE_NAME[" + std::to_string(i) + "]");
    }
  } else if (auto uris = env("DATA_SOURCE_URI")) {
    // Credentials stay out of the DSN: the user and password are passed to libpq as keywords, and the files are
    // re-read at every connect so that a rotated secret is picked up.
    std::string user = env("DATA_SOURCE_USER").value_or("");
    std::string user_file = env("DATA_SOURCE_USER_FILE").value_or("");
    std::string password = env("DATA_SOURCE_PASS").value_or("");
    std::string password_file = env("DATA_SOURCE_PASS_FILE").value_or("");
    for (const auto& [file, variable] :
         {std::pair{user_file, "DATA_SOURCE_USER_FILE"}, {password_file, "DATA_SOURCE_PASS_FILE"}}) {
      if (file.empty()) continue;
      if (auto problem = CheckSecretFile(file)) throw ConfigError(std::string(variable) + ": " + *problem);
    }
    auto list = SplitDataSourceUris(*uris);
    for (std::size_t i = 0; i < list.size(); ++i) {
      std::string uri = list[i];
      if (uri.rfind("postgres://", 0) != 0 && uri.rfind("postgresql://", 0) != 0) uri = "postgresql://" + uri;
      add(uri, list.size() == 1 ? "DATA_SOURCE_URI" : "DATA_SOURCE_URI[" + std::to_string(i) + "]");
      auto& target = targets.back();
      if (!user.empty()) target.conn["user"] = user;
      target.user_file = user_file;
      target.password = password;
      target.password_file = password_file;
      target.name = DescribeDsn(target.conn);
    }
  }
  // Two DSNs to the same place get distinct names rather than colliding silently.
  std::map<std::string, int> uses;
  for (auto& target : targets) {
    if (int n = uses[target.name]++; n > 0) target.name += "#" + std::to_string(n + 1);
  }
  return targets;
}

}  // namespace pgpulse::config
