#include "tests/harness/pg_cluster.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>

#include "tests/harness/errno_text.h"
#include "tests/harness/orphan_guard.h"
#include "tests/harness/process.h"

namespace pgpulse::testing {
namespace {

constexpr auto kStreamingTimeout = std::chrono::seconds(30);
// Longest socket path we create below the temp parent: "/pgpulse-pg-XXXXXX/standby/.s.PGSQL.65535".
constexpr size_t kSocketSuffixLength = 42;
// sun_path holds 108 bytes including the terminating NUL.
constexpr size_t kMaxSocketPath = 107;

std::string RandomPassword(const std::string& prefix) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::random_device device;
  std::string password = prefix + "-";
  for (int i = 0; i < 24; ++i) password += kHex[device() % 16];
  return password;
}

// PGPULSE_PG_BINDIR names a directory outright; else PGPULSE_TEST_PG picks a major of the test matrix, which
// scripts/pg-versions.sh fetches (once) and locates; else Debian's PostgreSQL 15.
std::string PgBinDir() {
  std::string dir = "/usr/lib/postgresql/15/bin";
  const char* configured = std::getenv("PGPULSE_PG_BINDIR");
  const char* major = std::getenv("PGPULSE_TEST_PG");
  if (configured != nullptr && *configured != '\0') {
    dir = configured;
  } else if (major != nullptr && *major != '\0') {
    const auto found =
        RunCommand({"bash", std::string(PGPULSE_SOURCE_DIR) + "/scripts/pg-versions.sh", "bindir", major}, {},
                   std::chrono::minutes(5));
    if (found.exit_code != 0) {
      throw std::runtime_error("PGPULSE_TEST_PG=" + std::string(major) + ": scripts/pg-versions.sh failed:\n" +
                               found.output);
    }
    dir = found.output.substr(0, found.output.find('\n'));
  }
  if (access((dir + "/initdb").c_str(), X_OK) != 0) {
    throw std::runtime_error("PostgreSQL programs not found in " + dir +
                             " (install postgresql-15, or set PGPULSE_TEST_PG or PGPULSE_PG_BINDIR)");
  }
  return dir;
}

bool TraversableByOthers(const std::filesystem::path& dir) {
  std::filesystem::path prefix;
  for (const auto& part : std::filesystem::absolute(dir)) {
    prefix /= part;
    struct stat info {};
    if (stat(prefix.c_str(), &info) != 0 || (info.st_mode & S_IXOTH) == 0) return false;
  }
  return true;
}

// $TMPDIR unless the server's OS user could not reach it, or the socket path would not fit in sun_path.
std::string TempParent(const std::optional<OsUser>& user) {
  const char* tmpdir = std::getenv("TMPDIR");
  std::string parent = tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp";
  if (parent.size() + kSocketSuffixLength > kMaxSocketPath) return "/tmp";
  if (user && !TraversableByOthers(parent)) return "/tmp";
  return parent;
}

std::string MakeOwnedDir(const std::string& path, const std::optional<OsUser>& user) {
  if (mkdir(path.c_str(), 0700) != 0) throw std::runtime_error("mkdir " + path + ": " + ErrnoText(errno));
  ChownTo(path, user);
  return path;
}

}  // namespace

PgCluster::PgCluster(PgClusterOptions options)
    : options_(std::move(options)),
      superuser_password_(RandomPassword("su")),
      app_password_(RandomPassword("app")),
      reporting_password_(RandomPassword("rep")),
      replication_password_(RandomPassword("repl")) {
  const std::string bin_dir = PgBinDir();
  const std::optional<OsUser> user = ServerOsUser();
  root_ = TempParent(user) + "/pgpulse-pg-XXXXXX";
  if (mkdtemp(root_.data()) == nullptr) throw std::runtime_error("mkdtemp " + root_ + ": " + ErrnoText(errno));
  try {
    // mkdtemp makes 0700 directories: the server's user must own the whole path below the temp parent.
    ChownTo(root_, user);
    const std::string primary_root = MakeOwnedDir(root_ + "/primary", user);
    const std::string standby_root = options_.with_standby ? MakeOwnedDir(root_ + "/standby", user) : "";
    std::vector<std::string> data_dirs = {primary_root + "/data"};
    if (options_.with_standby) data_dirs.push_back(standby_root + "/data");
    guard_ = std::make_unique<OrphanGuard>(data_dirs, std::vector<std::string>{root_});

    primary_.reset(new PgServer(primary_root, bin_dir, user, options_.max_connections));
    primary_->archive_wal_ = options_.archive_wal;
    primary_->extra_settings_ = options_.extra_settings;
    primary_->extra_hba_lines_ = options_.extra_hba_lines;
    primary_->InitDb(superuser_password_, options_.data_checksums);
    primary_->StartOnFreePort();
    Bootstrap();
    if (options_.with_standby) {
      standby_.reset(new PgServer(standby_root, bin_dir, user, options_.max_connections));
      standby_->archive_wal_ = options_.archive_wal;  // as a primary's copy would be; a standby archives nothing
      standby_->extra_settings_ = options_.extra_settings;
      CreateStandby();
    }
  } catch (...) {
    // The destructor does not run for a half-built object.
    standby_.reset();
    primary_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(root_, ignored);
    guard_.reset();
    throw;
  }
}

PgCluster::~PgCluster() {
  // Standby first, so it does not log a storm of reconnection attempts while the primary goes away.
  standby_.reset();
  primary_.reset();
  std::error_code ignored;
  std::filesystem::remove_all(root_, ignored);
  guard_.reset();
}

PgCluster& PgCluster::Shared() {
  // Plain pointers, never destroyed by the runtime: the atexit hook decides when the cluster goes away.
  static std::mutex mutex;
  static PgCluster* instance = nullptr;
  static std::string* failure = nullptr;
  std::lock_guard lock(mutex);
  if (instance != nullptr) return *instance;
  if (failure != nullptr) throw std::runtime_error(*failure);
  try {
    PgClusterOptions options;
    options.with_standby = true;
    options.data_checksums = true;
    options.archive_wal = true;
    instance = new PgCluster(std::move(options));
  } catch (const std::exception& error) {
    failure = new std::string(std::string("the shared PostgreSQL cluster could not be created: ") + error.what());
    throw;
  }
  static const pid_t creator = getpid();
  (void)std::atexit([] {
    // A forked child that calls exit() (a gtest death test, say) must not tear down its parent's servers.
    if (getpid() != creator) return;
    delete instance;
    instance = nullptr;
  });
  return *instance;
}

PgServer& PgCluster::standby() {
  if (!standby_) throw std::logic_error("this PgCluster was created without a standby (PgClusterOptions)");
  return *standby_;
}

void PgCluster::Bootstrap() {
  PgServer& server = *primary_;
  server.Exec("postgres", "CREATE ROLE " + std::string(kAppUser) + " LOGIN PASSWORD " + QuoteSqlLiteral(app_password_) +
                              ";" + "CREATE ROLE " + kReportingUser + " LOGIN PASSWORD " +
                              QuoteSqlLiteral(reporting_password_) + ";" + "GRANT pg_monitor TO " + kReportingUser +
                              ";" + "CREATE ROLE " + kReplicationUser + " LOGIN REPLICATION PASSWORD " +
                              QuoteSqlLiteral(replication_password_) + ";" + "CREATE EXTENSION pg_stat_statements;");
  // CREATE DATABASE cannot share a (multi-statement, hence implicit) transaction.
  for (const std::string& db : options_.databases) {
    server.Exec("postgres", "CREATE DATABASE " + QuoteSqlIdentifier(db) + " OWNER " + kAppUser);
    server.Exec(db, "CREATE EXTENSION pg_stat_statements");
  }
}

void PgCluster::CreateStandby() {
  standby_->BaseBackupFrom(*primary_, kReplicationUser, replication_password_, kStandbySlot);
  standby_->StartOnFreePort();
  WaitForStreaming();
}

void PgCluster::WaitForStreaming() {
  const auto deadline = std::chrono::steady_clock::now() + kStreamingTimeout;
  const std::string sql =
      "SELECT (SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming') > 0"
      " AND (SELECT coalesce(bool_or(active), false) FROM pg_replication_slots WHERE slot_name = " +
      QuoteSqlLiteral(kStandbySlot) + ")";
  while (primary_->QueryValue("postgres", sql) != "t") {
    if (std::chrono::steady_clock::now() >= deadline) {
      throw std::runtime_error("the standby did not start streaming within 30 s\n--- standby log:\n" +
                               standby_->LogTail() + "--- primary log:\n" + primary_->LogTail());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace pgpulse::testing
