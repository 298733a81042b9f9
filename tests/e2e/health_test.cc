// GET /health?target=NAME[&role=...] through the real binary, against the harness's primary and its standby, and
// what pgpulse logs at start (each target with its DSN redacted, each endpoint).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

#include "tests/harness/exporter_process.h"
#include "tests/harness/free_port.h"
#include "tests/harness/pg_cluster.h"
#include "tests/harness/process.h"

namespace pgpulse::testing {
namespace {

using namespace std::chrono_literals;

// A socket listening on a loopback port nobody else knows: whether anything connected to it tells whether pgpulse
// tried the host a request named.
class Listener {
 public:
  Listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd_, 16) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("cannot listen on a loopback port");
    }
    port_ = ntohs(addr.sin_port);
  }
  ~Listener() { ::close(fd_); }
  uint16_t port() const { return port_; }
  bool Connected() const {
    const int conn = ::accept(fd_, nullptr, nullptr);
    if (conn >= 0) ::close(conn);
    return conn >= 0;
  }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

class HealthTest : public ::testing::Test {
 protected:
  PgCluster& cluster = PgCluster::Shared();
  const uint16_t closed_port_ = FreePort();

  std::string Config() const {
    const auto& password = cluster.reporting_password();
    return WriteTempFile(
        "targets:\n"
        "  - name: primary\n"
        "    dsn: '" +
            cluster.primary().Dsn(PgCluster::kReportingUser, password) +
            "'\n"
            "  - name: standby\n"
            "    dsn: '" +
            cluster.standby().Dsn(PgCluster::kReportingUser, password) +
            "'\n"
            "  - name: down\n"
            "    dsn: 'host=127.0.0.1 port=" +
            std::to_string(closed_port_) + " user=reporting password=" + password + " dbname=postgres'\n",
        ".yml");
  }
};

TEST_F(HealthTest, AnswersPerTargetAndRole) {
  cluster.WaitForStreaming();
  ExporterProcess exporter({"--config.file=" + Config()});
  exporter.Poll([](const std::string& body) { return body.find("primary is up") != std::string::npos; }, 10s,
                "/health?target=primary");

  auto primary = exporter.Get("/health?target=primary&role=primary");
  EXPECT_EQ(primary.status, 200) << primary.body;
  EXPECT_EQ(primary.body, "primary is up (primary)\n");
  EXPECT_EQ(primary.headers["content-type"], "text/plain; charset=utf-8");
  auto not_replica = exporter.Get("/health?target=primary&role=replica");
  EXPECT_EQ(not_replica.status, 503) << not_replica.body;
  EXPECT_EQ(not_replica.body, "primary is a primary, not a replica\n");

  auto standby = exporter.Get("/health?target=standby&role=replica");
  EXPECT_EQ(standby.status, 200) << standby.body;
  EXPECT_EQ(standby.body, "standby is up (replica)\n");
  EXPECT_EQ(exporter.Get("/health?target=standby").status, 200);
  EXPECT_EQ(exporter.Get("/health?target=standby&role=primary").status, 503);

  auto down = exporter.Get("/health?target=down");
  EXPECT_EQ(down.status, 503) << down.body;
  EXPECT_EQ(down.body.rfind("down is down: ", 0), 0u) << down.body;
  EXPECT_EQ(std::count(down.body.begin(), down.body.end(), '\n'), 1) << "one line: " << down.body;
  EXPECT_LT(down.seconds, 2.5) << "a load balancer's probe must be answered quickly";
  EXPECT_EQ(exporter.Get("/health?target=down&role=primary").status, 503);

  EXPECT_EQ(exporter.Get("/health").status, 400);
  EXPECT_EQ(exporter.Get("/health?target=").status, 400);
  auto bad_role = exporter.Get("/health?target=primary&role=master");
  EXPECT_EQ(bad_role.status, 400) << bad_role.body;
  EXPECT_NE(bad_role.body.find("role=primary or role=replica"), std::string::npos) << bad_role.body;

  // A name that is not configured, even one shaped like a host or a DSN, is never connected to.
  Listener listener;
  const auto port = std::to_string(listener.port());
  for (const std::string& name : {std::string("nope"), "127.0.0.1:" + port, "host%3D127.0.0.1%20port%3D" + port,
                                  "postgresql%3A%2F%2F127.0.0.1%3A" + port + "%2Fpostgres"}) {
    auto unknown = exporter.Get("/health?target=" + name + "&role=primary");
    EXPECT_EQ(unknown.status, 404) << name << ": " << unknown.body;
  }
  std::this_thread::sleep_for(300ms);
  EXPECT_FALSE(listener.Connected()) << "pgpulse connected to a host named in a request";

  for (const char* path : {"/health?target=primary", "/health?target=down"}) {
    auto body = exporter.Get(path).body;
    EXPECT_EQ(body.find(cluster.reporting_password()), std::string::npos) << body;
  }
}

TEST_F(HealthTest, StartupLogNamesEachTargetRedactedAndEachEndpoint) {
  ExporterProcess exporter({"--config.file=" + Config(), "--web.enable-lifecycle"});  // lists POST:/-/reload
  ASSERT_TRUE(exporter.process().WaitForOutput("msg=target target=down", 5s)) << exporter.process().Output();
  const auto output = exporter.process().Output();
  for (const char* name : {"primary", "standby", "down"}) {
    const auto at = output.find(std::string("msg=target target=") + name + " ");
    ASSERT_NE(at, std::string::npos) << name << "\n" << output;
    const auto line = output.substr(at, output.find('\n', at) - at);
    EXPECT_NE(line.find("dsn="), std::string::npos) << line;
    EXPECT_NE(line.find("user=reporting"), std::string::npos) << line;
  }
  const auto serving = output.find("msg=serving ");
  ASSERT_NE(serving, std::string::npos) << output;
  const auto line = output.substr(serving, output.find('\n', serving) - serving);
  for (const char* endpoint :
       {"/metrics", "/probe?target=NAME", "/health?target=NAME", "/healthz", "/readyz", " / ", "POST:/-/reload"}) {
    EXPECT_NE(line.find(endpoint), std::string::npos) << endpoint << " in: " << line;
  }
  EXPECT_EQ(output.find(cluster.reporting_password()), std::string::npos) << output;
}

}  // namespace
}  // namespace pgpulse::testing
