#include "tests/e2e/raw_http.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <fstream>
#include <vector>

namespace pgpulse::testing {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// One client's exchange, driven by poll() events.
struct Exchange {
  int fd = -1;
  std::string request;
  std::size_t sent = 0;
  RawReply reply;
  bool done = false;

  short Events() const { return static_cast<short>(POLLIN | (sent < request.size() ? POLLOUT : 0)); }

  void Step(short revents, Clock::time_point start) {
    if ((revents & POLLOUT) != 0 && sent < request.size()) {
      const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      if (n > 0) {
        sent += static_cast<std::size_t>(n);
      } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        sent = request.size();  // the server refuses the rest (it answered early); what it sent is still readable
      }
    }
    if ((revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      std::array<char, 65536> buffer;
      for (;;) {
        const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
        if (n > 0) {
          reply.bytes.append(buffer.data(), static_cast<std::size_t>(n));
          continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) break;
        // 0 is the server's FIN; any other error (ECONNRESET, or ECONNREFUSED from the connect) ends it too.
        reply.closed = true;
        reply.seconds = SecondsSince(start);
        done = true;
        break;
      }
    }
  }
};

int ParseStatusAt(const std::string& bytes, std::size_t at) {
  // "HTTP/1.x NNN"
  if (bytes.compare(at, 5, "HTTP/") != 0 || at + 12 > bytes.size() || bytes[at + 8] != ' ') return 0;
  int code = 0;
  for (std::size_t i = at + 9; i < at + 12; ++i) {
    if (bytes[i] < '0' || bytes[i] > '9') return 0;
    code = code * 10 + (bytes[i] - '0');
  }
  return code;
}

}  // namespace

int StartConnect(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 && errno != EINPROGRESS) {
    ::close(fd);
    return -1;
  }
  return fd;
}

int RawReply::status() const { return ParseStatusAt(bytes, 0); }

int RawReply::responses() const {
  int count = 0;
  for (std::size_t at = bytes.find("HTTP/1."); at != std::string::npos; at = bytes.find("HTTP/1.", at + 1)) {
    if (ParseStatusAt(bytes, at) != 0) ++count;
  }
  return count;
}

RawReply RawExchange(uint16_t port, const std::string& request, std::chrono::milliseconds timeout) {
  const auto start = Clock::now();
  Exchange exchange;
  exchange.request = request;
  exchange.fd = StartConnect(port);
  if (exchange.fd < 0) {
    exchange.reply.closed = true;
    return exchange.reply;
  }
  const auto deadline = start + timeout;
  while (!exchange.done && Clock::now() < deadline) {
    pollfd entry{exchange.fd, exchange.Events(), 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (::poll(&entry, 1, static_cast<int>(std::max<long>(left, 1))) > 0) exchange.Step(entry.revents, start);
  }
  if (!exchange.done) exchange.reply.seconds = SecondsSince(start);
  ::close(exchange.fd);
  return exchange.reply;
}

FloodResult Flood(uint16_t port, const std::string& request, int clients, std::chrono::milliseconds timeout) {
  const auto start = Clock::now();
  FloodResult result;
  std::vector<Exchange> exchanges;
  exchanges.reserve(static_cast<std::size_t>(clients));
  for (int i = 0; i < clients; ++i) {
    Exchange exchange;
    exchange.fd = StartConnect(port);
    if (exchange.fd < 0) {
      ++result.connect_failed;
      continue;
    }
    exchange.request = request;
    // Sent as soon as the connection is up, as a scraper does: a client that stays silent while hundreds more
    // connect is an idle connection to the server, and idle connections give way to newer ones at the cap.
    pollfd entry{exchange.fd, POLLOUT, 0};
    if (::poll(&entry, 1, 0) > 0) exchange.Step(entry.revents, start);
    exchanges.push_back(std::move(exchange));
  }
  const auto deadline = start + timeout;
  std::vector<pollfd> entries;
  std::vector<Exchange*> owners;
  for (;;) {
    entries.clear();
    owners.clear();
    for (auto& exchange : exchanges) {
      if (exchange.done) continue;
      entries.push_back(pollfd{exchange.fd, exchange.Events(), 0});
      owners.push_back(&exchange);
    }
    if (entries.empty() || Clock::now() >= deadline) break;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (::poll(entries.data(), entries.size(), static_cast<int>(std::max<long>(left, 1))) <= 0) continue;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      if (entries[i].revents == 0) continue;
      owners[i]->Step(entries[i].revents, start);
      // Closed once answered, as a client does after a "Connection: close" answer; the server lingers until then.
      if (owners[i]->done) {
        ::close(owners[i]->fd);
        owners[i]->fd = -1;
      }
    }
  }
  for (auto& exchange : exchanges) {
    if (exchange.fd >= 0) ::close(exchange.fd);
    if (!exchange.done) {
      ++result.unfinished;
      continue;
    }
    result.slowest_seconds = std::max(result.slowest_seconds, exchange.reply.seconds);
    const int status = exchange.reply.status();
    if (status == 0) {
      ++result.closed_without_answer;
    } else {
      ++result.statuses[status];
    }
  }
  return result;
}

MemoryFigures ReadMemory(pid_t pid) {
  MemoryFigures figures;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    // "VmRSS:	   12345 kB"
    if (line.rfind("VmRSS:", 0) == 0) figures.rss_kib = std::stol(line.substr(6));
    if (line.rfind("VmHWM:", 0) == 0) figures.peak_kib = std::stol(line.substr(6));
  }
  return figures;
}

}  // namespace pgpulse::testing
