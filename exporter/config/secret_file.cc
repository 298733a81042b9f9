#include "exporter/config/secret_file.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace pgpulse::config {

std::string ReadSecretFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read secret file " + path + ": " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  std::string secret = text.str();
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  return secret;
}

std::optional<std::string> CheckSecretFile(const std::string& path) {
  try {
    if (ReadSecretFile(path).empty()) return "secret file " + path + " is empty";
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return std::nullopt;
}

}  // namespace pgpulse::config
