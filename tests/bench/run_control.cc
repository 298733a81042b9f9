#include "tests/bench/run_control.h"

#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <mutex>
#include <thread>

namespace pgpulse::bench {
namespace {

std::atomic<bool> g_interrupted{false};
std::atomic<bool> g_abandoned{false};

void OnSignal(int) { g_interrupted = true; }

}  // namespace

void Log(const std::string& message) {
  static std::mutex mutex;
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char stamp[16];
  std::strftime(stamp, sizeof stamp, "%H:%M:%S", &local);
  std::lock_guard lock(mutex);
  std::cerr << "[" << stamp << "] " << message << std::endl;
}

void Die(const std::string& message) { throw BenchError(message); }

void InstallInterruptHandlers() {
  struct sigaction action {};
  action.sa_handler = OnSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

void CheckInterrupted() {
  if (g_interrupted || g_abandoned) throw Interrupted();
}

void AbandonWaits() { g_abandoned = true; }

double EpochNow() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

void SleepUntil(double epoch_seconds) {
  // Short steps, so that Ctrl-C is noticed within 50 ms even in a 15 s wait.
  while (true) {
    CheckInterrupted();
    const double left = epoch_seconds - EpochNow();
    if (left <= 0) return;
    std::this_thread::sleep_for(std::chrono::duration<double>(left < 0.05 ? left : 0.05));
  }
}

void SleepFor(double seconds) { SleepUntil(EpochNow() + seconds); }

std::string Fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

double Number(const std::string& text) { return std::strtod(text.c_str(), nullptr); }

std::string FirstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

bool HasLineStartingWith(const std::string& text, std::string_view prefix) {
  size_t start = 0;
  while (start < text.size()) {
    if (std::string_view(text).substr(start).starts_with(prefix)) return true;
    const size_t newline = text.find('\n', start);
    if (newline == std::string::npos) break;
    start = newline + 1;
  }
  return false;
}

}  // namespace pgpulse::bench
