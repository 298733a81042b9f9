// Raw TCP exchanges with the exporter on loopback: requests no HTTP client would send, and many connections at once
// from one thread with poll(), which is far lighter than a thousand client processes or threads.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

namespace pgpulse::testing {

// A non-blocking, close-on-exec socket whose connect to 127.0.0.1:port has started (it may still be in progress:
// wait for POLLOUT), or -1.
int StartConnect(uint16_t port);

struct RawReply {
  std::string bytes;      // everything received before the close or the deadline
  bool closed = false;    // the server closed (FIN or RST) before the deadline
  double seconds = 0;     // from connect to close (or the deadline)
  int status() const;     // code of the first response's status line; 0 when no status line came
  int responses() const;  // how many status lines came (for pipelined requests)
};

// Connects, sends `request` (as much as the server takes: a server that answers early and closes may refuse the rest),
// and reads until the server closes or `timeout` passes. Never throws for network trouble.
RawReply RawExchange(uint16_t port, const std::string& request, std::chrono::milliseconds timeout);

struct FloodResult {
  std::map<int, int> statuses;  // status code -> clients that got it
  int closed_without_answer = 0;
  int connect_failed = 0;
  int unfinished = 0;          // still open at the deadline: a hang
  double slowest_seconds = 0;  // the longest exchange among those that ended
};

// `clients` connections opened at once, each sending `request` (which must ask to close) and reading to the end.
FloodResult Flood(uint16_t port, const std::string& request, int clients, std::chrono::milliseconds timeout);

struct MemoryFigures {
  long rss_kib = -1;   // VmRSS
  long peak_kib = -1;  // VmHWM: the peak resident set since the process started
};

MemoryFigures ReadMemory(pid_t pid);

}  // namespace pgpulse::testing
