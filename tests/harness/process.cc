// ChildProcess and RunCommand (declared in process.h).
#include "tests/harness/process.h"

#include <signal.h>
#include <sys/wait.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "tests/harness/sanitizer_report.h"
#include "tests/harness/spawn.h"

namespace pgpulse::testing {
namespace {

std::string ReadIfExists(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream contents;
  if (in) contents << in.rdbuf();
  return contents.str();
}

CommandResult RunToCompletion(std::vector<std::string> argv, std::map<std::string, std::string> env,
                              std::chrono::milliseconds timeout, const std::string& stdin_path) {
  TempDir dir;
  SpawnOptions options;
  options.argv = std::move(argv);
  options.env = std::move(env);
  options.output_path = dir.path() + "/output";
  options.stdin_path = stdin_path;
  options.new_process_group = true;
  const pid_t pid = Spawn(options);
  std::optional<int> code = WaitForExit(pid, timeout);
  if (!code) {
    // The whole group: a shell wrapper's own children would otherwise survive it.
    kill(-pid, SIGKILL);
    WaitForExit(pid, std::chrono::seconds(10));
  }
  CommandResult result{code.value_or(-1), ReadIfExists(options.output_path)};
  ExpectNoSanitizerReport(result.output, options.argv);
  if (!code) {
    result.output += "\n[pgpulse test harness: " + JoinArgv(options.argv) + " timed out after " +
                     std::to_string(timeout.count()) + " ms and was killed]\n";
  }
  return result;
}

}  // namespace

ChildProcess::ChildProcess(std::vector<std::string> argv, std::map<std::string, std::string> env)
    : argv_(std::move(argv)), log_path_(dir_.path() + "/output.log") {
  SpawnOptions options;
  options.argv = argv_;
  options.env = std::move(env);
  options.output_path = log_path_;
  pid_ = Spawn(options);
}

ChildProcess::~ChildProcess() {
  if (!exit_code_) {
    kill(pid_, SIGTERM);
    if (!WaitForExit(pid_, std::chrono::seconds(5))) {
      kill(pid_, SIGKILL);
      WaitForExit(pid_, std::chrono::seconds(30));
    }
  }
  // After the exit: LeakSanitizer reports only then.
  ExpectNoSanitizerReport(Output(), argv_);
}

std::string ChildProcess::Output() const { return ReadIfExists(log_path_); }

bool ChildProcess::WaitForOutput(const std::string& needle, std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    // Checked before reading, so output written just before the exit is still seen.
    const bool exited = exit_code_.has_value() || HasExited(pid_);
    if (Output().find(needle) != std::string::npos) return true;
    if (exited || std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::optional<int> ChildProcess::Wait(std::chrono::milliseconds timeout) {
  if (!exit_code_) exit_code_ = WaitForExit(pid_, timeout);
  return exit_code_;
}

void ChildProcess::Signal(int sig) {
  // Once reaped the pid may belong to someone else.
  if (!exit_code_) kill(pid_, sig);
}

bool ChildProcess::Running() { return !Wait(std::chrono::milliseconds(0)).has_value(); }

CommandResult RunCommand(std::vector<std::string> argv, std::map<std::string, std::string> env,
                         std::chrono::milliseconds timeout) {
  return RunToCompletion(std::move(argv), std::move(env), timeout, "/dev/null");
}

CommandResult RunCommandWithInput(std::vector<std::string> argv, const std::string& stdin_contents,
                                  std::map<std::string, std::string> env, std::chrono::milliseconds timeout) {
  TempDir dir;
  const std::string input = dir.path() + "/stdin";
  WriteFile(input, stdin_contents);
  return RunToCompletion(std::move(argv), std::move(env), timeout, input);
}

}  // namespace pgpulse::testing
