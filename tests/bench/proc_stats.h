// What /proc says about a process: CPU time, resident memory, private memory.
#ifndef PGPULSE_TESTS_BENCH_PROC_STATS_H_
#define PGPULSE_TESTS_BENCH_PROC_STATS_H_

#include <sys/types.h>

#include <optional>
#include <string>

namespace pgpulse::bench {

// utime + stime of all the process's threads, in clock ticks; nullopt once the process is gone.
std::optional<long long> CpuTicks(pid_t pid);
// cutime + cstime: the CPU of the children the process has reaped. A postmaster reaps every exited backend, so this
// grows by each connection's server-side cost.
std::optional<long long> ReapedChildrenCpuTicks(pid_t pid);
// A "VmRSS:"-style field of /proc/<pid>/status in kB; nullopt once the process is gone.
std::optional<long long> StatusKb(pid_t pid, const std::string& field);
// Private_Clean + Private_Dirty from /proc/<pid>/smaps_rollup in kB: the memory only this process holds. 0 when the
// process is gone (a backend may exit between listing and reading).
long long PrivateKb(pid_t pid);
// CLK_TCK.
long ClockTicksPerSecond();

}  // namespace pgpulse::bench

#endif  // PGPULSE_TESTS_BENCH_PROC_STATS_H_
