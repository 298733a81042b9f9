#include "exporter/pg/conninfo.h"

#include <libpq-fe.h>

#include <cstring>
#include <memory>

namespace pgpulse::pg {
namespace {

// libpq flags secret keywords with dispchar "*"; the names are listed too, in case a libpq marks one differently.
bool IsSecret(const PQconninfoOption& option) {
  return (option.dispchar != nullptr && std::strchr(option.dispchar, '*') != nullptr) ||
         std::strcmp(option.keyword, "password") == 0 || std::strcmp(option.keyword, "sslpassword") == 0;
}

}  // namespace

std::optional<std::vector<ConnInfoOption>> ParseConnInfo(const std::string& conninfo) {
  char* error = nullptr;
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(PQconninfoParse(conninfo.c_str(), &error),
                                                                       &PQconninfoFree);
  PQfreemem(error);
  if (!options) return std::nullopt;
  std::vector<ConnInfoOption> parsed;
  for (auto* option = options.get(); option->keyword != nullptr; ++option) {
    if (option->val != nullptr) parsed.push_back({option->keyword, option->val, IsSecret(*option)});
  }
  return parsed;
}

}  // namespace pgpulse::pg
