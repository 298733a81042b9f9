// What every part of the benchmark shares: its log, how a run fails or is interrupted, wall-clock time, and the
// number formatting of its figures.
#ifndef PGPULSE_TESTS_BENCH_RUN_CONTROL_H_
#define PGPULSE_TESTS_BENCH_RUN_CONTROL_H_

#include <stdexcept>
#include <string>
#include <string_view>

namespace pgpulse::bench {

// The run itself broke (a server or an exporter does not start, a query fails): main logs "ERROR: <what>" and exits 1.
struct BenchError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// Ctrl-C or SIGTERM: main logs "interrupted" and exits 130, after every destructor has cleaned up.
struct Interrupted : std::runtime_error {
  Interrupted() : std::runtime_error("interrupted") {}
};

// "[HH:MM:SS] message" on stderr; safe from any thread.
void Log(const std::string& message);
[[noreturn]] void Die(const std::string& message);

// SIGINT and SIGTERM only set a flag: the run notices it at its next wait and unwinds, so that servers, exporters and
// the temp dir are removed as on any other exit.
void InstallInterruptHandlers();
void CheckInterrupted();  // throws Interrupted once a signal came, or after AbandonWaits()
// Makes every wait of the run end with Interrupted, as a signal would: one scrape loop that fails ends the other.
void AbandonWaits();

// Seconds since the epoch: the clock of the server log's %n and of clock_timestamp(), which the figures are matched
// against.
double EpochNow();
void SleepUntil(double epoch_seconds);  // throws Interrupted
void SleepFor(double seconds);          // throws Interrupted

// printf("%.<decimals>f"): every figure is formatted once, and later figures are computed from the formatted text,
// so that a figure and the ones derived from it agree to the digit.
std::string Fixed(double value, int decimals);
// The numeric prefix of `text` ("12.5 s" -> 12.5), 0 when there is none.
double Number(const std::string& text);
// The first line of `text`, without its newline.
std::string FirstLine(const std::string& text);
// Whether a line of `text` starts with `prefix`.
bool HasLineStartingWith(const std::string& text, std::string_view prefix);

}  // namespace pgpulse::bench

#endif  // PGPULSE_TESTS_BENCH_RUN_CONTROL_H_
