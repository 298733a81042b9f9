#include "exporter/config/regular_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace pgpulse::config {
namespace {

// Why a file that is not regular is refused, naming what it is.
std::string NotRegular(mode_t mode) {
  const char* kind = S_ISFIFO(mode)   ? "a FIFO"
                     : S_ISDIR(mode)  ? "a directory"
                     : S_ISCHR(mode)  ? "a character device"
                     : S_ISBLK(mode)  ? "a block device"
                     : S_ISSOCK(mode) ? "a socket"
                                      : nullptr;
  return kind == nullptr ? "is not a regular file" : std::string("is ") + kind + ", not a regular file";
}

// Closes the descriptor on every path out, exceptions included.
class Descriptor {
 public:
  explicit Descriptor(int fd) : fd_(fd) {}
  ~Descriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

RegularFile ReadRegularFile(const std::string& path, std::size_t max_bytes) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, freezing the only thread. It has no
  // effect on regular files, which are all this reads. Symlinks are followed on purpose (no O_NOFOLLOW).
  Descriptor fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  if (fd.get() < 0) throw FileReadError(path, std::strerror(errno));
  // fstat on the open descriptor, not stat on the path before: the file checked is the file read, even if the path
  // is swapped between the two.
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw FileReadError(path, std::strerror(errno));
  if (!S_ISREG(st.st_mode)) throw FileReadError(path, NotRegular(st.st_mode));
  const std::string too_large = "is larger than " + std::to_string(max_bytes) + " bytes";
  if (st.st_size < 0 || static_cast<std::size_t>(st.st_size) > max_bytes) throw FileReadError(path, too_large);

  RegularFile file;
  file.mode = st.st_mode & 07777;
  file.owner = st.st_uid;
  // The size from fstat is a hint only (the file may grow while read): read to EOF, but never past the cap.
  file.content.resize(static_cast<std::size_t>(st.st_size) + 1);
  std::size_t used = 0;
  for (;;) {
    if (used == file.content.size()) {
      if (used > max_bytes) throw FileReadError(path, too_large);
      file.content.resize(std::min(max_bytes + 1, used * 2 + 1));
    }
    const ssize_t n = ::read(fd.get(), file.content.data() + used, file.content.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw FileReadError(path, std::strerror(errno));
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  if (used > max_bytes) throw FileReadError(path, too_large);
  file.content.resize(used);
  return file;
}

}  // namespace pgpulse::config
