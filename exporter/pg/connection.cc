#include "exporter/pg/connection.h"

#include <memory>

#include "exporter/pg/resolve.h"
#include "exporter/pg/socket_wait.h"

namespace pgpulse::pg {
namespace asio = boost::asio;

namespace {

// libpq reports connection failures as text only; these fragments mark the server (or libpq) refusing credentials,
// which later leads to re-reading them rather than merely retrying.
ErrorKind ClassifyConnectFailure(const std::string& message) {
  for (const char* fragment :
       {"authentication failed", "no password supplied", "pg_hba.conf", "password is required", "SCRAM"}) {
    if (message.find(fragment) != std::string::npos) return ErrorKind::kAuth;
  }
  // A dropped or renamed role (a database that does not exist is not a credentials problem).
  if (message.find("role \"") != std::string::npos && message.find("does not exist") != std::string::npos) {
    return ErrorKind::kAuth;
  }
  return ErrorKind::kConnect;
}

std::string OneLine(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  for (auto& c : text) {
    if (c == '\n') c = ' ';
  }
  return text;
}

// The session is read-only and bounded on the server side; search_path is pinned so that catalog names in the
// collectors' SQL cannot be shadowed by objects in a user's schema. The same round trip can ask whether the role
// has pg_monitor's privileges, which is what pgpulse's collectors are written for.
constexpr const char* kSessionSetupSql =
    "SELECT set_config('default_transaction_read_only', 'on', false),"
    " set_config('statement_timeout', $1, false),"
    " set_config('lock_timeout', $2, false),"
    " set_config('search_path', 'pg_catalog', false),"
    " CASE WHEN $3 THEN pg_has_role('pg_monitor', 'USAGE') END";

}  // namespace

Connection::Connection(asio::any_io_executor executor) : executor_(executor), socket_(executor) {}

Connection::~Connection() { Close(); }

void Connection::Close() {
  // The descriptor belongs to libpq: release it from Asio (never close it) before PQfinish closes it.
  if (socket_.is_open()) socket_.release();
  if (conn_ != nullptr) {
    PQfinish(conn_);
    conn_ = nullptr;
  }
  session_ = {};
}

bool Connection::IsOpen() const { return conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK; }

std::string Connection::LibpqError() const {
  return conn_ == nullptr ? std::string("out of memory") : OneLine(PQerrorMessage(conn_));
}

void Connection::Fail(ErrorKind kind, const std::string& message, std::string sqlstate) {
  Close();
  throw PgError(kind, message, std::move(sqlstate));
}

void Connection::AttachSocket() {
  // libpq may close its socket and open a new one during connect, often under the same number. Asio 1.18's epoll
  // reactor would keep waiting on the old registration, so re-register after every poll.
  if (socket_.is_open()) socket_.release();
  if (int fd = PQsocket(conn_); fd >= 0) socket_.assign(fd);
}

asio::awaitable<void> Connection::Connect(ConnParams params, SessionSettings settings,
                                          async::Clock::time_point deadline) {
  Close();
  params = co_await ResolveHosts(executor_, std::move(params), deadline);
  params.emplace("fallback_application_name", "pgpulse");
  std::vector<const char*> keywords, values;
  for (const auto& [key, value] : params) {
    keywords.push_back(key.c_str());
    values.push_back(value.c_str());
  }
  keywords.push_back(nullptr);
  values.push_back(nullptr);

  conn_ = PQconnectStartParams(keywords.data(), values.data(), 0);
  if (conn_ == nullptr || PQstatus(conn_) == CONNECTION_BAD) Fail(ErrorKind::kConnect, LibpqError());
  co_await PollConnect(deadline);
  if (PQsetnonblocking(conn_, 1) != 0) Fail(ErrorKind::kConnect, LibpqError());

  session_.server_version = PQserverVersion(conn_);
  session_.database = PQdb(conn_);
  const char* user = PQparameterStatus(conn_, "session_authorization");
  session_.user = user != nullptr ? user : PQuser(conn_);
  const char* superuser = PQparameterStatus(conn_, "is_superuser");
  session_.superuser = superuser != nullptr && std::string(superuser) == "on";
  if (session_.superuser && !settings.allow_superuser) {
    Fail(ErrorKind::kRefused, "role \"" + session_.user +
                                  "\" is a superuser; pgpulse refuses superuser sessions unless the target sets "
                                  "allow_superuser: true (use a role in pg_monitor)");
  }

  // Arguments are named locals: g++ 12 mishandles temporaries (and braced lists) that live across a co_await.
  std::string setup_sql = kSessionSetupSql;
  std::vector<std::optional<std::string>> limits = {std::to_string(settings.statement_timeout.count()),
                                                    std::to_string(settings.lock_timeout.count()),
                                                    settings.check_pg_monitor ? "true" : "false"};
  try {
    auto setup = co_await Query(std::move(setup_sql), std::move(limits), deadline);
    session_.pg_monitor = setup.rows.size() == 1 && setup.rows[0].size() == 5 && setup.rows[0][4] == "t";
  } catch (const PgError& e) {
    Close();
    throw PgError(e.kind() == ErrorKind::kQuery ? ErrorKind::kConnect : e.kind(),
                  std::string("session setup failed: ") + e.what(), e.sqlstate());
  }
}

asio::awaitable<void> Connection::PollConnect(async::Clock::time_point deadline) {
  // libpq ignores connect_timeout under PQconnectPoll, so the whole handshake (TCP, TLS, auth) has one deadline.
  async::DeadlineGuard guard(executor_, deadline, [this] { socket_.cancel(); });
  PostgresPollingStatusType status = PGRES_POLLING_WRITING;  // what libpq's docs say to assume before the first poll
  while (true) {
    AttachSocket();
    if (status == PGRES_POLLING_OK) co_return;
    if (status == PGRES_POLLING_FAILED) {
      auto message = LibpqError();
      Fail(ClassifyConnectFailure(message), message);
    }
    auto ec =
        co_await WaitSocket(socket_, status == PGRES_POLLING_READING ? SocketInterest::kRead : SocketInterest::kWrite);
    if (guard.expired()) Fail(ErrorKind::kTimeout, "timed out connecting");
    if (ec) Fail(ErrorKind::kConnect, "waiting for the server: " + ec.message());
    status = PQconnectPoll(conn_);
  }
}

asio::awaitable<Result> Connection::Query(std::string sql, std::vector<std::optional<std::string>> params,
                                          async::Clock::time_point deadline) {
  if (!IsOpen()) throw PgError(ErrorKind::kBroken, "not connected");
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& param : params) values.push_back(param ? param->c_str() : nullptr);
  if (PQsendQueryParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr, nullptr,
                        0) == 0) {
    Fail(ErrorKind::kBroken, LibpqError());
  }
  co_await Flush(deadline);
  co_return co_await Receive(deadline);
}

asio::awaitable<void> Connection::Flush(async::Clock::time_point deadline) {
  async::DeadlineGuard guard(executor_, deadline, [this] { socket_.cancel(); });
  while (true) {
    int pending = PQflush(conn_);
    if (pending == 0) co_return;
    if (pending < 0) Fail(ErrorKind::kBroken, LibpqError());
    // libpq's rule: while the send buffer is full, also read, or a server blocked on its own output deadlocks us.
    auto ec = co_await WaitSocket(socket_, SocketInterest::kReadOrWrite);
    if (guard.expired()) Fail(ErrorKind::kTimeout, "timed out sending the query");
    if (ec) Fail(ErrorKind::kBroken, "waiting for the server: " + ec.message());
    if (PQconsumeInput(conn_) == 0) Fail(ErrorKind::kBroken, LibpqError());
  }
}

asio::awaitable<Result> Connection::Receive(async::Clock::time_point deadline) {
  async::DeadlineGuard guard(executor_, deadline, [this] { socket_.cancel(); });
  Result result;
  std::optional<PgError> error;
  while (true) {
    // PQgetResult blocks while libpq is busy, so only call it once a complete message is buffered.
    while (true) {
      if (PQconsumeInput(conn_) == 0) Fail(ErrorKind::kBroken, LibpqError());
      if (PQisBusy(conn_) == 0) break;
      auto ec = co_await WaitSocket(socket_, SocketInterest::kRead);
      if (guard.expired()) Fail(ErrorKind::kTimeout, "timed out waiting for the query result");
      if (ec) Fail(ErrorKind::kBroken, "waiting for the server: " + ec.message());
    }
    std::unique_ptr<PGresult, decltype(&PQclear)> res(PQgetResult(conn_), &PQclear);
    if (!res) break;
    switch (PQresultStatus(res.get())) {
      case PGRES_TUPLES_OK: {
        const int columns = PQnfields(res.get()), rows = PQntuples(res.get());
        result.columns.clear();
        for (int c = 0; c < columns; ++c) result.columns.emplace_back(PQfname(res.get(), c));
        result.rows.assign(rows, {});
        for (int r = 0; r < rows; ++r) {
          auto& row = result.rows[r];
          row.reserve(columns);
          for (int c = 0; c < columns; ++c) {
            if (PQgetisnull(res.get(), r, c)) {
              row.emplace_back(std::nullopt);
            } else {
              row.emplace_back(std::string(PQgetvalue(res.get(), r, c), PQgetlength(res.get(), r, c)));
            }
          }
        }
        break;
      }
      case PGRES_COMMAND_OK:
        break;
      default:
        if (!error) {
          const char* sqlstate = PQresultErrorField(res.get(), PG_DIAG_SQLSTATE);
          error.emplace(ErrorKind::kQuery, OneLine(PQresultErrorMessage(res.get())),
                        sqlstate != nullptr ? sqlstate : "");
        }
    }
  }
  if (PQstatus(conn_) != CONNECTION_OK) Fail(ErrorKind::kBroken, LibpqError());
  if (error) throw *error;
  co_return result;
}

}  // namespace pgpulse::pg
