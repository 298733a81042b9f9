// Attackers that hold connections to the exporter without ever completing a request: idle sockets that send nothing,
// and slowloris clients that trickle a request one byte a second. Hundreds of them run on one helper thread with
// poll(), and every connection the server closes is opened again at once, as a real attacker would, so the count
// stays up for the whole test.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

namespace pgpulse::testing {

enum class HostileKind {
  kIdle,       // connects and sends nothing
  kSlowloris,  // sends "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: aaaa..." one byte a second, never ending it
};

struct HostileCounts {
  int connected = 0;          // connections established right now (the kernel completed the handshake)
  long closed_by_server = 0;  // connections the server closed (FIN or RST), each then reopened
  long connect_failed = 0;    // connects that failed (refused, or an error reported by SO_ERROR)
  long bytes_sent = 0;        // slowloris bytes, across all connections
};

class HostileClients {
 public:
  // Opens `count` connections to 127.0.0.1:port and keeps them open until destroyed.
  HostileClients(uint16_t port, int count, HostileKind kind);
  ~HostileClients();
  HostileClients(const HostileClients&) = delete;
  HostileClients& operator=(const HostileClients&) = delete;

  HostileCounts Counts() const;
  // Waits until all `count` connections are established at once; false after `timeout`.
  bool WaitAllConnected(std::chrono::milliseconds timeout) const;

 private:
  void Run();

  const uint16_t port_;
  const int count_;
  const HostileKind kind_;
  std::atomic<bool> stop_{false};
  std::atomic<int> connected_{0};
  std::atomic<long> closed_by_server_{0};
  std::atomic<long> connect_failed_{0};
  std::atomic<long> bytes_sent_{0};
  std::thread thread_;
};

}  // namespace pgpulse::testing
