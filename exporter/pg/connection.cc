#include "exporter/pg/connection.h"

#include <libpq-fe.h>

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

// Sets up the session in one round trip. Until this statement has run, the search_path is whatever the database
// or the role-in-database settings say, and those belong to the database's owner, an untrusted tenant on a shared
// instance: a `public.set_config(text, text, boolean)` or `public.pg_has_role(text, text)` would otherwise run as
// the reporting role. So every function, type and operator here is qualified with pg_catalog, where only a superuser
// can create objects. After it, search_path is pg_catalog (pg_temp last, so a temporary table can never shadow a
// catalog), and the rest of pgpulse's SQL resolves there whatever the database sets.
// client_encoding is pinned to UTF8 so that names are converted by the server rather than handed over in an
// encoding a database owner chose (label values must be UTF-8). A SQL_ASCII database is the exception: the server
// cannot convert from it, and in UTF8 it rejects every result that holds a non-UTF-8 byte, so one odd table name
// would fail whole collectors; there the bytes come as stored, and the collectors repair them. DateStyle, IntervalStyle
// and extra_float_digits are pinned because a database owner could otherwise change how values read. The same round
// trip asks what the role can become: pg_monitor's privileges, a superuser through membership (refused like a superuser
// login), and the managed services' administrator roles (reported and warned about).
constexpr const char* kSessionSetupSql =
    "SELECT pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', false),"
    " pg_catalog.set_config('client_encoding', $4, false),"
    " pg_catalog.set_config('default_transaction_read_only', 'on', false),"
    " pg_catalog.set_config('statement_timeout', $1, false),"
    " pg_catalog.set_config('lock_timeout', $2, false),"
    " pg_catalog.set_config('DateStyle', 'ISO, MDY', false),"
    " pg_catalog.set_config('IntervalStyle', 'postgres', false),"
    " pg_catalog.set_config('extra_float_digits', '1', false),"
    " CASE WHEN $3::pg_catalog.bool THEN pg_catalog.pg_has_role('pg_monitor', 'USAGE') END AS pg_monitor,"
    " (SELECT pg_catalog.string_agg(r.rolname::pg_catalog.text, ',' ORDER BY r.rolname) FROM pg_catalog.pg_roles r"
    "   WHERE r.rolsuper AND pg_catalog.pg_has_role(r.oid, 'MEMBER')) AS superuser_roles,"
    " (SELECT pg_catalog.string_agg(a.name, ',' ORDER BY a.name)"
    "   FROM pg_catalog.unnest(ARRAY['rds_superuser', 'azure_pg_admin', 'cloudsqlsuperuser']) AS a(name)"
    "   WHERE pg_catalog.to_regrole(a.name) IS NOT NULL"
    "   AND pg_catalog.pg_has_role(pg_catalog.to_regrole(a.name)::pg_catalog.oid, 'MEMBER')) AS managed_admin_roles";

// libpq's form of text parameters: C strings, NULL for SQL NULL. They point into `params`, which must outlive them.
std::vector<const char*> ParamValues(const std::vector<std::optional<std::string>>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& param : params) values.push_back(param ? param->c_str() : nullptr);
  return values;
}

std::string ClientEncoding(const char* server_encoding) {
  return server_encoding != nullptr && std::string(server_encoding) == "SQL_ASCII" ? "SQL_ASCII" : "UTF8";
}

// Column positions in kSessionSetupSql's answer.
constexpr std::size_t kSetupPgMonitor = 8, kSetupSuperuserRoles = 9, kSetupManagedAdmin = 10, kSetupColumns = 11;

// Transaction control around a collector's statement: see QueryReadOnly.
constexpr const char* kBeginReadOnly = "BEGIN TRANSACTION READ ONLY";
constexpr const char* kRollback = "ROLLBACK";

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
  if (conn_ == nullptr) return "out of memory";
  auto message = OneLine(PQerrorMessage(conn_));
  // libpq's connect errors quote option values (an invalid port, an unreadable file). None is known to quote the
  // password, but this message goes to the log and the status page, so it is checked, not trusted.
  for (const auto& secret : secrets_) {
    if (secret.empty()) continue;
    constexpr std::string_view kMask = "xxxxx";
    for (auto at = message.find(secret); at != std::string::npos; at = message.find(secret, at + kMask.size())) {
      message.replace(at, secret.size(), kMask);
    }
  }
  return message;
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
  secrets_.clear();
  for (const char* key : {"password", "sslpassword"}) {
    if (auto it = params.find(key); it != params.end()) secrets_.push_back(it->second);
  }
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
  std::vector<std::optional<std::string>> limits = {
      std::to_string(settings.statement_timeout.count()), std::to_string(settings.lock_timeout.count()),
      settings.check_pg_monitor ? "true" : "false", ClientEncoding(PQparameterStatus(conn_, "server_encoding"))};
  try {
    auto setup = co_await Query(std::move(setup_sql), std::move(limits), deadline);
    if (setup.rows.size() != 1 || setup.rows[0].size() != kSetupColumns) {
      throw PgError(ErrorKind::kQuery, "unexpected answer to the session set-up");
    }
    const auto& row = setup.rows[0];
    session_.pg_monitor = row[kSetupPgMonitor] == "t";
    session_.superuser_roles = row[kSetupSuperuserRoles].value_or("");
    session_.managed_admin_roles = row[kSetupManagedAdmin].value_or("");
  } catch (const PgError& e) {
    Close();
    throw PgError(e.kind() == ErrorKind::kQuery ? ErrorKind::kConnect : e.kind(),
                  std::string("session setup failed: ") + e.what(), e.sqlstate());
  }
  // A member of a superuser role can SET ROLE to it at any time: as good as a superuser login.
  if (!session_.superuser_roles.empty() && !settings.allow_superuser) {
    Fail(ErrorKind::kRefused, "role \"" + session_.user + "\" can become a superuser through membership in " +
                                  session_.superuser_roles +
                                  "; pgpulse refuses such sessions unless the target sets allow_superuser: true "
                                  "(use a role in pg_monitor only)");
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
  const auto values = ParamValues(params);
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

asio::awaitable<void> Connection::AwaitResult(const async::DeadlineGuard& guard) {
  // PQgetResult blocks while libpq is busy, so only call it once a complete message is buffered.
  while (true) {
    if (PQconsumeInput(conn_) == 0) Fail(ErrorKind::kBroken, LibpqError());
    if (PQisBusy(conn_) == 0) co_return;
    auto ec = co_await WaitSocket(socket_, SocketInterest::kRead);
    if (guard.expired()) Fail(ErrorKind::kTimeout, "timed out waiting for the query result");
    if (ec) Fail(ErrorKind::kBroken, "waiting for the server: " + ec.message());
  }
}

namespace {

void CopyRows(const PGresult* res, Result& result) {
  const int columns = PQnfields(res), rows = PQntuples(res);
  result.columns.clear();
  for (int c = 0; c < columns; ++c) result.columns.emplace_back(PQfname(res, c));
  result.rows.assign(rows, {});
  for (int r = 0; r < rows; ++r) {
    auto& row = result.rows[r];
    row.reserve(columns);
    for (int c = 0; c < columns; ++c) {
      if (PQgetisnull(res, r, c)) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(std::string(PQgetvalue(res, r, c), PQgetlength(res, r, c)));
      }
    }
  }
}

PgError ServerError(const PGresult* res) {
  const char* sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);
  return PgError(ErrorKind::kQuery, OneLine(PQresultErrorMessage(res)), sqlstate != nullptr ? sqlstate : "");
}

using ResultPtr = std::unique_ptr<PGresult, decltype(&PQclear)>;

}  // namespace

asio::awaitable<Result> Connection::Receive(async::Clock::time_point deadline) {
  async::DeadlineGuard guard(executor_, deadline, [this] { socket_.cancel(); });
  Result result;
  std::optional<PgError> error;
  while (true) {
    co_await AwaitResult(guard);
    ResultPtr res(PQgetResult(conn_), &PQclear);
    if (!res) break;
    switch (PQresultStatus(res.get())) {
      case PGRES_TUPLES_OK:
        CopyRows(res.get(), result);
        break;
      case PGRES_COMMAND_OK:
        break;
      default:
        if (!error) error = ServerError(res.get());
    }
  }
  if (PQstatus(conn_) != CONNECTION_OK) Fail(ErrorKind::kBroken, LibpqError());
  if (error) throw *error;
  co_return result;
}

asio::awaitable<Result> Connection::QueryReadOnly(std::string sql, std::vector<std::optional<std::string>> params,
                                                  async::Clock::time_point deadline) {
  if (!IsOpen()) throw PgError(ErrorKind::kBroken, "not connected");
  const auto values = ParamValues(params);
  // One round trip: libpq's pipeline mode sends the three statements and a Sync together.
  if (PQenterPipelineMode(conn_) == 0 ||
      PQsendQueryParams(conn_, kBeginReadOnly, 0, nullptr, nullptr, nullptr, nullptr, 0) == 0 ||
      PQsendQueryParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr, nullptr,
                        0) == 0 ||
      PQsendQueryParams(conn_, kRollback, 0, nullptr, nullptr, nullptr, nullptr, 0) == 0 ||
      PQpipelineSync(conn_) == 0) {
    Fail(ErrorKind::kBroken, LibpqError());
  }
  co_await Flush(deadline);

  Result result;
  std::optional<PgError> error;
  {
    async::DeadlineGuard guard(executor_, deadline, [this] { socket_.cancel(); });
    int statement = 0;  // which of BEGIN, the statement and ROLLBACK the results belong to; a NULL ends each one's
    while (true) {
      co_await AwaitResult(guard);
      ResultPtr res(PQgetResult(conn_), &PQclear);
      if (!res) {
        ++statement;
        continue;
      }
      const auto status = PQresultStatus(res.get());
      if (status == PGRES_PIPELINE_SYNC) break;
      if (status == PGRES_TUPLES_OK && statement == 1) {
        CopyRows(res.get(), result);
      } else if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK && status != PGRES_PIPELINE_ABORTED &&
                 !error) {
        error = ServerError(res.get());
      }
    }
  }
  if (PQexitPipelineMode(conn_) == 0 || PQstatus(conn_) != CONNECTION_OK) Fail(ErrorKind::kBroken, LibpqError());
  if (PQtransactionStatus(conn_) != PQTRANS_IDLE) {
    // The statement failed inside the transaction, so the server skipped the pipelined ROLLBACK.
    std::string rollback = kRollback;
    std::vector<std::optional<std::string>> no_params;
    co_await Query(std::move(rollback), std::move(no_params), deadline);
  }
  if (error) throw *error;
  co_return result;
}

}  // namespace pgpulse::pg
