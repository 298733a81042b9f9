#include "exporter/config/config.h"
#include "exporter/config/duration.h"
#include "exporter/config/environment.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

namespace pgpulse::config {
namespace {

// A password file in a fresh temp location, removed at the end of the test.
class TempFile {
 public:
  explicit TempFile(const std::string& contents) {
    char name[] = "/tmp/pgpulse-config-test-XXXXXX";
    int fd = mkstemp(name);
    EXPECT_GE(fd, 0);
    ::close(fd);
    path_ = name;
    std::ofstream(path_) << contents;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string ErrorOf(const std::string& yaml) {
  try {
    ParseConfig(yaml, "pgpulse.yml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(ParseConfigTest, ReadsTheContractExample) {
  TempFile password("s3cret\n");
  const auto config = ParseConfig(R"(
targets:
  - name: shared-primary
    dsn: postgresql://elephant_reporting@db.internal:5432/postgres?sslmode=require
    password_file: )" + password.path() +
                                      R"(
    databases: {include: [], exclude: [template0, template1]}
    labels: {env: prod}
    storage_limit_bytes: 21474836480
collectors:
  stat_statements: {enabled: true, ttl: 30s, limit: 100}
custom_collectors: [/etc/pgpulse/collectors.d]
)",
                                  "pgpulse.yml");
  ASSERT_EQ(config.targets.size(), 1u);
  const auto& target = config.targets[0];
  EXPECT_EQ(target.name, "shared-primary");
  EXPECT_EQ(target.conn.at("host"), "db.internal");
  EXPECT_EQ(target.conn.at("user"), "elephant_reporting");
  EXPECT_EQ(target.password_file, password.path());
  EXPECT_EQ(target.labels.at("env"), "prod");
  EXPECT_EQ(target.storage_limit_bytes, 21474836480ull);
  EXPECT_EQ(target.databases.exclude, (std::vector<std::string>{"template0", "template1"}));
  EXPECT_EQ(target.origin, "pgpulse.yml:3");
  EXPECT_FALSE(target.allow_superuser);
  EXPECT_EQ(config.collectors.at("stat_statements").ttl, std::chrono::seconds(30));
  EXPECT_EQ(config.collectors.at("stat_statements").limit, 100);
  EXPECT_EQ(config.custom_collectors, (std::vector<std::string>{"/etc/pgpulse/collectors.d"}));
}

TEST(ParseConfigTest, BrokenYamlNamesFileAndLine) {
  const auto error = ErrorOf("targets:\n  - name: a\n    dsn: [unclosed\n");
  EXPECT_NE(error.find("pgpulse.yml:"), std::string::npos) << error;
  EXPECT_NE(error.find("invalid YAML"), std::string::npos) << error;
}

TEST(ParseConfigTest, UnknownKeysAreRejectedWithLineAndKey) {
  auto error = ErrorOf("targets:\n  - name: a\n    dsn: host=db\n    pasword_file: /x\n");
  EXPECT_NE(error.find("pgpulse.yml:4:5: targets[0].pasword_file: unknown key"), std::string::npos) << error;
  error = ErrorOf("target:\n  - name: a\n");
  EXPECT_NE(error.find("pgpulse.yml:1:1: target: unknown key"), std::string::npos) << error;
  error = ErrorOf("collectors:\n  x: {enabeld: true}\n");
  EXPECT_NE(error.find("collectors.x.enabeld: unknown key"), std::string::npos) << error;
}

TEST(ParseConfigTest, MissingPasswordFileIsAnError) {
  const auto error = ErrorOf("targets:\n  - name: a\n    dsn: host=db\n    password_file: /nonexistent/pw\n");
  EXPECT_NE(error.find("pgpulse.yml:4:20: targets[0].password_file: cannot read secret file /nonexistent/pw"),
            std::string::npos)
      << error;
}

TEST(ParseConfigTest, EmptyPasswordFileIsAnError) {
  TempFile empty("\n");
  const auto error = ErrorOf("targets:\n  - name: a\n    dsn: host=db\n    password_file: " + empty.path() + "\n");
  EXPECT_NE(error.find("is empty"), std::string::npos) << error;
}

TEST(ParseConfigTest, RejectsBadValues) {
  EXPECT_NE(ErrorOf("targets:\n  - dsn: host=db\n").find("targets[0].name: is required"), std::string::npos);
  EXPECT_NE(ErrorOf("targets:\n  - name: a\n").find("targets[0].dsn: is required"), std::string::npos);
  EXPECT_NE(ErrorOf("targets:\n  - name: 'has space'\n    dsn: host=db\n").find("targets[0].name"), std::string::npos);
  EXPECT_NE(ErrorOf("targets:\n  - name: a\n    dsn: host=db\n    storage_limit_bytes: -1\n")
                .find("storage_limit_bytes: must be a non-negative integer"),
            std::string::npos);
  EXPECT_NE(ErrorOf("targets:\n  - name: a\n    dsn: host=db\n    allow_superuser: maybe\n")
                .find("allow_superuser: must be true or false"),
            std::string::npos);
  EXPECT_NE(ErrorOf("targets:\n  - name: a\n    dsn: host=db\n    labels: {target: x}\n").find("reserved"),
            std::string::npos);
  EXPECT_NE(ErrorOf("targets:\n  - name: a\n    dsn: host=db\n    labels: {0bad: x}\n").find("label name"),
            std::string::npos);
  EXPECT_NE(ErrorOf("targets: {name: a}\n").find("targets: must be a list"), std::string::npos);
  EXPECT_NE(ErrorOf("collectors:\n  x: {ttl: 5 minutes}\n").find("collectors.x.ttl: invalid duration"),
            std::string::npos);
}

TEST(ParseConfigTest, MalformedDsnIsRejectedWithoutEchoingIt) {
  const auto error = ErrorOf("targets:\n  - name: a\n    dsn: \"host=db password s3cret\"\n");
  EXPECT_NE(error.find("pgpulse.yml:3:10: targets[0].dsn: invalid DSN"), std::string::npos) << error;
  EXPECT_EQ(error.find("s3cret"), std::string::npos) << error;
}

TEST(ParseConfigTest, DuplicateTargetNamesAreRejected) {
  const auto error = ErrorOf("targets:\n  - {name: a, dsn: host=x}\n  - {name: a, dsn: host=y}\n");
  EXPECT_NE(error.find("duplicate target name \"a\" (first at pgpulse.yml:2)"), std::string::npos) << error;
}

TEST(ParseConfigTest, RedactsTheDsnItKeeps) {
  const auto config = ParseConfig("targets:\n  - {name: a, dsn: 'postgresql://u:s3cret@db/x'}\n", "f");
  EXPECT_EQ(config.targets[0].redacted_dsn, "host=db dbname=x user=u password=xxxxx");
  EXPECT_EQ(config.targets[0].conn.at("password"), "s3cret");  // still used to connect
}

TEST(LoadConfigFileTest, NamesAMissingFile) {
  try {
    LoadConfigFile("/nonexistent/pgpulse.yml");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/pgpulse.yml: cannot read config file"), std::string::npos);
  }
}

EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(EnvironmentTest, DataSourceNameSingle) {
  auto targets = TargetsFromEnvironment(FakeEnv({{"DATA_SOURCE_NAME", "postgresql://rep:pw@db:5432/postgres"}}));
  ASSERT_EQ(targets.size(), 1u);
  EXPECT_EQ(targets[0].name, "db:5432/postgres");
  EXPECT_EQ(targets[0].origin, "DATA_SOURCE_NAME");
  EXPECT_EQ(targets[0].redacted_dsn, "host=db port=5432 dbname=postgres user=rep password=xxxxx");
}

TEST(EnvironmentTest, DataSourceNameCommaSeparated) {
  auto targets = TargetsFromEnvironment(FakeEnv(
      {{"DATA_SOURCE_NAME", "postgresql://rep@a:5432/postgres,host=b,c port=5433 user=rep,postgresql://rep@a,d/x"}}));
  ASSERT_EQ(targets.size(), 3u);
  EXPECT_EQ(targets[0].conn.at("host"), "a");
  EXPECT_EQ(targets[1].conn.at("host"), "b,c");  // a multi-host DSN stays whole
  EXPECT_EQ(targets[2].conn.at("host"), "a,d");
  EXPECT_EQ(targets[1].origin, "DATA_SOURCE_NAME[1]");
}

TEST(EnvironmentTest, SameDestinationGetsDistinctNames) {
  auto targets = TargetsFromEnvironment(FakeEnv({{"DATA_SOURCE_NAME", "postgresql://a@db/x,postgresql://b@db/x"}}));
  ASSERT_EQ(targets.size(), 2u);
  EXPECT_NE(targets[0].name, targets[1].name);
}

TEST(EnvironmentTest, DataSourceUriWithUserAndPassword) {
  auto targets = TargetsFromEnvironment(FakeEnv({{"DATA_SOURCE_URI", "db:5432/postgres?sslmode=disable"},
                                                 {"DATA_SOURCE_USER", "rep"},
                                                 {"DATA_SOURCE_PASS", "s3cret"}}));
  ASSERT_EQ(targets.size(), 1u);
  EXPECT_EQ(targets[0].conn.at("user"), "rep");
  EXPECT_EQ(targets[0].password, "s3cret");
  EXPECT_EQ(targets[0].conn.count("password"), 0u);  // kept out of the DSN
  EXPECT_EQ(targets[0].redacted_dsn.find("s3cret"), std::string::npos);
  EXPECT_EQ(targets[0].name, "db:5432/postgres");
}

TEST(EnvironmentTest, DataSourceUriWithFiles) {
  TempFile user("rep\n"), pass("s3cret\n");
  auto targets = TargetsFromEnvironment(FakeEnv({{"DATA_SOURCE_URI", "db/postgres,db2/postgres"},
                                                 {"DATA_SOURCE_USER_FILE", user.path()},
                                                 {"DATA_SOURCE_PASS_FILE", pass.path()}}));
  ASSERT_EQ(targets.size(), 2u);
  EXPECT_EQ(targets[1].conn.at("host"), "db2");
  EXPECT_EQ(targets[0].user_file, user.path());
  EXPECT_EQ(targets[0].password_file, pass.path());
}

TEST(EnvironmentTest, DataSourceUriKeepsMultiHostAuthorities) {
  EXPECT_EQ(SplitDataSourceUris("a:5432,b:5432/db?sslmode=disable,c/x"),
            (std::vector<std::string>{"a:5432,b:5432/db?sslmode=disable", "c/x"}));
  EXPECT_EQ(SplitDataSourceUris("db"), (std::vector<std::string>{"db"}));
}

TEST(EnvironmentTest, UnreadablePasswordFileIsAnError) {
  try {
    TargetsFromEnvironment(FakeEnv({{"DATA_SOURCE_URI", "db/postgres"}, {"DATA_SOURCE_PASS_FILE", "/nonexistent"}}));
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("DATA_SOURCE_PASS_FILE: cannot read secret file /nonexistent"),
              std::string::npos);
  }
}

TEST(EnvironmentTest, NothingSetMeansNoTargets) { EXPECT_TRUE(TargetsFromEnvironment(FakeEnv({})).empty()); }

TEST(ResolveConfigTest, FileTargetsWinOverEnvironment) {
  TempFile file("targets:\n  - {name: from-file, dsn: host=db}\n");
  auto config = ResolveConfig(file.path(), FakeEnv({{"DATA_SOURCE_NAME", "host=other"}}));
  ASSERT_EQ(config.targets.size(), 1u);
  EXPECT_EQ(config.targets[0].name, "from-file");
}

TEST(ResolveConfigTest, FileWithoutTargetsFallsBackToEnvironment) {
  TempFile file("collectors: {}\n");
  auto config = ResolveConfig(file.path(), FakeEnv({{"DATA_SOURCE_NAME", "host=other"}}));
  ASSERT_EQ(config.targets.size(), 1u);
  EXPECT_EQ(config.targets[0].conn.at("host"), "other");
}

TEST(ResolveConfigTest, NoTargetsAnywhereIsAnError) {
  EXPECT_THROW(ResolveConfig(std::nullopt, FakeEnv({})), ConfigError);
}

TEST(ParseDurationTest, AcceptsUnitsAndRejectsJunk) {
  EXPECT_EQ(ParseDuration("30s"), std::chrono::seconds(30));
  EXPECT_EQ(ParseDuration("250ms"), std::chrono::milliseconds(250));
  EXPECT_EQ(ParseDuration("1h30m"), std::chrono::minutes(90));
  EXPECT_EQ(ParseDuration("2d"), std::chrono::hours(48));
  EXPECT_THROW(ParseDuration(""), std::invalid_argument);
  EXPECT_THROW(ParseDuration("30"), std::invalid_argument);
  EXPECT_THROW(ParseDuration("5 m"), std::invalid_argument);
  EXPECT_THROW(ParseDuration("s30"), std::invalid_argument);
  EXPECT_EQ(ParseDuration("366d"), std::chrono::hours(366 * 24));
  EXPECT_THROW(ParseDuration("367d"), std::invalid_argument);
  EXPECT_THROW(ParseDuration("366d1ms"), std::invalid_argument);
  EXPECT_THROW(ParseDuration("99999999999999999999999d"), std::invalid_argument);  // would overflow, not wrap
  EXPECT_THROW(ParseDuration("9223372036854775807ms"), std::invalid_argument);
}

}  // namespace
}  // namespace pgpulse::config

namespace pgpulse::config {
namespace {

TEST(DatabaseFilterTest, NamesAndSlashDelimitedRegexes) {
  DatabaseFilter filter;
  EXPECT_TRUE(DatabaseMatcher(filter).Matches("cafe"));
  EXPECT_FALSE(DatabaseMatcher(filter).Matches("template0"));
  filter.include = {"/^svc_[0-9]+$/", "erp"};
  filter.exclude = {"svc_13", "/_old$/"};
  const DatabaseMatcher matcher(filter);
  EXPECT_TRUE(matcher.Matches("svc_1"));
  EXPECT_TRUE(matcher.Matches("erp"));
  EXPECT_FALSE(matcher.Matches("svc_13"));
  EXPECT_FALSE(matcher.Matches("cafe"));
  EXPECT_FALSE(matcher.Matches("erp.x"));  // a plain name matches only itself
}

TEST(ParseConfigTest, ValidatesDiscoveryAndBudgetSettings) {
  EXPECT_NE(ErrorOf("targets:\n  - name: a\n    dsn: host=db\n    databases: {include: ['/([/']}\n")
                .find("targets[0].databases.include: invalid regular expression"),
            std::string::npos);
  EXPECT_NE(ErrorOf("targets:\n  - name: a\n    dsn: host=db\n    max_connections: 1\n")
                .find("max_connections: must be from 2 to 100"),
            std::string::npos);
  auto config = ParseConfig(
      "targets:\n  - {name: a, dsn: host=db, max_connections: 4}\n"
      "collectors:\n  x: {max_series: 500, max_rows: 20}\n",
      "f");
  EXPECT_EQ(config.targets[0].max_connections, 4);
  EXPECT_EQ(config.collectors.at("x").max_series, 500);
  EXPECT_EQ(config.collectors.at("x").max_rows, 20);
  EXPECT_NE(ErrorOf("targets:\n  - {name: a, dsn: host=db}\ncollectors:\n  x: {max_rows: 0}\n")
                .find("collectors.x.max_rows: must be at least 1"),
            std::string::npos);
}

}  // namespace
}  // namespace pgpulse::config
