#include "tests/harness/base_backup.h"

#include <libpq-fe.h>

#include <filesystem>
#include <memory>
#include <set>
#include <stdexcept>

#include "tests/harness/libpq_client.h"
#include "tests/harness/process.h"

namespace pgpulse::testing {
namespace fs = std::filesystem;
namespace {

// One session held across statements: a non-exclusive backup must stop in the session that started it.
class Session {
 public:
  explicit Session(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str()), &PQfinish) {
    if (PQstatus(conn_.get()) != CONNECTION_OK) {
      throw std::runtime_error("base backup: cannot connect to the primary: " +
                               std::string(PQerrorMessage(conn_.get())));
    }
  }
  std::string Value(const std::string& sql) {
    std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(conn_.get(), sql.c_str()), &PQclear);
    if (PQresultStatus(result.get()) != PGRES_TUPLES_OK || PQntuples(result.get()) != 1) {
      throw std::runtime_error("base backup: " + sql + ": " + PQerrorMessage(conn_.get()));
    }
    return PQgetvalue(result.get(), 0, 0);
  }

 private:
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn_;
};

// What a base backup leaves out (as pg_basebackup does): the WAL, which the standby streams through its slot, the
// running server's pid and options, and state that belongs to the primary alone.
bool Excluded(const fs::path& relative) {
  static const std::set<std::string> kFiles = {"postmaster.pid", "postmaster.opts", "backup_label", "tablespace_map"};
  static const std::set<std::string> kEmptiedDirs = {"pg_wal",    "pg_replslot", "pg_stat_tmp",  "pg_dynshmem",
                                                     "pg_notify", "pg_serial",   "pg_snapshots", "pg_subtrans"};
  const auto first = relative.begin()->string();
  if (relative.has_parent_path() && kEmptiedDirs.count(first)) return true;
  return !relative.has_parent_path() && kFiles.count(first);
}

void CopyDataDir(const fs::path& from, const fs::path& to, const std::optional<OsUser>& owner) {
  fs::create_directory(to, from);  // with the source's mode (0700)
  ChownTo(to.string(), owner);
  for (auto it = fs::recursive_directory_iterator(from); it != fs::recursive_directory_iterator(); ++it) {
    const auto relative = fs::relative(it->path(), from);
    if (Excluded(relative)) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    const auto target = to / relative;
    std::error_code ec;
    if (it->is_directory(ec)) {
      fs::create_directory(target, it->path(), ec);
    } else if (it->is_regular_file(ec)) {
      // A file the server removes meanwhile (a temporary one) is simply not part of the backup.
      fs::copy_file(it->path(), target, fs::copy_options::overwrite_existing, ec);
      if (ec && ec != std::errc::no_such_file_or_directory) {
        throw std::runtime_error("base backup: copy " + it->path().string() + ": " + ec.message());
      }
    }
    if (fs::exists(target)) ChownTo(target.string(), owner);
  }
  fs::create_directories(to / "pg_wal" / "archive_status");
  for (const auto& dir : {to / "pg_wal", to / "pg_wal" / "archive_status"}) ChownTo(dir.string(), owner);
}

std::string QuoteConf(const std::string& value) {
  std::string quoted = "'";
  for (char c : value) quoted += c == '\'' ? std::string("''") : std::string(1, c);
  return quoted + "'";
}

}  // namespace

void LowLevelBaseBackup(const BaseBackupSource& source, const std::string& target_data_dir,
                        const std::string& primary_conninfo, const std::string& slot,
                        const std::optional<OsUser>& owner) {
  Session session(source.superuser_conninfo);
  const int version = std::stoi(session.Value("SHOW server_version_num"));
  session.Value("SELECT pg_create_physical_replication_slot(" + QuoteSqlLiteral(slot) + ", true)");
  // Fast checkpoint, non-exclusive; the functions were renamed in 15.
  session.Value(version >= 150000 ? "SELECT pg_backup_start('pgpulse-standby', true)"
                                  : "SELECT pg_start_backup('pgpulse-standby', true, false)");
  CopyDataDir(source.data_dir, target_data_dir, owner);
  const std::string label = session.Value(version >= 150000 ? "SELECT labelfile FROM pg_backup_stop(false)"
                                                            : "SELECT labelfile FROM pg_stop_backup(false, false)");
  const fs::path dir(target_data_dir);
  WriteFile((dir / "backup_label").string(), label);
  WriteFile((dir / "standby.signal").string(), "");
  const auto auto_conf = dir / "postgresql.auto.conf";
  WriteFile(auto_conf.string(), ReadFile(auto_conf.string()) + "primary_conninfo = " + QuoteConf(primary_conninfo) +
                                    "\nprimary_slot_name = " + QuoteConf(slot) + "\n");
  for (const char* file : {"backup_label", "standby.signal", "postgresql.auto.conf"}) {
    ChownTo((dir / file).string(), owner);
  }
}

}  // namespace pgpulse::testing
