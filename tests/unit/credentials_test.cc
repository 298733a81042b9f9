// Credential sources, their precedence, the JSON secret format and the watch that notices rotated files.
#include "exporter/config/credentials.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "exporter/collector/collector_cache.h"
#include "exporter/collector/loader.h"
#include "exporter/config/dsn.h"
#include "exporter/config/json_object.h"
#include "exporter/targets/credential_watch.h"
#include "tests/harness/process.h"
#include "tests/unit/error_of.h"

namespace pgpulse::config {
namespace {

using testing::ErrorOf;
using testing::WriteFile;
using testing::WriteTempFile;

TEST(JsonSecretTest, ReadsUsernameAndPasswordAndIgnoresOtherKeys) {
  const auto path = WriteTempFile(
      R"({"engine": "postgres", "host": "db", "port": 5432, "username": "app_b", "password": "p\"w\/d"})");
  const auto credentials = ReadJsonSecret(path);
  EXPECT_EQ(credentials.user, "app_b");
  EXPECT_EQ(credentials.password, "p\"w/d");  // JSON escapes are decoded, \/ included
}

TEST(JsonObjectTest, DecodesEscapesAndSkipsOtherValues) {
  const auto members = ParseJsonObject(
      R"( {"a": "x\/y\\z\"\u00e9\ud83d\ude00\n", "n": -12.5e3, "o": {"k": [1, true, null, {"d": []}]}, "b": false} )");
  EXPECT_EQ(members.at("a"), "x/y\\z\"\xc3\xa9\xf0\x9f\x98\x80\n");
  EXPECT_EQ(members.at("n"), std::nullopt);
  EXPECT_EQ(members.at("o"), std::nullopt);
  EXPECT_EQ(members.at("b"), std::nullopt);
  EXPECT_TRUE(ParseJsonObject("{}").empty());
}

TEST(JsonObjectTest, RejectsWhatIsNotOneStrictObject) {
  for (const char* text : {"", "{", "{\"a\" 1}", "{\"a\": 01}", "{\"a\": \"\\x\"}", "{\"a\": \"\\ud800\"}",
                           "{\"a\": tru}", "{\"a\": 1,}", "{} {}", "{'a': 1}", "{\"a\": \"tab\there\"}"}) {
    EXPECT_THROW(ParseJsonObject(text), JsonError) << text;
  }
  EXPECT_THROW(ParseJsonObject("{\"a\": " + std::string(1000, '[') + std::string(1000, ']') + "}"), JsonError);
}

TEST(JsonSecretTest, ProblemsNameTheFileAndKeyButNeverAValue) {
  const std::string secret = "hunter2-very-secret";
  for (const auto& [text, expected] : std::vector<std::pair<std::string, std::string>>{
           {R"({"username": "app", "pasword": ")" + secret + "\"}", "has no \"password\""},
           {R"({"username": "app", "password": ")" + secret, "not a valid JSON object (unterminated string"},
           {"[\"" + secret + "\"]", "not a valid JSON object (expected a JSON object at byte 1)"},
           {secret, "not a valid JSON object"},
           {"{username: " + secret + "}", "not a valid JSON object (expected a member name at byte 2)"},
           {R"({"username": "app", "password": ""})", "\"password\" must be a non-empty string"},
           {R"({"username": {"n": ")" + secret + R"("}, "password": "x"})",
            "\"username\" must be a non-empty string"}}) {
    const auto path = WriteTempFile(text);
    const auto error = ErrorOf([&] { ReadJsonSecret(path); });
    EXPECT_NE(error.find(path), std::string::npos) << error;
    EXPECT_NE(error.find(expected), std::string::npos) << error;
    EXPECT_EQ(error.find(secret), std::string::npos) << error;
  }
}

TEST(LoadCredentialsTest, StrongerSourcesWin) {
  TargetConfig target;
  target.conn = ParseDsn("postgresql://dsn_user:dsn_pass@db/postgres");
  EXPECT_EQ(LoadCredentials(target), (Credentials{"dsn_user", "dsn_pass"}));
  target.password = "env_pass";  // DATA_SOURCE_PASS
  EXPECT_EQ(LoadCredentials(target), (Credentials{"dsn_user", "env_pass"}));
  target.password_file = WriteTempFile("file_pass\n");
  target.user_file = WriteTempFile("file_user\n");
  EXPECT_EQ(LoadCredentials(target), (Credentials{"file_user", "file_pass"}));
  target.password_file.clear();
  target.user_file.clear();
  target.secret_file = WriteTempFile(R"({"username": "json_user", "password": "json_pass"})");
  EXPECT_EQ(LoadCredentials(target), (Credentials{"json_user", "json_pass"}));
}

TEST(LoadCredentialsTest, NoPasswordLeavesItToLibpqsPassfile) {
  TargetConfig target;
  target.conn = ParseDsn("host=db user=rep dbname=postgres passfile=/etc/pgpulse/pgpass");
  EXPECT_EQ(LoadCredentials(target), (Credentials{"rep", std::nullopt}));  // an absent passfile is libpq's business
  EXPECT_EQ(CredentialFiles(target), std::vector<std::string>{"/etc/pgpulse/pgpass"});
  const auto passfile = WriteTempFile("db:5432:*:rep:one\n");
  target.conn["passfile"] = passfile;
  const auto before = LoadCredentials(target);
  WriteFile(passfile, "db:5432:*:rep:two\n");
  EXPECT_NE(LoadCredentials(target), before) << "a rotated passfile is a change";
  target.password_file = "/run/secrets/pw";
  EXPECT_EQ(CredentialFiles(target), std::vector<std::string>{"/run/secrets/pw"});
}

TEST(ParseConfigTest, SecretFileIsValidatedAndExcludesOtherCredentialFiles) {
  const auto secret = WriteTempFile(R"({"username": "a", "password": "b"})");
  const auto password = WriteTempFile("pw\n");
  const auto head = "targets:\n  - name: t\n    dsn: host=db dbname=postgres\n";
  auto config = ParseConfig(std::string(head) + "    secret_file: " + secret + "\n", "p.yml");
  EXPECT_EQ(config.targets.at(0).secret_file, secret);
  auto both = ErrorOf([&] {
    ParseConfig(std::string(head) + "    secret_file: " + secret + "\n    password_file: " + password + "\n", "p.yml");
  });
  EXPECT_NE(both.find("targets[0].password_file: cannot be combined with secret_file"), std::string::npos) << both;
  const auto broken = WriteTempFile(R"({"username": "a", "password": "sekrit)");
  auto invalid = ErrorOf([&] { ParseConfig(std::string(head) + "    secret_file: " + broken + "\n", "p.yml"); });
  EXPECT_NE(invalid.find("p.yml:4:18: targets[0].secret_file: secret file " + broken + ": not a valid JSON object"),
            std::string::npos)
      << invalid;
  EXPECT_EQ(invalid.find("sekrit"), std::string::npos);
  auto user_file = ParseConfig(std::string(head) + "    user_file: " + password + "\n", "p.yml");
  EXPECT_EQ(user_file.targets.at(0).user_file, password);
}

TEST(CredentialWatchTest, NoticesAChangedFileAndKeepsTheLastGoodCredentials) {
  TargetConfig target;
  target.name = "t";
  target.conn = ParseDsn("host=db dbname=postgres");
  target.secret_file = WriteTempFile(R"({"username": "app_a", "password": "a"})");
  targets::CredentialWatch watch(target, "t");
  ASSERT_TRUE(watch.current());
  EXPECT_EQ(watch.current()->user, "app_a");
  const double loaded = watch.last_change_seconds();
  EXPECT_GT(loaded, 0);
  EXPECT_FALSE(watch.Reload(false, "poll"));  // nothing changed: not even read
  EXPECT_EQ(watch.reloads(true), 0u);

  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  WriteFile(target.secret_file, R"({"username": "app_b", "password": "b"})");
  EXPECT_TRUE(watch.Reload(false, "poll"));
  EXPECT_EQ(watch.current()->user, "app_b");
  EXPECT_EQ(watch.reloads(true), 1u);
  EXPECT_GT(watch.last_change_seconds(), loaded);

  WriteFile(target.secret_file, "{half written");
  EXPECT_FALSE(watch.Reload(false, "poll"));
  EXPECT_EQ(watch.current()->user, "app_b") << "a broken file keeps the last good credentials";
  EXPECT_EQ(watch.reloads(false), 1u);
  EXPECT_NE(watch.error().find(target.secret_file), std::string::npos);

  EXPECT_FALSE(watch.Reload(true, "authentication failed"));  // forced: read again, still broken
  EXPECT_EQ(watch.reloads(false), 2u);
  watch.CountAuthFailure();
  EXPECT_EQ(watch.auth_failures(), 1u);
}

TEST(CheckTargetLabelsTest, ReservesTheLabelsOfPgpulsesOwnSeries) {
  auto set = collector::BuildCollectorSet(collector::LoadCollectors({}), {});
  for (const char* label : {"result", "collector", "rolname", "datname"}) {
    TargetConfig target;
    target.origin = "p.yml:3";
    target.labels[label] = "x";
    EXPECT_THROW(collector::CheckTargetLabels(*set, {target}), ConfigError) << label;
  }
}

}  // namespace
}  // namespace pgpulse::config
