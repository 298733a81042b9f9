#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "exporter/async/deadline.h"
#include "exporter/pg/conn_params.h"
#include "exporter/pg/error.h"

// libpq's connection handle (PGconn), declared here so that libpq's header stays inside exporter/pg/.
struct pg_conn;

namespace pgpulse::pg {

struct Result {
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;  // text format; nullopt is SQL NULL
};

// Limits applied to the session on the server, so a query stays bounded even if pgpulse goes away.
struct SessionSettings {
  std::chrono::milliseconds statement_timeout{5000};
  std::chrono::milliseconds lock_timeout{1000};
  bool allow_superuser = false;
  // Ask whether the role has pg_monitor's privileges (SessionInfo::pg_monitor). A target asks on its own
  // connection; the many short database visits need not pay for the lookup on every login.
  bool check_pg_monitor = true;
};

// What the server told us at connect time.
struct SessionInfo {
  int server_version = 0;  // e.g. 150004
  std::string user;        // the role actually logged in
  std::string database;    // the database connected to
  bool superuser = false;
  bool pg_monitor = false;  // the role can use pg_monitor's privileges (a member that inherits them, or superuser)
  // Comma-separated: the superuser roles this role is a member of (and could SET ROLE to); refused unless allowed.
  std::string superuser_roles;
  // Comma-separated: the managed services' administrator roles this role is a member of (rds_superuser, ...).
  std::string managed_admin_roles;
};

// One libpq connection driven by the caller's io_context. Never blocks: connect and queries run through libpq's
// non-blocking API, waiting on the socket with Asio. One query at a time (libpq's rule); the owner serialises.
class Connection {
 public:
  explicit Connection(boost::asio::any_io_executor executor);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Resolves hosts, connects, checks the role and sets up a read-only session. Throws PgError; on any failure the
  // connection is closed.
  // Parameters are taken by value: a coroutine must own what it uses after its first suspension.
  boost::asio::awaitable<void> Connect(ConnParams params, SessionSettings settings, async::Clock::time_point deadline);

  // Runs one statement with text parameters. A server error (kQuery) leaves the connection usable; a timeout or a
  // broken connection closes it.
  boost::asio::awaitable<Result> Query(std::string sql, std::vector<std::optional<std::string>> params,
                                       async::Clock::time_point deadline);

  // Runs a statement that is not pgpulse's own (a collector's) in a transaction that is read-only and rolled back,
  // in one round trip: whatever it does to the session's settings (search_path, default_transaction_read_only, a
  // role) is undone before the next statement, and it can write nothing.
  boost::asio::awaitable<Result> QueryReadOnly(std::string sql, std::vector<std::optional<std::string>> params,
                                               async::Clock::time_point deadline);

  void Close();
  bool IsOpen() const;
  const SessionInfo& session() const { return session_; }

 private:
  boost::asio::awaitable<void> PollConnect(async::Clock::time_point deadline);
  boost::asio::awaitable<void> Flush(async::Clock::time_point deadline);
  boost::asio::awaitable<Result> Receive(async::Clock::time_point deadline);
  // Waits until libpq holds a complete result, so that PQgetResult will not block.
  boost::asio::awaitable<void> AwaitResult(const async::DeadlineGuard& guard);
  void AttachSocket();
  [[noreturn]] void Fail(ErrorKind kind, const std::string& message, std::string sqlstate = {});
  std::string LibpqError() const;

  boost::asio::any_io_executor executor_;
  boost::asio::posix::stream_descriptor socket_;
  pg_conn* conn_ = nullptr;
  SessionInfo session_;
  std::vector<std::string> secrets_;  // this connection's password values, masked in every libpq message
};

}  // namespace pgpulse::pg
