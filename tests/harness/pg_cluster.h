// Throw-away PostgreSQL 15 servers for tests: a primary with roles and service databases, optionally a standby.
#ifndef PGPULSE_TESTS_HARNESS_PG_CLUSTER_H_
#define PGPULSE_TESTS_HARNESS_PG_CLUSTER_H_

#include <memory>
#include <string>
#include <vector>

#include "tests/harness/pg_server.h"

namespace pgpulse::testing {

class OrphanGuard;

struct PgClusterOptions {
  std::vector<std::string> databases = {"cafe", "erp", "treasury"};  // service databases, owned by app_user
  bool with_standby = false;    // streaming standby through a physical replication slot
  bool data_checksums = false;  // initdb --data-checksums (PostgreSQL 18's initdb turns them on by itself)
  bool archive_wal = false;     // archive_mode = on, archive_command = '/bin/true': WAL is archived, and kept nowhere
  int max_connections = 100;    // both servers (a standby needs at least its primary's value)
  // Settings lines added after the harness's own (the last setting wins), e.g. the benchmark's logging and
  // pg_stat_statements sizes.
  std::string extra_settings;
  // pg_hba.conf lines put before the harness's own (the first matching line wins).
  std::vector<std::string> extra_hba_lines;
};

// Servers live in a fresh temp dir, listen on free loopback ports and run as an unprivileged OS user when the tests
// run as root. Setup takes a few seconds, so suites share one cluster through Shared() where they can.
class PgCluster {
 public:
  explicit PgCluster(PgClusterOptions options = {});
  ~PgCluster();  // stops servers (immediate) and removes the temp dirs
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  // One cluster per test process, with a standby, data checksums and WAL archiving, created on first use and torn down
  // at exit. If creating it fails, later calls rethrow the same error at once instead of retrying the slow setup for
  // every test.
  static PgCluster& Shared();

  PgServer& primary() { return *primary_; }
  PgServer& standby();  // throws std::logic_error if created without standby
  bool has_standby() const { return standby_ != nullptr; }
  const std::vector<std::string>& databases() const { return options_.databases; }
  const std::string& root_dir() const { return root_; }

  // Role names are fixed; passwords are random per cluster ("<role prefix>-" + 24 hex digits) so tests can grep
  // output for them.
  static constexpr const char* kSuperuser = "postgres";
  static constexpr const char* kAppUser = "app_user";
  static constexpr const char* kReportingUser = "reporting";
  static constexpr const char* kReplicationUser = "replicator";
  static constexpr const char* kStandbySlot = "pgpulse_standby_slot";
  const std::string& superuser_password() const { return superuser_password_; }
  const std::string& app_password() const { return app_password_; }
  const std::string& reporting_password() const { return reporting_password_; }
  const std::string& replication_password() const { return replication_password_; }

  // Blocks until the standby streams from the primary again (30 s), e.g. after the primary restarted.
  void WaitForStreaming();

 private:
  void Bootstrap();
  void CreateStandby();

  PgClusterOptions options_;
  std::string superuser_password_;
  std::string app_password_;
  std::string reporting_password_;
  std::string replication_password_;
  std::string root_;
  std::unique_ptr<OrphanGuard> guard_;
  std::unique_ptr<PgServer> primary_;
  std::unique_ptr<PgServer> standby_;
};

}  // namespace pgpulse::testing

#endif  // PGPULSE_TESTS_HARNESS_PG_CLUSTER_H_
