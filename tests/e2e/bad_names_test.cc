// Names PostgreSQL allows but that are hostile to text formats: database, role, schema, table, index and sequence
// names with double quotes, backslashes, a newline, HTML and bytes that are not UTF-8, and an application_name with
// quotes and backslashes (PostgreSQL turns anything but printable ASCII there into '?'). The real binary must still
// give an exposition promtool accepts, with each name intact (invalid bytes as U+FFFD), and the status page and
// `pgpulse check` must show them escaped.
//
// Bytes that are not UTF-8 get into the catalogs the way they do in the field: through a SQL_ASCII database, whose
// sessions PostgreSQL does not validate. Its own cluster, so the odd names do not reach other suites' checks.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>

#include "tests/e2e/held_session.h"
#include "tests/e2e/promtool_check.h"
#include "tests/harness/exporter_process.h"
#include "tests/harness/metrics_text.h"
#include "tests/harness/pg_cluster.h"
#include "tests/harness/process.h"

namespace pgpulse::testing {
namespace {

using namespace std::chrono_literals;

// Every kind of trouble in one name; the two bytes at the end are not UTF-8.
const std::string kOdd = "we\"ird\\name<b>&'\nline\xff\xfe";
// The same as a label value reads once unescaped: each invalid byte replaced by U+FFFD.
const std::string kOddRepaired = "we\"ird\\name<b>&'\nline\xef\xbf\xbd\xef\xbf\xbd";
const std::string kOddApplication = "app\"quote\\back<b>&'";

const std::string kPassword = "odd-role-password-5d2f1c";

class BadNamesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    PgClusterOptions options;
    options.databases = {};
    cluster_ = new PgCluster(options);
    PgServer& pg = cluster_->primary();
    pg.Exec("postgres", "CREATE DATABASE ascii ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0");
    // From the SQL_ASCII database the catalogs take any bytes.
    pg.Exec("ascii", "CREATE ROLE " + QuoteSqlIdentifier("r" + kOdd) + " LOGIN PASSWORD " + QuoteSqlLiteral(kPassword) +
                         " VALID UNTIL '2099-01-01'; GRANT pg_monitor TO " + QuoteSqlIdentifier("r" + kOdd));
    pg.Exec("ascii", "CREATE DATABASE " + QuoteSqlIdentifier("d" + kOdd) +
                         " ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0");
    const std::string schema = QuoteSqlIdentifier("s" + kOdd);
    const std::string table = schema + "." + QuoteSqlIdentifier("t" + kOdd);
    const std::string sequence = schema + "." + QuoteSqlIdentifier("q" + kOdd);
    pg.Exec("d" + kOdd,
            "CREATE SCHEMA " + schema + "; CREATE TABLE " + table + " (id int PRIMARY KEY, v text);" + "CREATE INDEX " +
                QuoteSqlIdentifier("i" + kOdd) + " ON " + table + " (v);" + "CREATE SEQUENCE " + sequence +
                " MAXVALUE 100; SELECT nextval(" + QuoteSqlLiteral(sequence) + ");" + "INSERT INTO " + table +
                " SELECT g, 'x' FROM generate_series(1, 100) g;" + "ANALYZE " + table + "; GRANT USAGE ON SCHEMA " +
                schema + " TO PUBLIC;" + "GRANT SELECT ON " + table + ", " + sequence + " TO PUBLIC");
    pg.QueryValue("d" + kOdd, "SELECT count(*) FROM " + table);
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }

  // libpq key=value connection string as the odd role; values quoted, so the newline and quotes survive.
  static std::string OddDsn(const std::string& db) { return cluster_->primary().Dsn("r" + kOdd, kPassword, db); }

  static PgCluster* cluster_;
};

PgCluster* BadNamesTest::cluster_ = nullptr;

TEST_F(BadNamesTest, OddNamesGiveAValidExpositionWithEachNameIntact) {
  PgServer& pg = cluster_->primary();
  // A session as the odd role in the odd database (usename, datname in pg_stat_activity), whose statement then sits
  // in pg_stat_statements under both names.
  HeldSession session(OddDsn("d" + kOdd));
  session.Exec("SELECT count(*) FROM pg_class");
  // A walsender with an odd application_name, for pg_stat_replication.
  TempDir wal_dir;
  const char* bin_dir = std::getenv("PGPULSE_PG_BINDIR");
  ChildProcess receiver(
      {std::string(bin_dir != nullptr && *bin_dir != '\0' ? bin_dir : "/usr/lib/postgresql/15/bin") + "/pg_receivewal",
       "--no-loop", "-D", wal_dir.path(), "-d",
       pg.Dsn(PgCluster::kReplicationUser, cluster_->replication_password()) +
           " application_name=" + QuoteConninfoValue(kOddApplication)});

  // The exporter logs in as the odd role itself, so its name is also the login the status page and check show.
  ExporterProcess exporter(
      {"--config.file=" + WriteTempFile("targets:\n  - name: odd\n    dsn: \"" + std::string() +
                                            "host=127.0.0.1 port=" + std::to_string(pg.port()) +
                                            " dbname=postgres\"\n    password_file: " + WriteTempFile(kPassword) +
                                            "\n    labels: {note: \"q\\\"b\\\\s\\nn\"}\n",
                                        ".yml")},
      {{"PGUSER", "r" + kOdd}});
  const std::map<std::string, std::map<std::string, std::string>> wanted = {
      {"pg_stat_user_tables_n_tup_ins",
       {{"datname", "d" + kOddRepaired}, {"schemaname", "s" + kOddRepaired}, {"relname", "t" + kOddRepaired}}},
      {"pg_sequence_used_ratio",
       {{"datname", "d" + kOddRepaired}, {"schemaname", "s" + kOddRepaired}, {"sequencename", "q" + kOddRepaired}}},
      {"pg_database_size_bytes", {{"datname", "d" + kOddRepaired}}},
      {"pg_stat_activity_count", {{"datname", "d" + kOddRepaired}, {"usename", "r" + kOddRepaired}}},
      {"pg_role_info", {{"rolname", "r" + kOddRepaired}}},
      {"pg_role_password_valid_until_seconds", {{"rolname", "r" + kOddRepaired}}},
      {"pg_stat_statements_calls_total", {{"datname", "d" + kOddRepaired}, {"user", "r" + kOddRepaired}}},
      {"pg_up", {{"note", "q\"b\\s\nn"}}},
  };
  std::string missing;
  const std::string body = exporter.Poll(
      [&](const std::string& text) {
        missing.clear();
        for (const auto& [name, labels] : wanted) {
          if (!MetricValue(text, name, labels)) missing += " " + name;
        }
        // Which pg_stat_replication series a walsender has depends on its progress (pg_receivewal replays nothing,
        // and the lags are absent while idle): any will do.
        if (text.find("application_name=\"app\\\"quote\\\\back<b>&'\"") == std::string::npos) {
          missing += " pg_stat_replication_*";
        }
        return missing.empty();
      },
      60s);
  EXPECT_TRUE(missing.empty()) << "no series with the odd names for:" << missing << "\n" << body;
  ExpectPromtoolAccepts(body);
  EXPECT_EQ(body.find("\xff"), std::string::npos);

  // The status page: the odd database (visited) and login role shown HTML-escaped, as valid UTF-8.
  const auto page = exporter.Get("/");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.body.find("<b>"), std::string::npos) << "a name's HTML reached the page unescaped";
  EXPECT_EQ(page.body.find("\xff"), std::string::npos);
  const std::string escaped = "we&quot;ird\\name&lt;b&gt;&amp;&#39;";
  EXPECT_NE(page.body.find("d" + escaped), std::string::npos) << "the odd database is not on the page:\n" << page.body;
  EXPECT_NE(page.body.find("r" + escaped), std::string::npos) << "the odd login is not on the page:\n" << page.body;
}

TEST_F(BadNamesTest, CheckShowsAnOddLoginOnOneLine) {
  const auto config = WriteTempFile(
      "targets:\n  - name: odd\n    dsn: \"host=127.0.0.1 port=" + std::to_string(cluster_->primary().port()) +
          " dbname=postgres\"\n" + "    password_file: " + WriteTempFile(kPassword) + "\n",
      ".yml");
  const auto run = RunCommand({PgpulseBinary(), "check", "--config.file=" + config}, {{"PGUSER", "r" + kOdd}}, 60s);
  EXPECT_EQ(run.output.find("\xff"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find(kPassword), std::string::npos);
  // The newline in the name must not start a line of its own in the table.
  EXPECT_EQ(run.output.find("\nline"), std::string::npos) << "a newline in the role name broke the table:\n"
                                                          << run.output;
  EXPECT_NE(run.output.find("user"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace pgpulse::testing
