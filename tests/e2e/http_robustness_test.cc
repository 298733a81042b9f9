// The real pgpulse binary under hostile HTTP: malformed requests, oversized headers and paths, and a flood of 1000
// concurrent /metrics requests. Each must end in an answer or a close, never a crash or a hang, and the server must
// stay responsive and keep its memory bounded. (tests/unit/http_server_test.cc covers the server's rules one by one;
// this is the whole binary, with real scrapes behind /metrics.)
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/e2e/raw_http.h"
#include "tests/harness/exporter_process.h"
#include "tests/harness/metrics_text.h"
#include "tests/harness/pg_cluster.h"
#include "tests/harness/process.h"

namespace pgpulse::testing {
namespace {

using namespace std::chrono_literals;

class HttpRobustnessTest : public ::testing::Test {
 protected:
  PgCluster& cluster = PgCluster::Shared();

  std::string Config() const {
    return OneTargetConfigFile("primary",
                               cluster.primary().Dsn(PgCluster::kReportingUser, cluster.reporting_password()));
  }

  // The server still answers an ordinary request, and the process is alive.
  static void ExpectStillServing(ExporterProcess& exporter, const std::string& after) {
    ASSERT_TRUE(exporter.process().Running()) << "pgpulse died after " << after << ":\n" << exporter.process().Output();
    const auto health = HttpGet(exporter.port(), "/healthz", {}, 5s);
    EXPECT_EQ(health.status, 200) << "after " << after << ": " << health.body;
  }
};

// What a request that cannot be served may get: a 4xx answer, or the connection closed without one.
void ExpectRefusedOrClosed(const RawReply& reply, const std::string& what) {
  EXPECT_TRUE(reply.closed) << what << ": the connection was still open after " << reply.seconds << " s (a hang)";
  const int status = reply.status();
  EXPECT_TRUE(status == 0 || (status >= 400 && status < 500)) << what << ": answered " << status << ":\n"
                                                              << reply.bytes.substr(0, 300);
  EXPECT_TRUE(status != 0 || reply.bytes.empty()) << what << ": not an HTTP answer: " << reply.bytes.substr(0, 300);
}

TEST_F(HttpRobustnessTest, MalformedRequestsGet4xxOrCloseAndTheServerGoesOn) {
  ExporterProcess exporter({"--config.file=" + Config()});
  const std::string good = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"garbage bytes", std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\xff\xfe\r\n\r\n", 17)},
      {"random binary",
       [] {
         std::string bytes;
         for (int i = 0; i < 4096; ++i) bytes += static_cast<char>((i * 7919) % 256);
         return bytes;
       }()},
      {"bad request line", "GET\r\n\r\n"},
      {"request line with too many parts", "GET /metrics HTTP/1.1 extra\r\nHost: x\r\n\r\n"},
      {"bad version", "GET /metrics HTTP/9.9\r\nHost: x\r\n\r\n"},
      {"lower-case version", "GET /metrics http/1.1\r\nHost: x\r\n\r\n"},
      {"space in the method", "GE T /metrics HTTP/1.1\r\nHost: x\r\n\r\n"},
      {"control character in the target", "GET /met\x01rics HTTP/1.1\r\nHost: x\r\n\r\n"},
      {"header without a colon", "GET /metrics HTTP/1.1\r\nHost x\r\n\r\n"},
      {"space before the colon", "GET /metrics HTTP/1.1\r\nHost : x\r\n\r\n"},
      {"empty header name", "GET /metrics HTTP/1.1\r\n: x\r\n\r\n"},
      {"bare LF line ends mixed with CR", "GET /metrics HTTP/1.1\r\nHost: x\n\r\r\n\r\n"},
      {"NUL in the request line", std::string("GET /met\0rics HTTP/1.1\r\nHost: x\r\n\r\n", 36)},
      {"NUL in a header value", std::string("GET /metrics HTTP/1.1\r\nHost: x\0y\r\n\r\n", 36)},
      {"NUL bytes only", std::string(64, '\0')},
      {"absurd Content-Length",
       "POST /-/reload HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n"},
      {"large Content-Length", "POST /-/reload HTTP/1.1\r\nHost: x\r\nContent-Length: 1099511627776\r\n\r\nabc"},
      {"negative Content-Length", "POST /-/reload HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"},
      {"two different Content-Lengths",
       "POST /-/reload HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
       "Content-Length: 2\r\n\r\nab"},
      {"Content-Length with Transfer-Encoding",
       "POST /-/reload HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
      {"Transfer-Encoding not chunked", "POST /-/reload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n"},
      {"bad chunk size",
       "POST /-/reload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n"},
      {"huge chunk size",
       "POST /-/reload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nab\r\n"},
      {"HTTP/0.9 style", "GET /metrics\r\n"},
      {"HTTP/0.9 style, then silence", "GET /metrics\r\n\r\n"},
  };
  for (const auto& [what, request] : cases) {
    const auto reply = RawExchange(exporter.port(), request, 15s);
    ExpectRefusedOrClosed(reply, what);
    ExpectStillServing(exporter, what);
    if (HasFatalFailure()) return;
  }

  // Obsolete line folding: RFC 9112 lets a server refuse it or read the fold as a space, and Beast does the latter.
  const auto folded = RawExchange(
      exporter.port(), "GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\r\n folded\r\nConnection: close\r\n\r\n", 15s);
  EXPECT_TRUE(folded.closed);
  EXPECT_TRUE(folded.status() == 200 || folded.status() == 400) << folded.bytes.substr(0, 300);

  // A good request followed by garbage on the same connection: the good one is answered, then the garbage is refused.
  const auto pipelined = RawExchange(exporter.port(), good + "\x01\x02garbage\r\n\r\n", 15s);
  EXPECT_TRUE(pipelined.closed) << "pipelined garbage: still open after " << pipelined.seconds << " s";
  EXPECT_EQ(pipelined.status(), 200) << pipelined.bytes.substr(0, 300);
  const auto second = pipelined.bytes.find("HTTP/1.1 ", 1);
  ASSERT_NE(second, std::string::npos) << "no answer to the garbage after the good request";
  EXPECT_EQ(pipelined.bytes.substr(second, 12), "HTTP/1.1 400");
  ExpectStillServing(exporter, "pipelined garbage");
}

TEST_F(HttpRobustnessTest, HugeHeaderAndPathAreRefusedPromptlyWithoutKeepingMemory) {
  ExporterProcess exporter({"--config.file=" + Config()});
  ASSERT_EQ(exporter.Get("/metrics").status, 200);
  const auto before = ReadMemory(exporter.process().pid());

  const auto header = RawExchange(
      exporter.port(), "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(1 << 20, 'h') + "\r\n\r\n", 15s);
  EXPECT_EQ(header.status(), 431) << header.bytes.substr(0, 300);
  EXPECT_TRUE(header.closed);
  EXPECT_LT(header.seconds, 3) << "a 1 MB header must be refused promptly";

  const auto path =
      RawExchange(exporter.port(), "GET /" + std::string(64 << 10, 'p') + " HTTP/1.1\r\nHost: x\r\n\r\n", 15s);
  EXPECT_TRUE(path.status() == 431 || path.status() == 414 || path.status() == 400) << path.bytes.substr(0, 300);
  EXPECT_TRUE(path.closed);
  EXPECT_LT(path.seconds, 3) << "a 64 KB path must be refused promptly";

  // Many header lines, each small, that add up to 1 MB.
  std::string many = "GET /metrics HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; many.size() < (1u << 20); ++i)
    many += "X-H" + std::to_string(i) + ": " + std::string(100, 'v') + "\r\n";
  const auto lines = RawExchange(exporter.port(), many + "\r\n", 15s);
  EXPECT_EQ(lines.status(), 431) << lines.bytes.substr(0, 300);
  EXPECT_LT(lines.seconds, 3);

  // Twenty more of each, so that keeping any of it would show in the resident set.
  for (int i = 0; i < 20; ++i) {
    RawExchange(exporter.port(), "GET /metrics HTTP/1.1\r\nX-Big: " + std::string(1 << 20, 'h') + "\r\n\r\n", 15s);
    RawExchange(exporter.port(), "GET /" + std::string(64 << 10, 'p') + " HTTP/1.1\r\n\r\n", 15s);
  }
  ExpectStillServing(exporter, "oversized requests");
  const auto after = ReadMemory(exporter.process().pid());
  std::printf("[ figures  ] oversized requests: RSS %ld KiB before, %ld KiB after, peak %ld KiB\n", before.rss_kib,
              after.rss_kib, after.peak_kib);
  // 21 MB of headers went in; a server that kept them would have grown by that much.
  EXPECT_LT(after.rss_kib, before.rss_kib + 4096) << "the server kept what the oversized requests sent";
}

TEST_F(HttpRobustnessTest, ThousandConcurrentScrapesAreAllAnsweredAndHealthzStaysResponsive) {
  constexpr int kClients = 1000;
  ExporterProcess exporter({"--config.file=" + Config()});
  ASSERT_EQ(exporter.Get("/metrics").status, 200);  // a full scrape once, so the baseline holds its caches
  const pid_t pid = exporter.process().pid();
  const auto before = ReadMemory(pid);

  // /healthz probed every 50 ms while the flood runs, as a liveness probe would.
  std::atomic<bool> flooding{true};
  std::vector<HttpResponse> probes;
  std::thread prober([&] {
    while (flooding) {
      probes.push_back(HttpGet(exporter.port(), "/healthz", {}, 5s));
      std::this_thread::sleep_for(50ms);
    }
  });
  const auto flood =
      Flood(exporter.port(), "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", kClients, 60s);
  flooding = false;
  prober.join();
  const auto peak = ReadMemory(pid);

  ExpectStillServing(exporter, "the flood");
  // Memory settles once the flood's connections are gone: poll for a while instead of sleeping a fixed time.
  auto after = ReadMemory(pid);
  for (int i = 0; i < 50 && after.rss_kib > before.rss_kib + 16384; ++i) {
    std::this_thread::sleep_for(100ms);
    after = ReadMemory(pid);
  }

  int probes_ok = 0;
  int probes_answered = 0;
  double slowest_probe = 0;
  std::vector<double> latencies;
  for (const auto& probe : probes) {
    if (probe.status == 200) ++probes_ok;
    if (probe.status != 0) ++probes_answered;
    slowest_probe = std::max(slowest_probe, probe.seconds);
    latencies.push_back(probe.seconds);
  }
  std::sort(latencies.begin(), latencies.end());
  const double median_probe = latencies.empty() ? 0 : latencies[latencies.size() / 2];
  std::string statuses;
  for (const auto& [status, count] : flood.statuses)
    statuses += " " + std::to_string(status) + ":" + std::to_string(count);
  std::printf(
      "[ figures  ] %d concurrent /metrics: statuses%s, closed without answer %d, connect failed %d, unfinished %d, "
      "slowest %.2f s\n"
      "[ figures  ] /healthz during the flood: %zu probes, %d got 200, %d answered, median %.3f s, slowest %.3f s\n"
      "[ figures  ] RSS %ld KiB before, %ld KiB right after, %ld KiB settled; peak (VmHWM) %ld KiB\n",
      kClients, statuses.c_str(), flood.closed_without_answer, flood.connect_failed, flood.unfinished,
      flood.slowest_seconds, probes.size(), probes_ok, probes_answered, median_probe, slowest_probe, before.rss_kib,
      peak.rss_kib, after.rss_kib, peak.peak_kib);

  EXPECT_EQ(flood.unfinished, 0) << "requests hung";
  EXPECT_EQ(flood.connect_failed, 0);
  const int ok = flood.statuses.count(200) ? flood.statuses.at(200) : 0;
  const int unavailable = flood.statuses.count(503) ? flood.statuses.at(503) : 0;
  EXPECT_GT(ok, 0);
  // At the cap a newcomer may only evict a connection that has sent nothing (or is trickling); these all sent their
  // request at once, so none gives way to another and each is served or refused in turn.
  EXPECT_EQ(ok + unavailable, kClients) << "every request gets 200 or, beyond the connection cap, 503";
  EXPECT_LT(flood.slowest_seconds, 30);
  ASSERT_FALSE(probes.empty());
  EXPECT_EQ(probes_answered, static_cast<int>(probes.size())) << "/healthz went unanswered during the flood";
  if (PgpulseIsSanitized()) {
    // ASan keeps freed memory in quarantine (256 MiB) and runs several times slower (measured: peak 473 MiB, slowest
    // /healthz 3.5 s), so its figures say nothing about pgpulse's. CI checks them on a plain binary
    // (PGPULSE_BINARY_UNDER_TEST, .ci/run).
    std::printf("[ figures  ] sanitized pgpulse: memory and latency bounds not checked\n");
    return;
  }
  EXPECT_LT(slowest_probe, 1.0) << "/healthz was slow during the flood";
  // Generous: the exporter's whole peak, caches and all, within 256 MiB, and back within 16 MiB of where it started.
  EXPECT_LT(peak.peak_kib, 256 * 1024);
  EXPECT_LT(after.rss_kib, before.rss_kib + 16384) << "memory did not return after the flood";
}

}  // namespace
}  // namespace pgpulse::testing
