// Reading /proc/<pid>/stat, for tests that watch processes (parents, CPU time).
#ifndef PGPULSE_TESTS_HARNESS_PROC_STAT_H_
#define PGPULSE_TESTS_HARNESS_PROC_STAT_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace pgpulse::testing {

// Fields of /proc/<pid>/stat after the command name, which is in parentheses and may itself contain ") ": [0] is the
// state (field 3 of proc(5)), [1] the parent pid. nullopt when the process is gone.
std::optional<std::vector<std::string>> ProcStatFields(pid_t pid);

}  // namespace pgpulse::testing

#endif  // PGPULSE_TESTS_HARNESS_PROC_STAT_H_
