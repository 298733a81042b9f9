// Temporary files and child processes for tests that drive real programs.
#ifndef PGPULSE_TESTS_HARNESS_PROCESS_H_
#define PGPULSE_TESTS_HARNESS_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

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

// Binds 127.0.0.1:0 and reports the port the kernel chose. The port is free now, not reserved: a caller that loses
// the race to another process must retry with a new one.
uint16_t FreePort();

// A running program. stdout and stderr both go to one log file in a temp dir that lives as long as this object.
// The child gets SIGKILL if the thread that created this object dies, so construct it on a thread that outlives it
// (the test's own thread, normally).
class ChildProcess {
 public:
  // argv[0] is a path or a name looked up in PATH. env entries are added to (or override) the inherited environment.
  // Throws std::runtime_error if the program cannot be started.
  ChildProcess(std::vector<std::string> argv, std::map<std::string, std::string> env = {});
  ~ChildProcess();  // SIGTERM, wait up to 5 s, then SIGKILL; reap
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  const std::vector<std::string>& argv() const { return argv_; }
  const std::string& log_path() const { return log_path_; }

  std::string Output() const;  // everything written so far
  // True once `needle` appears in the output; false on timeout, or as soon as the process has exited without it.
  bool WaitForOutput(const std::string& needle, std::chrono::milliseconds timeout) const;
  // Exit code (128 + signal if killed), or nullopt if still running after `timeout`. Reaps; later calls return the
  // same code at once.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  void Signal(int sig);  // no-op once the process has been reaped
  bool Running();

 private:
  std::vector<std::string> argv_;
  TempDir dir_;
  std::string log_path_;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

struct CommandResult {
  int exit_code;       // exit status, 128 + signal if killed, -1 if killed by RunCommand's timeout
  std::string output;  // stdout + stderr, interleaved as written
};

// Runs a command to completion with stdin from /dev/null. On timeout the command's whole process group is killed
// and a note is appended to the output. Throws std::runtime_error if the program cannot be started.
CommandResult RunCommand(std::vector<std::string> argv, std::map<std::string, std::string> env = {},
                         std::chrono::milliseconds timeout = std::chrono::seconds(60));

// Same, with stdin read from `stdin_contents`.
CommandResult RunCommandWithInput(std::vector<std::string> argv, const std::string& stdin_contents,
                                  std::map<std::string, std::string> env = {},
                                  std::chrono::milliseconds timeout = std::chrono::seconds(60));

}  // namespace pgpulse::testing

#endif  // PGPULSE_TESTS_HARNESS_PROCESS_H_
