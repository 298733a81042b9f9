#include "exporter/config/credentials.h"

#include <sys/stat.h>

#include <cstdlib>
#include <functional>
#include <stdexcept>

#include "exporter/config/json_object.h"
#include "exporter/config/secret_file.h"

namespace pgpulse::config {
namespace {

// libpq's rule: the passfile keyword, else PGPASSFILE, else ~/.pgpass.
std::string PassfilePath(const TargetConfig& target) {
  if (auto it = target.conn.find("passfile"); it != target.conn.end()) return it->second;
  if (const char* env = std::getenv("PGPASSFILE"); env != nullptr && *env != '\0') return env;
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') return std::string(home) + "/.pgpass";
  return {};
}

std::string RequiredString(const std::map<std::string, std::optional<std::string>>& members, const char* key,
                           const std::string& path) {
  auto it = members.find(key);
  if (it == members.end()) throw std::runtime_error("secret file " + path + ": has no \"" + key + "\"");
  if (!it->second || it->second->empty()) {
    throw std::runtime_error("secret file " + path + ": \"" + key + "\" must be a non-empty string");
  }
  return *it->second;
}

}  // namespace

Credentials ReadJsonSecret(const std::string& path) {
  const std::string text = ReadSecretFile(path, kJsonSecretMaxBytes);
  std::map<std::string, std::optional<std::string>> members;
  try {
    members = ParseJsonObject(text);
  } catch (const JsonError& e) {
    // The offset is enough to find the fault; the text itself is a secret.
    throw std::runtime_error("secret file " + path + ": not a valid JSON object (" + e.what() + " at byte " +
                             std::to_string(e.offset() + 1) + ")");
  }
  Credentials credentials;
  credentials.user = RequiredString(members, "username", path);
  credentials.password = RequiredString(members, "password", path);
  return credentials;
}

Credentials LoadCredentials(const TargetConfig& target) {
  Credentials credentials;
  if (auto it = target.conn.find("user"); it != target.conn.end()) credentials.user = it->second;
  if (auto it = target.conn.find("password"); it != target.conn.end()) credentials.password = it->second;
  if (!target.password.empty()) credentials.password = target.password;
  if (!target.user_file.empty()) credentials.user = ReadSecretFile(target.user_file);
  if (!target.password_file.empty()) credentials.password = ReadSecretFile(target.password_file);
  if (!target.secret_file.empty()) credentials = ReadJsonSecret(target.secret_file);
  for (const auto& part : {credentials.user, credentials.password}) {
    if (part && part->empty()) throw std::runtime_error("an empty user name or password was configured");
  }
  if (!credentials.password) {
    // Unreadable or absent is not an error here: libpq then simply finds no password, and says so at connect. libpq
    // itself skips a passfile that is not a regular file, so a FIFO here must not stall pgpulse either.
    if (auto passfile = PassfilePath(target); !passfile.empty()) {
      try {
        credentials.passfile_digest = std::hash<std::string>{}(ReadSecretFile(passfile, kPassfileMaxBytes));
      } catch (const std::runtime_error&) {
      }
    }
  }
  return credentials;
}

std::vector<std::string> CredentialFiles(const TargetConfig& target) {
  std::vector<std::string> files;
  for (const auto* file : {&target.secret_file, &target.user_file, &target.password_file}) {
    if (!file->empty()) files.push_back(*file);
  }
  const bool has_password = !target.secret_file.empty() || !target.password_file.empty() || !target.password.empty() ||
                            target.conn.count("password") > 0;
  if (!has_password) {
    if (auto passfile = PassfilePath(target); !passfile.empty()) files.push_back(passfile);
  }
  return files;
}

FileStamp StampFile(const std::string& path) {
  struct stat st {};
  FileStamp stamp;
  if (::stat(path.c_str(), &st) != 0) return stamp;
  stamp.exists = true;
  stamp.device = st.st_dev;
  stamp.inode = st.st_ino;
  stamp.size = st.st_size;
  stamp.mtime_ns = static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
  stamp.ctime_ns = static_cast<long long>(st.st_ctim.tv_sec) * 1000000000LL + st.st_ctim.tv_nsec;
  return stamp;
}

}  // namespace pgpulse::config
