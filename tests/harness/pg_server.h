// One PostgreSQL postmaster started by the harness. Include pg_cluster.h, which builds these.
#ifndef PGPULSE_TESTS_HARNESS_PG_SERVER_H_
#define PGPULSE_TESTS_HARNESS_PG_SERVER_H_

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tests/harness/libpq_client.h"
#include "tests/harness/os_user.h"

namespace pgpulse::testing {

class PgCluster;

class PgServer {
 public:
  ~PgServer();
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  uint16_t port() const { return port_; }
  std::string host() const { return "127.0.0.1"; }
  std::string data_dir() const { return root_ + "/data"; }
  std::string socket_dir() const { return root_; }
  std::string log_path() const { return root_ + "/server.log"; }
  // Last lines of the server log, for failure messages.
  std::string LogTail(size_t lines = 40) const;

  // libpq key=value DSN over TCP (host=127.0.0.1 port=... user=... password=... dbname=...), values quoted properly.
  std::string Dsn(const std::string& user, const std::string& password, const std::string& db = "postgres") const;
  // Same without password=.
  std::string DsnNoPassword(const std::string& user, const std::string& db = "postgres") const;
  // postgresql://user:pass@127.0.0.1:port/db with user, password and db percent-encoded.
  std::string Uri(const std::string& user, const std::string& password, const std::string& db = "postgres") const;

  // Blocking libpq as the superuser over the Unix socket (a new connection per call, so any thread may use them).
  // Throw std::runtime_error with the server's message on error.
  Rows Query(const std::string& db, const std::string& sql) const;
  void Exec(const std::string& db, const std::string& sql) const;
  std::string QueryValue(const std::string& db, const std::string& sql) const;  // row 0 col 0; throws if none/NULL

  void Stop(const std::string& mode = "fast");  // pg_ctl stop -m mode -w; thaws a frozen server first
  void Start();                                 // pg_ctl start -w, same port and dir
  void Restart();                               // Stop + Start
  bool Running() const;                         // postmaster.pid names a live process
  pid_t postmaster_pid() const;                 // throws if the server is not running
  std::vector<pid_t> Pids() const;              // postmaster and all its child processes
  void Freeze();                                // SIGSTOP on Pids(): the server stalls, sockets stay open
  void Thaw();                                  // SIGCONT on the same pids

 private:
  friend class PgCluster;

  // `root` is an existing directory owned by `user` (if any) that will hold data/, the socket and server.log.
  PgServer(std::string root, std::string bin_dir, std::optional<OsUser> user, int max_connections);

  // Runs a PostgreSQL program from bin_dir as the server's OS user; throws with its output on failure.
  std::string RunPgProgram(const std::string& program, std::vector<std::string> args,
                           std::map<std::string, std::string> env = {}) const;
  // initdb with the superuser password; does not start the server.
  void InitDb(const std::string& superuser_password, bool data_checksums);
  // Copies the primary through a physical slot and configures itself as its streaming standby.
  void BaseBackupFrom(const PgServer& primary, const std::string& replication_user,
                      const std::string& replication_password, const std::string& slot);
  // (Re)writes pgpulse.conf, which postgresql.conf includes last: the harness's settings, port and socket dir.
  void WriteSettings() const;
  // First start on a free port; moves to another port if the chosen one was taken meanwhile.
  void StartOnFreePort();
  // SIGKILL everything that is left, after a failed stop.
  void Kill();

  std::string root_;
  std::string bin_dir_;
  std::optional<OsUser> user_;
  int max_connections_;
  uint16_t port_ = 0;
  bool archive_wal_ = false;                  // PgClusterOptions::archive_wal
  std::string extra_settings_;                // PgClusterOptions::extra_settings
  std::vector<std::string> extra_hba_lines_;  // PgClusterOptions::extra_hba_lines
  std::vector<pid_t> frozen_;
};

}  // namespace pgpulse::testing

#endif  // PGPULSE_TESTS_HARNESS_PG_SERVER_H_
