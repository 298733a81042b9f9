// The pg layer against a real PostgreSQL 15: non-blocking connect and query on Asio, session setup, errors.
#include "exporter/pg/connection.h"

#include <gtest/gtest.h>

#include "exporter/config/dsn.h"
#include "tests/harness/pg_cluster.h"
#include "tests/harness/scoped_freeze.h"
#include "tests/pg/async_run.h"

namespace pgpulse::pg {
namespace {

namespace asio = boost::asio;
using async::Clock;
using testing::PgCluster;
using testing::RunAsync;

class ConnectionTest : public ::testing::Test {
 protected:
  PgCluster& cluster = PgCluster::Shared();

  ConnParams Reporting(const std::string& db = "postgres") const {
    return config::ParseDsn(cluster.primary().Dsn(PgCluster::kReportingUser, cluster.reporting_password(), db));
  }

  // Connects and runs one query on a fresh connection.
  Result ConnectAndQuery(ConnParams params, std::string sql, std::vector<std::optional<std::string>> args = {},
                         SessionSettings settings = {}) {
    Connection conn(io.get_executor());
    return RunAsync(io, [&]() -> asio::awaitable<Result> {
      co_await conn.Connect(params, settings, Clock::now() + std::chrono::seconds(10));
      co_return co_await conn.Query(sql, args, Clock::now() + std::chrono::seconds(10));
    }());
  }

  PgError ConnectError(ConnParams params, SessionSettings settings = {},
                       std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    Connection conn(io.get_executor());
    try {
      RunAsync(io, conn.Connect(params, settings, Clock::now() + timeout));
    } catch (const PgError& e) {
      EXPECT_FALSE(conn.IsOpen());
      return e;
    }
    ADD_FAILURE() << "connect unexpectedly succeeded";
    return PgError(ErrorKind::kConnect, "none");
  }

  asio::io_context io;
};

TEST_F(ConnectionTest, ConnectsAsReportingRoleAndRunsParameterisedQueries) {
  Connection conn(io.get_executor());
  RunAsync(io, conn.Connect(Reporting(), {}, Clock::now() + std::chrono::seconds(10)));
  ASSERT_TRUE(conn.IsOpen());
  EXPECT_EQ(conn.session().user, "reporting");
  EXPECT_FALSE(conn.session().superuser);
  EXPECT_EQ(conn.session().server_version,
            std::stoi(cluster.primary().QueryValue("postgres", "SHOW server_version_num")));
  auto result = RunAsync(io, conn.Query("SELECT $1::int + 1 AS answer, NULL::text AS nothing, $2::text AS echo",
                                        {"41", std::nullopt}, Clock::now() + std::chrono::seconds(5)));
  ASSERT_EQ(result.rows.size(), 1u);
  EXPECT_EQ(result.columns, (std::vector<std::string>{"answer", "nothing", "echo"}));
  EXPECT_EQ(result.rows[0][0], "42");
  EXPECT_EQ(result.rows[0][1], std::nullopt);
  EXPECT_EQ(result.rows[0][2], std::nullopt);
}

TEST_F(ConnectionTest, SessionIsReadOnlyBoundedAndNamed) {
  SessionSettings settings;
  settings.statement_timeout = std::chrono::milliseconds(4000);
  settings.lock_timeout = std::chrono::milliseconds(750);
  auto result = ConnectAndQuery(Reporting("cafe"),
                                "SELECT current_setting('default_transaction_read_only'), "
                                "current_setting('statement_timeout'), current_setting('lock_timeout'), "
                                "current_setting('search_path'), application_name, "
                                "current_setting('client_encoding'), current_setting('DateStyle') "
                                "FROM pg_stat_activity WHERE pid = pg_backend_pid()",
                                {}, settings);
  ASSERT_EQ(result.rows.size(), 1u);
  EXPECT_EQ(result.rows[0][0], "on");
  EXPECT_EQ(result.rows[0][1], "4s");
  EXPECT_EQ(result.rows[0][2], "750ms");
  EXPECT_EQ(result.rows[0][3], "pg_catalog, pg_temp");
  EXPECT_EQ(result.rows[0][4], "pgpulse");
  EXPECT_EQ(result.rows[0][5], "UTF8");
  EXPECT_EQ(result.rows[0][6], "ISO, MDY");
}

TEST_F(ConnectionTest, ReadOnlyQueriesLeaveNothingBehind) {
  // app_user owns cafe: it could write there, and change its own session at will.
  auto params = config::ParseDsn(cluster.primary().Dsn(PgCluster::kAppUser, cluster.app_password(), "cafe"));
  Connection conn(io.get_executor());
  RunAsync(io, conn.Connect(params, {}, Clock::now() + std::chrono::seconds(10)));
  auto changed = RunAsync(io, conn.QueryReadOnly("SELECT set_config('default_transaction_read_only', 'off', false), "
                                                 "set_config('search_path', 'public', false), $1::int AS n",
                                                 {"5"}, Clock::now() + std::chrono::seconds(5)));
  EXPECT_EQ(changed.rows.at(0).at(2), "5");
  auto after = RunAsync(io, conn.Query("SELECT current_setting('default_transaction_read_only'), "
                                       "current_setting('search_path')",
                                       {}, Clock::now() + std::chrono::seconds(5)));
  EXPECT_EQ(after.rows.at(0).at(0), "on");
  EXPECT_EQ(after.rows.at(0).at(1), "pg_catalog, pg_temp");
  // A write fails, and so does ending the transaction from inside; the connection stays usable and idle.
  for (const char* sql : {"CREATE TABLE pgpulse_must_not_exist (x int)", "SELECT 1/0"}) {
    try {
      RunAsync(io, conn.QueryReadOnly(sql, {}, Clock::now() + std::chrono::seconds(5)));
      FAIL() << sql;
    } catch (const PgError& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kQuery) << sql;
    }
    auto next = RunAsync(io, conn.QueryReadOnly("SELECT 7", {}, Clock::now() + std::chrono::seconds(5)));
    EXPECT_EQ(next.rows.at(0).at(0), "7");
  }
  EXPECT_EQ(cluster.primary().QueryValue("cafe", "SELECT to_regclass('pgpulse_must_not_exist') IS NULL"), "t");
}

TEST_F(ConnectionTest, WritesAreRefusedByTheReadOnlySession) {
  // app_user owns cafe and could write there; the pgpulse session still must not.
  auto params = config::ParseDsn(cluster.primary().Dsn(PgCluster::kAppUser, cluster.app_password(), "cafe"));
  Connection conn(io.get_executor());
  RunAsync(io, conn.Connect(params, {}, Clock::now() + std::chrono::seconds(10)));
  try {
    RunAsync(io, conn.Query("CREATE TABLE pgpulse_must_not_exist (x int)", {}, Clock::now() + std::chrono::seconds(5)));
    FAIL() << "a write succeeded";
  } catch (const PgError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kQuery);
    EXPECT_EQ(e.sqlstate(), "25006");  // read_only_sql_transaction
  }
  EXPECT_TRUE(conn.IsOpen());
}

TEST_F(ConnectionTest, QueryErrorKeepsTheConnectionUsable) {
  Connection conn(io.get_executor());
  RunAsync(io, conn.Connect(Reporting(), {}, Clock::now() + std::chrono::seconds(10)));
  try {
    RunAsync(io, conn.Query("SELECT 1/0", {}, Clock::now() + std::chrono::seconds(5)));
    FAIL();
  } catch (const PgError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kQuery);
    EXPECT_EQ(e.sqlstate(), "22012");
    EXPECT_NE(std::string(e.what()).find("division by zero"), std::string::npos);
  }
  auto result = RunAsync(io, conn.Query("SELECT 7", {}, Clock::now() + std::chrono::seconds(5)));
  EXPECT_EQ(result.rows.at(0).at(0), "7");
}

TEST_F(ConnectionTest, LargeResultsArriveWhole) {
  // ~4 MB in many TCP segments: exercises partial reads, where an edge-triggered wait alone could stall.
  auto result = ConnectAndQuery(Reporting(), "SELECT g, repeat('x', 2000) FROM generate_series(1, 2000) g");
  ASSERT_EQ(result.rows.size(), 2000u);
  EXPECT_EQ(result.rows.back()[0], "2000");
  EXPECT_EQ(result.rows.back()[1]->size(), 2000u);
}

TEST_F(ConnectionTest, HostNamesAreResolvedWithoutLibpqLookup) {
  auto params = Reporting();
  params["host"] = "localhost";
  auto result = ConnectAndQuery(params, "SELECT inet_client_addr()::text");
  ASSERT_EQ(result.rows.size(), 1u);
  EXPECT_TRUE(result.rows[0][0] == "127.0.0.1/32" || result.rows[0][0] == "::1/128") << *result.rows[0][0];
}

TEST_F(ConnectionTest, UnixSocketNeedsNoResolution) {
  ConnParams params{{"host", cluster.primary().socket_dir()},
                    {"port", std::to_string(cluster.primary().port())},
                    {"user", PgCluster::kReportingUser},
                    {"dbname", "erp"}};
  auto result = ConnectAndQuery(params, "SELECT current_database()");
  EXPECT_EQ(result.rows.at(0).at(0), "erp");
}

TEST_F(ConnectionTest, UnresolvableHostIsAConnectError) {
  auto params = Reporting();
  params["host"] = "no-such-host.invalid";
  auto error = ConnectError(params);
  EXPECT_EQ(error.kind(), ErrorKind::kConnect);
  EXPECT_NE(std::string(error.what()).find("could not resolve host \"no-such-host.invalid\""), std::string::npos)
      << error.what();
}

TEST_F(ConnectionTest, WrongPasswordIsAnAuthErrorWithoutTheSecret) {
  auto params = Reporting();
  params["password"] = "wrong-password-6f1c";
  auto error = ConnectError(params);
  EXPECT_EQ(error.kind(), ErrorKind::kAuth);
  EXPECT_NE(std::string(error.what()).find("password authentication failed"), std::string::npos) << error.what();
  EXPECT_EQ(std::string(error.what()).find("wrong-password-6f1c"), std::string::npos);
}

TEST_F(ConnectionTest, SuperuserIsRefusedUnlessAllowed) {
  auto params = config::ParseDsn(cluster.primary().Dsn(PgCluster::kSuperuser, cluster.superuser_password()));
  auto error = ConnectError(params);
  EXPECT_EQ(error.kind(), ErrorKind::kRefused);
  EXPECT_NE(std::string(error.what()).find("allow_superuser"), std::string::npos);

  SessionSettings allowed;
  allowed.allow_superuser = true;
  auto result = ConnectAndQuery(params, "SELECT current_user", {}, allowed);
  EXPECT_EQ(result.rows.at(0).at(0), "postgres");
}

TEST_F(ConnectionTest, ClosedPortIsAConnectError) {
  auto params = Reporting();
  params["port"] = "1";  // nothing listens on port 1 of loopback
  EXPECT_EQ(ConnectError(params).kind(), ErrorKind::kConnect);
}

TEST_F(ConnectionTest, ConnectToAFrozenServerTimesOut) {
  testing::ScopedFreeze frozen(cluster.primary());
  const auto start = Clock::now();
  auto error = ConnectError(Reporting(), {}, std::chrono::milliseconds(800));
  const auto elapsed = Clock::now() - start;
  EXPECT_EQ(error.kind(), ErrorKind::kTimeout);
  EXPECT_GE(elapsed, std::chrono::milliseconds(750));
  EXPECT_LT(elapsed, std::chrono::milliseconds(2000));
}

TEST_F(ConnectionTest, QueryOnAFrozenServerTimesOutAndDropsTheConnection) {
  Connection conn(io.get_executor());
  RunAsync(io, conn.Connect(Reporting(), {}, Clock::now() + std::chrono::seconds(10)));
  testing::ScopedFreeze frozen(cluster.primary());
  const auto start = Clock::now();
  try {
    RunAsync(io, conn.Query("SELECT 1", {}, Clock::now() + std::chrono::milliseconds(800)));
    FAIL();
  } catch (const PgError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kTimeout);
  }
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(2000));
  EXPECT_FALSE(conn.IsOpen());
}

TEST_F(ConnectionTest, ServerRestartBreaksTheConnectionCleanly) {
  Connection conn(io.get_executor());
  RunAsync(io, conn.Connect(Reporting(), {}, Clock::now() + std::chrono::seconds(10)));
  cluster.primary().Restart();
  try {
    RunAsync(io, conn.Query("SELECT 1", {}, Clock::now() + std::chrono::seconds(5)));
    FAIL();
  } catch (const PgError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBroken);
  }
  EXPECT_FALSE(conn.IsOpen());
  RunAsync(io, conn.Connect(Reporting(), {}, Clock::now() + std::chrono::seconds(10)));
  EXPECT_TRUE(conn.IsOpen());
}

}  // namespace
}  // namespace pgpulse::pg
