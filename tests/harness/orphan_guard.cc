#include "tests/harness/orphan_guard.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <stdexcept>

#include "tests/harness/errno_text.h"
#include "tests/harness/spawn.h"

namespace pgpulse::testing {
namespace {

// One byte on stdin means "all cleaned up, just exit"; EOF without it means the test process died. The pid file is
// only trusted while the pid still runs a postgres binary, since after a crash it may be stale and the pid reused.
// Stopped (frozen) servers get SIGCONT first, or they could not act on SIGQUIT. All servers are signalled before
// waiting for any, and a zombie counts as gone (init in a container may be slow to reap it).
constexpr const char* kWatcherScript = R"sh(
trap '' INT TERM HUP QUIT PIPE
byte=$(head -c 1)
[ -n "$byte" ] && exit 0
alive() { [ -e "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
pids=""
removing=0
for arg in "$@"; do
  if [ "$arg" = "--" ]; then removing=1; continue; fi
  [ "$removing" = 1 ] && continue
  pid=$(head -n 1 "$arg/postmaster.pid" 2>/dev/null) || continue
  [ -n "$pid" ] && grep -q postgres "/proc/$pid/cmdline" 2>/dev/null || continue
  pkill -CONT -P "$pid"; kill -CONT "$pid"; kill -QUIT "$pid"
  pids="$pids $pid"
done 2>/dev/null
for pid in $pids; do
  tries=0
  while alive "$pid" && [ "$tries" -lt 100 ]; do sleep 0.1; tries=$((tries + 1)); done
  pkill -KILL -P "$pid"; kill -KILL "$pid"
done 2>/dev/null
removing=0
for arg in "$@"; do
  if [ "$arg" = "--" ]; then removing=1; continue; fi
  [ "$removing" = 1 ] && rm -rf -- "$arg"
done
)sh";

}  // namespace

OrphanGuard::OrphanGuard(std::vector<std::string> data_dirs, std::vector<std::string> remove_dirs) {
  int ends[2];
  if (pipe2(ends, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe2: ") + ErrnoText(errno));
  SpawnOptions options;
  options.argv = {"/bin/sh", "-c", kWatcherScript, "pgpulse-orphan-guard"};
  options.argv.insert(options.argv.end(), data_dirs.begin(), data_dirs.end());
  options.argv.push_back("--");
  options.argv.insert(options.argv.end(), remove_dirs.begin(), remove_dirs.end());
  options.stdin_fd = ends[0];
  options.new_session = true;
  options.die_with_parent = false;  // outliving us is the point
  try {
    watcher_ = Spawn(options);
  } catch (...) {
    close(ends[0]);
    close(ends[1]);
    throw;
  }
  close(ends[0]);
  pipe_write_end_ = ends[1];
}

OrphanGuard::~OrphanGuard() {
  (void)!write(pipe_write_end_, "x", 1);
  close(pipe_write_end_);
  WaitForExit(watcher_, std::chrono::seconds(5));
}

}  // namespace pgpulse::testing
