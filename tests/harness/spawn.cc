#include "tests/harness/spawn.h"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <stdexcept>
#include <string_view>
#include <thread>

#include "tests/harness/errno_text.h"

namespace pgpulse::testing {
namespace {

// What the child reports back through the close-on-exec pipe when it cannot exec.
struct ChildFailure {
  int step;
  int error;
};
constexpr const char* kStepNames[] = {
    "open stdin", "open output", "set up process group or session", "switch user", "set parent-death signal",
    "chdir",      "exec"};
enum Step { kStdin, kOutput, kGroup, kUser, kDeathSignal, kCwd, kExec };

bool IsExecutableFile(const std::string& path) {
  struct stat info {};
  return stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) && access(path.c_str(), X_OK) == 0;
}

std::string ResolveProgram(const std::string& name, const std::string& path_variable) {
  if (name.find('/') != std::string::npos) return name;
  std::string_view rest = path_variable;
  while (true) {
    const size_t colon = rest.find(':');
    std::string candidate(rest.substr(0, colon));
    if (candidate.empty()) candidate = ".";  // an empty PATH entry means the working directory
    candidate += '/';
    candidate += name;
    if (IsExecutableFile(candidate)) return candidate;
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  throw std::runtime_error("cannot run `" + name + "`: not found in PATH=" + path_variable);
}

std::vector<std::string> BuildEnvironment(const SpawnOptions& options) {
  std::vector<std::string> result;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text = *entry;
    const std::string name(text.substr(0, text.find('=')));
    if (options.env.count(name) != 0) continue;
    const bool dropped = std::any_of(options.drop_env_prefixes.begin(), options.drop_env_prefixes.end(),
                                     [&](const std::string& prefix) { return name.rfind(prefix, 0) == 0; });
    if (!dropped) result.emplace_back(text);
  }
  for (const auto& [name, value] : options.env) {
    std::string entry = name;
    entry += '=';
    entry += value;
    result.push_back(std::move(entry));
  }
  return result;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (std::string& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

// Runs in the forked child of a possibly multi-threaded parent: only async-signal-safe calls until exec.
[[noreturn]] void RunChild(const SpawnOptions& options, const char* program, char* const* argv, char* const* envp,
                           int report_fd, pid_t parent) {
  // Move the report pipe above the standard descriptors, in case the test process runs with one of them closed.
  if (const int moved = fcntl(report_fd, F_DUPFD_CLOEXEC, 10); moved >= 0) {
    close(report_fd);
    report_fd = moved;
  }
  auto fail = [report_fd](Step step) {
    const ChildFailure failure{step, errno};
    (void)!write(report_fd, &failure, sizeof failure);
    _exit(127);
  };
  // Dispositions set to "ignore" and blocked signals survive exec; the test process's must not leak into servers.
  for (int sig = 1; sig < NSIG; ++sig) (void)signal(sig, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  pthread_sigmask(SIG_SETMASK, &none, nullptr);

  if (options.new_session) {
    if (setsid() < 0) fail(kGroup);
  } else if (options.new_process_group) {
    if (setpgid(0, 0) != 0) fail(kGroup);
  }
  const int in = options.stdin_fd >= 0 ? options.stdin_fd : open(options.stdin_path.c_str(), O_RDONLY);
  if (in < 0 || dup2(in, STDIN_FILENO) < 0) fail(kStdin);
  const int out = open(options.output_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  if (out < 0 || dup2(out, STDOUT_FILENO) < 0 || dup2(out, STDERR_FILENO) < 0) fail(kOutput);
  // Nothing else of ours (listening sockets, libpq connections, other pipes) may leak into the child: a leaked pipe
  // end would keep a reader waiting for EOF, a leaked socket would keep a port busy.
  close_range(3, report_fd - 1, 0);
  close_range(report_fd + 1, ~0U, 0);

  if (options.user) {
    const gid_t gid = options.user->gid;
    if (setgroups(1, &gid) != 0 || setgid(gid) != 0 || setuid(options.user->uid) != 0) fail(kUser);
  }
  // After setuid: changing credentials clears the parent-death signal.
  if (options.die_with_parent) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail(kDeathSignal);
    if (getppid() != parent) _exit(127);  // the parent died before prctl took effect
  }
  if (!options.cwd.empty() && chdir(options.cwd.c_str()) != 0) fail(kCwd);
  execve(program, argv, envp);
  fail(kExec);
  _exit(127);  // unreachable; keeps [[noreturn]] honest for the compiler
}

}  // namespace

pid_t Spawn(const SpawnOptions& options) {
  if (options.argv.empty()) throw std::invalid_argument("Spawn: empty argv");
  std::vector<std::string> env = BuildEnvironment(options);
  std::string path_variable = "/usr/local/bin:/usr/bin:/bin";
  for (const std::string& entry : env) {
    if (entry.rfind("PATH=", 0) == 0) path_variable = entry.substr(5);
  }
  const std::string program = ResolveProgram(options.argv[0], path_variable);
  std::vector<std::string> argv = options.argv;
  std::vector<char*> argv_pointers = CStrings(argv);
  std::vector<char*> env_pointers = CStrings(env);

  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe2: ") + ErrnoText(errno));
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    const int error = errno;
    close(report[0]);
    close(report[1]);
    throw std::runtime_error("fork: " + ErrnoText(error));
  }
  if (pid == 0) {
    close(report[0]);
    RunChild(options, program.c_str(), argv_pointers.data(), env_pointers.data(), report[1], parent);
  }
  close(report[1]);
  ChildFailure failure{};
  ssize_t got;
  do {
    got = read(report[0], &failure, sizeof failure);
  } while (got < 0 && errno == EINTR);
  close(report[0]);
  if (got == static_cast<ssize_t>(sizeof failure)) {
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    throw std::runtime_error("cannot run " + JoinArgv(options.argv) + ": " + kStepNames[failure.step] + ": " +
                             ErrnoText(failure.error));
  }
  return pid;
}

int ExitCodeFromStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

std::optional<int> WaitForExit(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // Polling keeps this independent of SIGCHLD handling; the back-off keeps short commands fast.
  auto pause = std::chrono::milliseconds(1);
  while (true) {
    int status = 0;
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) return ExitCodeFromStatus(status);
    if (done < 0 && errno != EINTR) {
      throw std::logic_error("waitpid(" + std::to_string(pid) + "): " + ErrnoText(errno));
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(pause, deadline - now));
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
}

bool HasExited(pid_t pid) {
  siginfo_t info{};
  if (waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0) return errno == ECHILD;
  return info.si_pid != 0;
}

std::string JoinArgv(const std::vector<std::string>& argv) {
  std::string joined;
  for (const std::string& arg : argv) {
    if (!joined.empty()) joined += ' ';
    const bool plain = !arg.empty() && arg.find_first_of(" \t\n'\"\\$") == std::string::npos;
    joined += plain ? arg : "'" + arg + "'";
  }
  return joined;
}

}  // namespace pgpulse::testing
