#include "tests/e2e/hostile_clients.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <string_view>
#include <vector>

#include "tests/e2e/raw_http.h"

namespace pgpulse::testing {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// A slowloris request is this, then 'a' for ever: one endless header that never reaches the 8 KiB header limit at a
// byte a second, so only a deadline on the headers (not a size limit) can end it.
constexpr std::string_view kSlowPrefix = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ";
constexpr auto kByteInterval = 1s;

struct Client {
  int fd = -1;
  bool connected = false;
  std::size_t sent = 0;  // bytes of the slowloris request sent on this connection
  Clock::time_point next_byte;
};

}  // namespace

HostileClients::HostileClients(uint16_t port, int count, HostileKind kind)
    : port_(port), count_(count), kind_(kind), thread_([this] { Run(); }) {}

HostileClients::~HostileClients() {
  stop_ = true;
  thread_.join();
}

HostileCounts HostileClients::Counts() const {
  HostileCounts counts;
  counts.connected = connected_.load();
  counts.closed_by_server = closed_by_server_.load();
  counts.connect_failed = connect_failed_.load();
  counts.bytes_sent = bytes_sent_.load();
  return counts;
}

bool HostileClients::WaitAllConnected(std::chrono::milliseconds timeout) const {
  const auto deadline = Clock::now() + timeout;
  while (connected_.load() < count_) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

void HostileClients::Run() {
  std::vector<Client> clients(static_cast<std::size_t>(count_));
  const auto start = Clock::now();
  auto open = [&](Client& client) {
    client = Client{};
    client.fd = StartConnect(port_);
    if (client.fd < 0) ++connect_failed_;
    client.next_byte = Clock::now();  // a reopened slowloris connection starts its trickle at once
  };
  auto drop = [&](Client& client) {
    if (client.connected) --connected_;
    ::close(client.fd);
    client.fd = -1;
  };
  // The first connections spread their bytes over the second rather than sending them all in one burst.
  for (std::size_t i = 0; i < clients.size(); ++i) {
    open(clients[i]);
    clients[i].next_byte = start + kByteInterval * static_cast<long>(i) / static_cast<long>(clients.size());
  }

  std::vector<pollfd> entries(clients.size());
  std::array<char, 4096> sink;
  while (!stop_) {
    const auto now = Clock::now();
    for (std::size_t i = 0; i < clients.size(); ++i) {
      Client& client = clients[i];
      if (client.fd < 0) open(client);  // a failed connect is retried on the next round
      short events = POLLIN;
      if (!client.connected) events = POLLOUT;  // the connect's completion
      entries[i] = pollfd{client.fd, events, 0};
      if (client.fd < 0) entries[i].fd = -1;  // poll ignores negative fds
      // A due slowloris byte is sent right away; poll only waits for the server in between.
      if (kind_ == HostileKind::kSlowloris && client.connected && now >= client.next_byte) {
        const char byte = client.sent < kSlowPrefix.size() ? kSlowPrefix[client.sent] : 'a';
        if (::send(client.fd, &byte, 1, MSG_NOSIGNAL) == 1) {
          ++client.sent;
          ++bytes_sent_;
        }
        client.next_byte = now + kByteInterval;
      }
    }
    if (::poll(entries.data(), entries.size(), 20) <= 0) continue;
    for (std::size_t i = 0; i < clients.size(); ++i) {
      Client& client = clients[i];
      const short revents = entries[i].revents;
      if (revents == 0 || client.fd < 0) continue;
      if (!client.connected) {
        int error = 0;
        socklen_t length = sizeof error;
        if (::getsockopt(client.fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0 || error != 0) {
          ++connect_failed_;
          drop(client);
          continue;
        }
        client.connected = true;
        ++connected_;
        continue;
      }
      // Anything the server says (a 408, a 503) is read and dropped; the end of the stream is what counts.
      for (;;) {
        const ssize_t n = ::recv(client.fd, sink.data(), sink.size(), 0);
        if (n > 0) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) break;
        ++closed_by_server_;
        drop(client);
        break;
      }
    }
  }
  for (Client& client : clients) {
    if (client.fd >= 0) drop(client);
  }
}

}  // namespace pgpulse::testing
