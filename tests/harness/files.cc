#include "tests/harness/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "tests/harness/errno_text.h"

namespace pgpulse::testing {
namespace {

std::string TempRoot() {
  const char* tmpdir = std::getenv("TMPDIR");
  return tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp";
}

std::string MakeTempDir() {
  std::string pattern = TempRoot() + "/pgpulse-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp " + pattern + ": " + ErrnoText(errno));
  }
  return pattern;
}

// Directories made by WriteTempFile, removed at exit. Heap-allocated and never destroyed, so the atexit hook cannot
// run after the container's own destructor.
std::mutex& TempFileMutex() {
  static auto* mutex = new std::mutex;
  return *mutex;
}
std::vector<std::string>& TempFileDirs() {
  static auto* dirs = new std::vector<std::string>;
  return *dirs;
}
void RemoveTempFileDirs() {
  std::lock_guard lock(TempFileMutex());
  for (const std::string& dir : TempFileDirs()) {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
  TempFileDirs().clear();
}

void WriteAll(int fd, const std::string& contents, const std::string& path) {
  size_t done = 0;
  while (done < contents.size()) {
    const ssize_t n = write(fd, contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::runtime_error("write " + path + ": " + ErrnoText(errno));
    done += static_cast<size_t>(n);
  }
}

}  // namespace

TempDir::TempDir() : path_(MakeTempDir()) {}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string WriteTempFile(const std::string& contents, const std::string& suffix) {
  const std::string dir = MakeTempDir();
  {
    std::lock_guard lock(TempFileMutex());
    static const bool registered = (std::atexit(RemoveTempFileDirs), true);
    (void)registered;
    TempFileDirs().push_back(dir);
  }
  std::string path = dir + "/file" + suffix;
  WriteFile(path, contents);
  return path;
}

void WriteFile(const std::string& path, const std::string& contents) {
  mode_t mode = 0600;
  if (struct stat existing{}; stat(path.c_str(), &existing) == 0) mode = existing.st_mode & 07777;
  std::string temp = path + ".tmp-XXXXXX";
  const int fd = mkstemp(temp.data());
  if (fd < 0) throw std::runtime_error("mkstemp " + temp + ": " + ErrnoText(errno));
  try {
    WriteAll(fd, contents, temp);
    if (fchmod(fd, mode) != 0) throw std::runtime_error("fchmod " + temp + ": " + ErrnoText(errno));
  } catch (...) {
    close(fd);
    unlink(temp.c_str());
    throw;
  }
  close(fd);
  if (rename(temp.c_str(), path.c_str()) != 0) {
    const int error = errno;
    unlink(temp.c_str());
    throw std::runtime_error("rename " + temp + " -> " + path + ": " + ErrnoText(error));
  }
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path + ": " + ErrnoText(errno));
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

}  // namespace pgpulse::testing
