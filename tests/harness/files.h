// Temporary directories and files, and whole-file reads and writes, for tests.
#ifndef PGPULSE_TESTS_HARNESS_FILES_H_
#define PGPULSE_TESTS_HARNESS_FILES_H_

#include <string>

namespace pgpulse::testing {

// A fresh directory (mode 0700) under $TMPDIR or /tmp, removed recursively on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Writes contents to a new 0600 file in a fresh temp location; returns the path. Caller may overwrite it later.
// The file lives until the test process exits (removed by an atexit hook), so paths can be handed to long-lived
// processes without the caller managing lifetimes.
std::string WriteTempFile(const std::string& contents, const std::string& suffix = "");

// Atomically replaces `path` (write a sibling temp file, then rename), so a process watching or re-reading the file
// never sees it half written. Keeps the mode of an existing file; a new file gets 0600.
void WriteFile(const std::string& path, const std::string& contents);

// Reads a whole file; throws std::runtime_error if it cannot be opened.
std::string ReadFile(const std::string& path);

}  // namespace pgpulse::testing

#endif  // PGPULSE_TESTS_HARNESS_FILES_H_
