// The conditions under which every series pgpulse exports exists on the shared cluster, for the tests that check
// what the alert rules and the dashboards read against pgpulse's real output.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "tests/e2e/collectors_fixture.h"
#include "tests/e2e/held_session.h"
#include "tests/e2e/promql.h"
#include "tests/harness/exporter_process.h"
#include "tests/harness/metrics_text.h"
#include "tests/harness/pg_cluster.h"

namespace pgpulse::testing {

inline int ServerMajor(const PgServer& server) {
  return std::stoi(server.QueryValue("postgres", "SHOW server_version_num")) / 10000;
}

// The conditions under which every series the rules read exists, made on the shared servers and undone when the
// object goes. Made once, in the constructor; BeforeScrape() renews what fades within seconds.
//   - a standby streaming through its slot (the harness's): pg_stat_replication and the slot on the primary, the WAL
//     receiver and replay lag on the standby; data checksums on and WAL archiving (the harness's shared cluster);
//   - a login role with VALID UNTIL (its expiry), a session of app_user idle in a transaction (a role's oldest
//     session, the idle-in-transaction age);
//   - in cafe, a table vacuumed by hand (last_vacuum) and one that autovacuum vacuumed (last_autovacuum): its
//     thresholds are 0 and autovacuum_naptime is 1 s until it has;
//   - a WAL segment switched and archived (the archiver's last archive age);
//   - used sequences in the service databases and storage_limit_bytes come with the CollectorsTest fixture;
//   - max_slot_wal_keep_size limited, as operators set it: the slots' safe WAL size and retention against the limit;
//   - a second exporter at the collectors' default ttls (the fixture's has ttl 0 s): the ttls and cache ages.
class AlertConditions {
 public:
  explicit AlertConditions(PgCluster& cluster) : cluster_(cluster) {
    auto& primary = cluster_.primary();
    cluster_.WaitForStreaming();
    primary.Exec("postgres",
                 "SET client_min_messages = warning; DROP ROLE IF EXISTS alert_expiring;"
                 "DO $$ BEGIN EXECUTE format('CREATE ROLE alert_expiring LOGIN VALID UNTIL %L',"
                 " now() + interval '10 days'); END $$");
    undo_.push_back(std::make_unique<Undo>([&primary] { primary.Exec("postgres", "DROP ROLE alert_expiring"); }));

    primary.Exec("cafe",
                 "SET client_min_messages = warning; DROP TABLE IF EXISTS alert_vacuumed, alert_autovacuumed;"
                 "CREATE TABLE alert_vacuumed (n int);"
                 "CREATE TABLE alert_autovacuumed (n int)"
                 " WITH (autovacuum_vacuum_threshold = 0, autovacuum_vacuum_scale_factor = 0);"
                 "INSERT INTO alert_vacuumed SELECT generate_series(1, 100);"
                 "INSERT INTO alert_autovacuumed SELECT generate_series(1, 100);");
    undo_.push_back(std::make_unique<Undo>(
        [&primary] { primary.Exec("cafe", "DROP TABLE IF EXISTS alert_vacuumed, alert_autovacuumed"); }));
    primary.Exec("cafe", "VACUUM alert_vacuumed");  // not in a multi-statement string: VACUUM runs alone
    {
      SystemSetting naptime(primary, "autovacuum_naptime", "1s");
      primary.Exec("cafe", "DELETE FROM alert_autovacuumed");
      autovacuumed_ = WaitUntil(
          primary, "cafe",
          "SELECT last_autovacuum IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'alert_autovacuumed'", 90s);
    }

    const std::string archived = primary.QueryValue("postgres", "SELECT archived_count FROM pg_stat_archiver");
    primary.Exec("postgres",
                 "SET client_min_messages = warning; CREATE TABLE IF NOT EXISTS replication_probe (n bigint);"
                 "INSERT INTO replication_probe VALUES (0)");
    primary.Exec("postgres", "SELECT pg_switch_wal()");
    archived_ = WaitUntil(primary, "postgres", "SELECT archived_count > " + archived + " FROM pg_stat_archiver", 30s);

    keep_size_ = std::make_unique<SystemSetting>(primary, "max_slot_wal_keep_size", "1GB");

    idle_in_transaction_ =
        std::make_unique<HeldSession>(primary.Dsn(PgCluster::kAppUser, cluster_.app_password(), "cafe"));
    idle_in_transaction_->Exec("BEGIN; SELECT 1");

    // The fixture's exporter sets every cached collector's ttl to 0 s; this one keeps the collectors' own.
    const auto config = WriteTempFile(PrimaryAndStandbyTargets(cluster_), ".yml");
    default_ttls_ = std::make_unique<ExporterProcess>(std::vector<std::string>{"--config.file=" + config});
  }

  ~AlertConditions() {
    default_ttls_.reset();
    idle_in_transaction_.reset();
    keep_size_.reset();
    while (!undo_.empty()) undo_.pop_back();  // in reverse order
  }

  // /metrics of the exporter with the collectors' own ttls: the second scrape serves cached results.
  std::string ScrapeAtDefaultTtls() const {
    auto response = default_ttls_->Get("/metrics");
    EXPECT_EQ(response.status, 200);
    return response.body;
  }

  // The exporter at the collectors' own ttls, as a deployment runs it.
  const ExporterProcess& exporter_at_default_ttls() const { return *default_ttls_; }
  bool autovacuumed() const { return autovacuumed_; }
  bool archived() const { return archived_; }

  // WAL for the standby to replay: the primary shows replay lag once the standby has replayed new WAL, and forgets
  // it when the standby reports being caught up twice in a row (at most one wal_receiver_status_interval, 10 s, later).
  // remote_apply makes the standby report as soon as it has replayed the commit (with no synchronous standby
  // configured, the commit does not wait). True once the lag shows.
  bool BeforeScrape() {
    auto& primary = cluster_.primary();
    for (int attempt = 0; attempt < 10; ++attempt) {
      primary.Exec("postgres", "SET synchronous_commit = remote_apply; INSERT INTO replication_probe VALUES (1)");
      if (WaitUntil(primary, "postgres",
                    "SELECT coalesce(bool_and(replay_lag IS NOT NULL), false) FROM pg_stat_replication", 3s)) {
        return true;
      }
    }
    return false;
  }

 private:
  PgCluster& cluster_;
  std::vector<std::unique_ptr<Undo>> undo_;
  std::unique_ptr<HeldSession> idle_in_transaction_;
  std::unique_ptr<SystemSetting> keep_size_;
  std::unique_ptr<ExporterProcess> default_ttls_;
  bool autovacuumed_ = false;
  bool archived_ = false;
};

// Metric name -> the targets whose series have it ("" for pgpulse's own series without a target), from /metrics.
using Exported = std::map<std::string, std::set<std::string>>;

inline void AddExported(const std::string& body, Exported& exported) {
  for (const auto& sample : ParseSamples(body)) {
    const auto target = sample.labels.find("target");
    const std::string name = target == sample.labels.end() ? "" : target->second;
    if (name == "" || name == "primary" || name == "standby") exported[sample.name].insert(name);
  }
}

inline bool ExportedOn(const Exported& exported, const std::string& series, const std::string& target) {
  const auto it = exported.find(series);
  return FromPrometheus(series) || (it != exported.end() && (it->second.count(target) || it->second.count("")));
}

}  // namespace pgpulse::testing
