// Child processes for tests that drive real programs.
#ifndef PGPULSE_TESTS_HARNESS_PROCESS_H_
#define PGPULSE_TESTS_HARNESS_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tests/harness/files.h"
#include "tests/harness/free_port.h"

namespace pgpulse::testing {

// A running program. stdout and stderr both go to one log file in a temp dir that lives as long as this object.
// The child gets SIGKILL if the thread that created this object dies, so construct it on a thread that outlives it
// (the test's own thread, normally).
class ChildProcess {
 public:
  // argv[0] is a path or a name looked up in PATH. env entries are added to (or override) the inherited environment.
  // Throws std::runtime_error if the program cannot be started.
  ChildProcess(std::vector<std::string> argv, std::map<std::string, std::string> env = {});
  // SIGTERM, wait up to 5 s, then SIGKILL; reap. Fails the running test if the output holds a sanitizer report
  // (sanitizer_report.h).
  ~ChildProcess();
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
// and a note is appended to the output. Fails the running test if the output holds a sanitizer report. Throws
// std::runtime_error if the program cannot be started.
CommandResult RunCommand(std::vector<std::string> argv, std::map<std::string, std::string> env = {},
                         std::chrono::milliseconds timeout = std::chrono::seconds(60));

// Same, with stdin read from `stdin_contents`.
CommandResult RunCommandWithInput(std::vector<std::string> argv, const std::string& stdin_contents,
                                  std::map<std::string, std::string> env = {},
                                  std::chrono::milliseconds timeout = std::chrono::seconds(60));

}  // namespace pgpulse::testing

#endif  // PGPULSE_TESTS_HARNESS_PROCESS_H_
