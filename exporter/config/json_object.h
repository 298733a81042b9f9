#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace pgpulse::config {

// A JSON syntax error; `offset` is where in the text it was found. The message never quotes the text.
class JsonError : public std::runtime_error {
 public:
  JsonError(std::size_t offset, const std::string& message) : std::runtime_error(message), offset_(offset) {}
  std::size_t offset() const { return offset_; }

 private:
  std::size_t offset_;
};

// The members of a JSON object (RFC 8259, strict): each key with its value when that is a string (escapes
// decoded, \uXXXX as UTF-8), nullopt for any other value (number, object, ...), which is checked but not kept.
// Secrets managers write their secrets this way. Throws JsonError for anything that is not one JSON object.
std::map<std::string, std::optional<std::string>> ParseJsonObject(std::string_view text);

}  // namespace pgpulse::config
