#include "tests/harness/listening_socket.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace pgpulse::testing {
namespace {

constexpr const char* kTcpListen = "0A";  // TCP_LISTEN in /proc/net/tcp's "st" column

// Socket inodes listening on the port, from the process's own network namespace view.
std::set<std::string> ListeningInodes(pid_t pid, uint16_t port) {
  char port_hex[8];
  (void)std::snprintf(port_hex, sizeof port_hex, "%04X", port);
  const std::string loopback = std::string("0100007F:") + port_hex;  // 127.0.0.1, little-endian hex
  const std::string any = std::string("00000000:") + port_hex;
  std::set<std::string> inodes;
  std::ifstream table("/proc/" + std::to_string(pid) + "/net/tcp");
  std::string line;
  std::getline(table, line);  // header
  while (std::getline(table, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
    if (!(fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >> inode)) {
      continue;
    }
    if (state == kTcpListen && (local == loopback || local == any)) inodes.insert(inode);
  }
  return inodes;
}

}  // namespace

bool ProcessListensOn(pid_t pid, uint16_t port) {
  const std::set<std::string> inodes = ListeningInodes(pid, port);
  if (inodes.empty()) return false;
  const std::string fd_dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* dir = opendir(fd_dir.c_str());
  if (dir == nullptr) return false;
  bool found = false;
  while (const dirent* entry = readdir(dir)) {
    char target[256];
    const ssize_t length = readlink((fd_dir + "/" + entry->d_name).c_str(), target, sizeof target - 1);
    if (length <= 0) continue;
    const std::string link(target, static_cast<size_t>(length));  // "socket:[12345]"
    if (link.rfind("socket:[", 0) == 0 && inodes.count(link.substr(8, link.size() - 9)) != 0) {
      found = true;
      break;
    }
  }
  closedir(dir);
  return found;
}

}  // namespace pgpulse::testing
