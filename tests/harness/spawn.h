// Low-level process launching shared by ChildProcess, RunCommand and the PostgreSQL harness.
#ifndef PGPULSE_TESTS_HARNESS_SPAWN_H_
#define PGPULSE_TESTS_HARNESS_SPAWN_H_

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tests/harness/os_user.h"

namespace pgpulse::testing {

struct SpawnOptions {
  // argv[0] is a path or a name looked up in the child's PATH.
  std::vector<std::string> argv;
  // Added to (or overriding) the inherited environment.
  std::map<std::string, std::string> env;
  // Inherited variables whose names start with one of these are dropped, so that e.g. a developer's PGPORT cannot
  // redirect initdb or pg_ctl.
  std::vector<std::string> drop_env_prefixes;
  // stdout and stderr are appended to this file (created 0600 if missing).
  std::string output_path = "/dev/null";
  std::string stdin_path = "/dev/null";
  // When >= 0, used as stdin instead of stdin_path (e.g. the read end of a pipe).
  int stdin_fd = -1;
  // Empty: inherit the working directory.
  std::string cwd;
  // Run as this user instead of ourselves (needs root).
  std::optional<OsUser> user;
  // Own process group, so a timeout can kill the whole tree the command started.
  bool new_process_group = false;
  // Own session: no terminal signals reach the child (used by the orphan guard, which must outlive a Ctrl-C).
  bool new_session = false;
  // SIGKILL the child when the thread that spawned it dies, so a crashed test leaves no stray processes.
  bool die_with_parent = true;
};

// Starts the process. Throws std::runtime_error if the program cannot be found or exec fails: the error is passed
// back from the child, so a missing binary is reported by name instead of as a mysterious exit code 127.
pid_t Spawn(const SpawnOptions& options);

// Converts a waitpid status into a shell-style exit code: the exit status, or 128 + signal number.
int ExitCodeFromStatus(int status);

// Reaps `pid` if it exits within `timeout`; returns its exit code, or nullopt if it is still running.
std::optional<int> WaitForExit(pid_t pid, std::chrono::milliseconds timeout);

// Reports whether `pid` (our child) has exited, without reaping it, so const observers can ask.
bool HasExited(pid_t pid);

// Human-readable argv for error messages.
std::string JoinArgv(const std::vector<std::string>& argv);

}  // namespace pgpulse::testing

#endif  // PGPULSE_TESTS_HARNESS_SPAWN_H_
