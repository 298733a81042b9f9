#include "tests/harness/pg_server.h"

#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <stdexcept>

#include "tests/harness/base_backup.h"
#include "tests/harness/errno_text.h"
#include "tests/harness/proc_stat.h"
#include "tests/harness/process.h"
#include "tests/harness/spawn.h"

namespace pgpulse::testing {
namespace {

constexpr auto kPgProgramTimeout = std::chrono::seconds(120);
// pg_ctl's own wait limit, below kPgProgramTimeout so pg_ctl reports the failure itself.
constexpr const char* kPgCtlWaitSeconds = "60";

std::string QuoteConfValue(const std::string& value) {
  std::string quoted = "'";
  for (char c : value) {
    if (c == '\'') quoted += '\'';
    quoted += c;
  }
  return quoted + "'";
}

std::optional<pid_t> ParentPid(pid_t pid) {
  const auto fields = ProcStatFields(pid);
  if (!fields || fields->size() < 2) return std::nullopt;
  return static_cast<pid_t>(std::stol((*fields)[1]));
}

std::vector<pid_t> ChildrenOf(pid_t parent) {
  std::vector<pid_t> children;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return children;
  while (const dirent* entry = readdir(proc)) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') continue;
    if (ParentPid(static_cast<pid_t>(pid)) == parent) children.push_back(static_cast<pid_t>(pid));
  }
  closedir(proc);
  return children;
}

// A stale postmaster.pid (after a crash) may name a pid that now belongs to an unrelated process.
bool IsPostgres(pid_t pid) {
  char target[4096];
  const ssize_t length = readlink(("/proc/" + std::to_string(pid) + "/exe").c_str(), target, sizeof target - 1);
  if (length <= 0) return false;
  const std::string exe(target, static_cast<size_t>(length));
  return exe.size() >= 9 && exe.compare(exe.size() - 9, 9, "/postgres") == 0;
}

}  // namespace

PgServer::PgServer(std::string root, std::string bin_dir, std::optional<OsUser> user, int max_connections)
    : root_(std::move(root)), bin_dir_(std::move(bin_dir)), user_(std::move(user)), max_connections_(max_connections) {}

PgServer::~PgServer() {
  if (!Running()) return;
  try {
    Stop("immediate");
  } catch (const std::exception&) {
    Kill();
  }
}

std::string PgServer::LogTail(size_t lines) const {
  std::ifstream in(log_path());
  std::vector<std::string> all;
  for (std::string line; std::getline(in, line);) all.push_back(line);
  std::string tail;
  for (size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i) tail += all[i] + "\n";
  return tail.empty() ? "(server log " + log_path() + " is empty)\n" : tail;
}

std::string PgServer::Dsn(const std::string& user, const std::string& password, const std::string& db) const {
  return "host=" + host() + " port=" + std::to_string(port_) + " user=" + QuoteConninfoValue(user) +
         " password=" + QuoteConninfoValue(password) + " dbname=" + QuoteConninfoValue(db);
}

std::string PgServer::DsnNoPassword(const std::string& user, const std::string& db) const {
  return "host=" + host() + " port=" + std::to_string(port_) + " user=" + QuoteConninfoValue(user) +
         " dbname=" + QuoteConninfoValue(db);
}

std::string PgServer::Uri(const std::string& user, const std::string& password, const std::string& db) const {
  return "postgresql://" + PercentEncode(user) + ":" + PercentEncode(password) + "@" + host() + ":" +
         std::to_string(port_) + "/" + PercentEncode(db);
}

Rows PgServer::Query(const std::string& db, const std::string& sql) const {
  // application_name lets tests tell the harness's own sessions apart from the exporter's.
  const std::string conninfo = "host=" + QuoteConninfoValue(socket_dir()) + " port=" + std::to_string(port_) +
                               " user=postgres dbname=" + QuoteConninfoValue(db) +
                               " connect_timeout=10 application_name=pgpulse_test_harness";
  return PgQuery(conninfo, sql);
}

void PgServer::Exec(const std::string& db, const std::string& sql) const { Query(db, sql); }

std::string PgServer::QueryValue(const std::string& db, const std::string& sql) const {
  const Rows rows = Query(db, sql);
  if (rows.empty() || rows[0].empty() || !rows[0][0]) {
    throw std::runtime_error("expected a non-NULL value from: " + sql);
  }
  return *rows[0][0];
}

std::string PgServer::RunPgProgram(const std::string& program, std::vector<std::string> args,
                                   std::map<std::string, std::string> env) const {
  // Inside root_, so the orphan guard removes it too if the test process dies while the program runs.
  std::string output_path = root_ + "/command-output-XXXXXX";
  const int output_fd = mkstemp(output_path.data());
  if (output_fd < 0) throw std::runtime_error("mkstemp " + output_path + ": " + ErrnoText(errno));
  close(output_fd);
  SpawnOptions options;
  options.argv = {bin_dir_ + "/" + program};
  options.argv.insert(options.argv.end(), args.begin(), args.end());
  // A developer's PGHOST, PGPORT or PGDATA must not redirect the harness; C messages keep failures greppable.
  options.drop_env_prefixes = {"PG"};
  options.env = std::move(env);
  options.env["LC_ALL"] = "C";
  options.env["HOME"] = root_;
  options.output_path = output_path;
  options.cwd = root_;
  options.user = user_;
  options.new_process_group = true;
  const pid_t pid = Spawn(options);
  const std::optional<int> code = WaitForExit(pid, kPgProgramTimeout);
  if (!code) {
    kill(-pid, SIGKILL);
    WaitForExit(pid, std::chrono::seconds(10));
  }
  std::string text = ReadFile(output_path);
  unlink(output_path.c_str());
  if (code != 0) {
    throw std::runtime_error(JoinArgv(options.argv) +
                             (code ? " failed with exit code " + std::to_string(*code) : " timed out") + ":\n" + text);
  }
  return text;
}

void PgServer::InitDb(const std::string& superuser_password, bool data_checksums) {
  const std::string password_file = root_ + "/superuser.pw";
  WriteFile(password_file, superuser_password + "\n");
  ChownTo(password_file, user_);
  std::vector<std::string> args = {"-D", data_dir(), "-U", "postgres", "--pwfile=" + password_file};
  args.insert(args.end(),
              {"--auth-local=trust", "--auth-host=scram-sha-256", "--encoding=UTF8", "--locale=C", "--no-sync"});
  if (data_checksums) args.push_back("--data-checksums");
  try {
    RunPgProgram("initdb", args);
  } catch (...) {
    unlink(password_file.c_str());
    throw;
  }
  unlink(password_file.c_str());

  // Only what the tests need: the superuser over the socket, everyone else with real SCRAM passwords over TCP.
  const std::string hba_path = data_dir() + "/pg_hba.conf";
  std::string hba;
  for (const std::string& line : extra_hba_lines_) hba += line + "\n";
  WriteFile(hba_path, hba +
                          "local all all trust\n"
                          "host all all 127.0.0.1/32 scram-sha-256\n"
                          "host replication all 127.0.0.1/32 scram-sha-256\n");
  ChownTo(hba_path, user_);
  const std::string conf_path = data_dir() + "/postgresql.conf";
  WriteFile(conf_path, ReadFile(conf_path) + "\ninclude 'pgpulse.conf'\n");
  ChownTo(conf_path, user_);
}

void PgServer::BaseBackupFrom(const PgServer& primary, const std::string& replication_user,
                              const std::string& replication_password, const std::string& slot) {
  if (access((bin_dir_ + "/pg_basebackup").c_str(), X_OK) != 0) {
    // The npm registry's builds of the other majors ship only the server: the low-level API does the same job.
    const BaseBackupSource source{"host=" + QuoteConninfoValue(primary.socket_dir()) +
                                      " port=" + std::to_string(primary.port()) +
                                      " user=postgres dbname=postgres application_name=pgpulse_test_harness",
                                  primary.data_dir()};
    LowLevelBaseBackup(source, data_dir(),
                       "host=" + primary.host() + " port=" + std::to_string(primary.port()) +
                           " user=" + QuoteConninfoValue(replication_user) +
                           " password=" + QuoteConninfoValue(replication_password),
                       slot, user_);
    return;
  }
  // The password reaches pg_basebackup through its environment only, never its command line.
  RunPgProgram("pg_basebackup",
               {"-h", primary.host(), "-p", std::to_string(primary.port()), "-U", replication_user, "-D", data_dir(),
                "-R", "-X", "stream", "-C", "-S", slot, "--checkpoint=fast", "--no-sync"},
               {{"PGPASSWORD", replication_password}});
}

void PgServer::WriteSettings() const {
  const std::string path = data_dir() + "/pgpulse.conf";
  WriteFile(path,
            "# Written by the pgpulse test harness; postgresql.conf includes it last.\n"
            "listen_addresses = '127.0.0.1'\n"
            "port = " +
                std::to_string(port_) +
                "\n"
                "unix_socket_directories = " +
                QuoteConfValue(socket_dir()) +
                "\n"
                "shared_preload_libraries = 'pg_stat_statements'\n"
                "pg_stat_statements.track = all\n"
                "password_encryption = 'scram-sha-256'\n"
                "wal_level = replica\n"
                "max_wal_senders = 5\n"
                "max_replication_slots = 5\n"
                "hot_standby = on\n"
                "max_connections = " +
                std::to_string(max_connections_) +
                "\n"
                "logging_collector = off\n"
                "# Durability is worthless for throw-away test data; these make setup and writes fast.\n"
                "fsync = off\n"
                "synchronous_commit = off\n"
                "full_page_writes = off\n" +
                (archive_wal_ ? "archive_mode = on\narchive_command = '/bin/true'\n" : "") + extra_settings_);
  ChownTo(path, user_);
}

void PgServer::StartOnFreePort() {
  constexpr int kAttempts = 5;
  for (int attempt = 1;; ++attempt) {
    port_ = FreePort();
    WriteSettings();
    try {
      Start();
      return;
    } catch (const std::runtime_error&) {
      const std::string log = LogTail(10);
      const bool port_taken =
          log.find("could not bind") != std::string::npos || log.find("Address already in use") != std::string::npos;
      if (!port_taken || attempt == kAttempts) throw;
    }
  }
}

void PgServer::Start() {
  try {
    RunPgProgram("pg_ctl", {"start", "-w", "-t", kPgCtlWaitSeconds, "-D", data_dir(), "-l", log_path()});
  } catch (const std::runtime_error& error) {
    throw std::runtime_error("PostgreSQL in " + data_dir() + " did not start on port " + std::to_string(port_) + ": " +
                             error.what() + "\n--- last lines of " + log_path() + ":\n" + LogTail());
  }
}

void PgServer::Stop(const std::string& mode) {
  // A stopped (SIGSTOP) server cannot act on pg_ctl's signal and the wait would run into the timeout.
  Thaw();
  try {
    RunPgProgram("pg_ctl", {"stop", "-w", "-t", kPgCtlWaitSeconds, "-m", mode, "-D", data_dir()});
  } catch (const std::runtime_error& error) {
    throw std::runtime_error("PostgreSQL in " + data_dir() + " did not stop: " + error.what() + "\n--- last lines of " +
                             log_path() + ":\n" + LogTail());
  }
}

void PgServer::Restart() {
  Stop();
  Start();
}

bool PgServer::Running() const {
  std::ifstream in(data_dir() + "/postmaster.pid");
  pid_t pid = 0;
  return (in >> pid) && pid > 0 && IsPostgres(pid);
}

pid_t PgServer::postmaster_pid() const {
  std::ifstream in(data_dir() + "/postmaster.pid");
  pid_t pid = 0;
  if (!(in >> pid) || pid <= 0 || !IsPostgres(pid))
    throw std::runtime_error("PostgreSQL in " + data_dir() + " is not running");
  return pid;
}

std::vector<pid_t> PgServer::Pids() const {
  const pid_t postmaster = postmaster_pid();
  std::vector<pid_t> pids = {postmaster};
  for (pid_t child : ChildrenOf(postmaster)) pids.push_back(child);
  return pids;
}

void PgServer::Freeze() {
  if (!frozen_.empty()) return;
  // The postmaster first: once it is stopped it cannot fork children that the scan below would miss.
  const pid_t postmaster = postmaster_pid();
  if (kill(postmaster, SIGSTOP) != 0) throw std::runtime_error("cannot SIGSTOP the postmaster");
  frozen_.push_back(postmaster);
  for (pid_t child : ChildrenOf(postmaster)) {
    if (kill(child, SIGSTOP) == 0) frozen_.push_back(child);
  }
}

void PgServer::Thaw() {
  for (pid_t pid : frozen_) kill(pid, SIGCONT);
  frozen_.clear();
}

void PgServer::Kill() {
  Thaw();
  try {
    for (pid_t pid : Pids()) kill(pid, SIGKILL);
  } catch (const std::runtime_error&) {
    // Not running after all.
  }
}

}  // namespace pgpulse::testing
