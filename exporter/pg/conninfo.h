#pragma once

#include <optional>
#include <string>
#include <vector>

namespace pgpulse::pg {

// One keyword of a parsed connection string that has a value.
struct ConnInfoOption {
  std::string keyword;
  std::string value;
  bool secret = false;  // libpq shows it masked (password, sslpassword)
};

// Parses a connection string, in URI (postgresql://...) or key=value form, with libpq's own parser: the keywords
// that have a value, in libpq's keyword order. nullopt when libpq cannot parse it; libpq's error text is dropped
// unread, because it quotes the input, which may hold the password.
std::optional<std::vector<ConnInfoOption>> ParseConnInfo(const std::string& conninfo);

}  // namespace pgpulse::pg
