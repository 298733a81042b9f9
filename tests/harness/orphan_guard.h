// Cleans up PostgreSQL servers if the test process dies without running its destructors.
#ifndef PGPULSE_TESTS_HARNESS_ORPHAN_GUARD_H_
#define PGPULSE_TESTS_HARNESS_ORPHAN_GUARD_H_

#include <sys/types.h>

#include <string>
#include <vector>

namespace pgpulse::testing {

// pg_ctl detaches the postmaster, so a test binary that crashes, aborts or is killed by a ctest timeout would leave
// servers running forever. This starts a small watcher process (in its own session, so Ctrl-C does not reach it)
// that holds the read end of a pipe. Destroying the guard tells the watcher to exit quietly; if the test process
// dies first, the pipe reaches EOF and the watcher stops the postmasters recorded in `data_dirs` (SIGQUIT, i.e.
// immediate shutdown, then SIGKILL) and removes `remove_dirs`.
class OrphanGuard {
 public:
  OrphanGuard(std::vector<std::string> data_dirs, std::vector<std::string> remove_dirs);
  ~OrphanGuard();
  OrphanGuard(const OrphanGuard&) = delete;
  OrphanGuard& operator=(const OrphanGuard&) = delete;

 private:
  int pipe_write_end_ = -1;
  pid_t watcher_ = -1;
};

}  // namespace pgpulse::testing

#endif  // PGPULSE_TESTS_HARNESS_ORPHAN_GUARD_H_
