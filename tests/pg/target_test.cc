// A target's refresh against a real PostgreSQL: honest pg_up, recovery after a restart, backoff, singleflight.
#include "exporter/targets/target.h"

#include <gtest/gtest.h>

#include <thread>

#include "exporter/collector/loader.h"
#include "exporter/config/dsn.h"
#include "tests/harness/pg_cluster.h"
#include "tests/pg/async_run.h"

namespace pgpulse::targets {
namespace {

namespace asio = boost::asio;
using async::Clock;
using testing::PgCluster;

class TargetTest : public ::testing::Test {
 protected:
  PgCluster& cluster = PgCluster::Shared();
  asio::io_context io;

  std::shared_ptr<Target> MakeTarget(const std::string& password) {
    config::TargetConfig config;
    config.name = "primary";
    const auto dsn = cluster.primary().Dsn(PgCluster::kReportingUser, password);
    config.conn = config::ParseDsn(dsn);
    config.redacted_dsn = config::RedactDsn(dsn);
    return std::make_shared<Target>(io.get_executor(), config, TargetSettings{});
  }

  // One database-scope collector: a sample per database visited.
  static std::shared_ptr<const collector::CollectorSet> VisitCollector() {
    return collector::BuildCollectorSet({collector::ParseDefinition(R"(
name: visit
scope: database
queries: [{sql: 'SELECT current_database() AS datname, 1 AS v'}]
metrics: [{column: datname, usage: label}, {column: v, usage: gauge, name: v, help: h}]
)",
                                                                    "visit.yaml")},
                                        {});
  }

  Snapshot RefreshNow(Target& target) {
    auto refresh = target.StartRefresh(Clock::now() + std::chrono::seconds(10));
    return testing::RunAsync(io, [](std::shared_ptr<Refresh> r) -> asio::awaitable<Snapshot> {
      co_await r->done.Wait(Clock::now() + std::chrono::seconds(15));
      co_return r->snapshot;
    }(refresh));
  }
};

TEST_F(TargetTest, UpWithTheServerVersion) {
  auto target = MakeTarget(cluster.reporting_password());
  EXPECT_FALSE(target->tried());
  auto snapshot = RefreshNow(*target);
  EXPECT_TRUE(snapshot.up) << snapshot.error;
  EXPECT_EQ(std::to_string(snapshot.server_version_num),
            cluster.primary().QueryValue("postgres", "SHOW server_version_num"));
  EXPECT_EQ(snapshot.version, cluster.primary().QueryValue("postgres", "SELECT version()"));
  EXPECT_TRUE(target->tried());
  EXPECT_EQ(target->state(), State::kReady);
}

TEST_F(TargetTest, RecoversAfterAServerRestartInTheNextRefresh) {
  auto target = MakeTarget(cluster.reporting_password());
  ASSERT_TRUE(RefreshNow(*target).up);
  cluster.primary().Restart();
  auto snapshot = RefreshNow(*target);
  EXPECT_TRUE(snapshot.up) << snapshot.error;
  EXPECT_EQ(target->state(), State::kReady);
}

TEST_F(TargetTest, DownWhileTheServerIsStoppedThenBack) {
  auto target = MakeTarget(cluster.reporting_password());
  ASSERT_TRUE(RefreshNow(*target).up);
  cluster.primary().Stop();
  auto down = RefreshNow(*target);
  cluster.primary().Start();
  EXPECT_FALSE(down.up);
  EXPECT_FALSE(down.error.empty());
  // Backoff: the first retry waits at most backoff_initial (500 ms).
  Snapshot snapshot;
  for (int i = 0; i < 40 && !snapshot.up; ++i) {
    snapshot = RefreshNow(*target);
    if (!snapshot.up) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(snapshot.up) << snapshot.error;
}

TEST_F(TargetTest, WrongPasswordIsDownAndBacksOff) {
  auto target = MakeTarget("not-the-password-91ab");
  auto first = RefreshNow(*target);
  EXPECT_FALSE(first.up);
  EXPECT_NE(first.error.find("password authentication failed"), std::string::npos) << first.error;
  EXPECT_EQ(first.error.find("not-the-password-91ab"), std::string::npos);
  EXPECT_EQ(target->state(), State::kBackoff);
  // Right after a failure no new attempt is made: the answer says when the next one is due.
  auto second = RefreshNow(*target);
  EXPECT_FALSE(second.up);
  EXPECT_NE(second.error.find("next attempt in"), std::string::npos) << second.error;
}

TEST_F(TargetTest, ConcurrentRefreshesShareOne) {
  auto target = MakeTarget(cluster.reporting_password());
  auto a = target->StartRefresh(Clock::now() + std::chrono::seconds(10));
  auto b = target->StartRefresh(Clock::now() + std::chrono::seconds(10));
  EXPECT_EQ(a, b);
  testing::RunAsync(io, [](std::shared_ptr<Refresh> r) -> asio::awaitable<bool> {
    co_return co_await r->done.Wait(Clock::now() + std::chrono::seconds(15));
  }(a));
  EXPECT_TRUE(a->snapshot.up);
  EXPECT_NE(target->StartRefresh(Clock::now() + std::chrono::seconds(10)), a);  // finished: the next one is new
  io.restart();
  io.run();
}

TEST_F(TargetTest, KeptDatabaseConnectionsCloseWhenIdle) {
  config::TargetConfig config;
  config.name = "primary";
  config.conn = config::ParseDsn(cluster.primary().Dsn(PgCluster::kReportingUser, cluster.reporting_password()));
  config.databases.include = {"cafe"};  // one database, fewer than the visiting connections: it is kept
  TargetSettings settings;
  settings.collectors = VisitCollector();
  settings.idle_timeout = std::chrono::milliseconds(300);
  auto target = std::make_shared<Target>(io.get_executor(), config, settings);
  auto refresh = target->StartRefresh(Clock::now() + std::chrono::seconds(10));
  // Run until the refresh is done, but not until the idle timer fires: look right after the refresh.
  while (!refresh->done.is_set()) io.run_one();
  ASSERT_EQ(refresh->snapshot.collected.results.size(), 1u);
  ASSERT_EQ(refresh->snapshot.collected.results[0].size(), 1u);
  EXPECT_EQ(refresh->snapshot.collected.results[0][0]->series, 1u);
  EXPECT_EQ(target->open_connections(), 2);
  io.restart();
  io.run();  // the idle timer is the only work left
  EXPECT_EQ(target->open_connections(), 1);
}

TEST_F(TargetTest, DatabaseDiscoveryIsReadAgainAfterItsInterval) {
  auto& server = cluster.primary();
  for (const char* database : {"rediscover_a", "rediscover_b"}) {
    server.Exec("postgres", std::string("DROP DATABASE IF EXISTS ") + database + " WITH (FORCE)");
  }
  server.Exec("postgres", "CREATE DATABASE rediscover_a");
  config::TargetConfig config;
  config.name = "primary";
  config.conn = config::ParseDsn(server.Dsn(PgCluster::kReportingUser, cluster.reporting_password()));
  config.databases.include = {"/^rediscover_/"};
  TargetSettings settings;
  settings.collectors = VisitCollector();
  // Long enough that the first refresh and a CREATE DATABASE fit in it on a loaded CI machine (500 ms did not).
  settings.discovery_interval = std::chrono::seconds(5);
  settings.idle_timeout = std::chrono::milliseconds(50);  // RefreshNow runs the io_context until no work is left
  auto target = std::make_shared<Target>(io.get_executor(), config, settings);
  auto visited = [&] { return RefreshNow(*target).collected.results.at(0).size(); };

  EXPECT_EQ(visited(), 1u);
  const auto discovered = std::chrono::steady_clock::now();  // the next discovery is due by discovered + interval
  server.Exec("postgres", "CREATE DATABASE rediscover_b");
  EXPECT_EQ(visited(), 1u) << "pg_database is not read on every refresh";
  std::this_thread::sleep_until(discovered + settings.discovery_interval + std::chrono::milliseconds(200));
  EXPECT_EQ(visited(), 2u) << "a database created since is found once the interval has passed";

  target->Shutdown();
  for (const char* database : {"rediscover_a", "rediscover_b"}) {
    server.Exec("postgres", std::string("DROP DATABASE ") + database + " WITH (FORCE)");
  }
}

}  // namespace
}  // namespace pgpulse::targets
