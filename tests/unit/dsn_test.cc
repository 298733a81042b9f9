#include "exporter/config/dsn.h"

#include <gtest/gtest.h>

namespace pgpulse::config {
namespace {

TEST(RedactDsn, MasksUriUserInfoPassword) {
  EXPECT_EQ(RedactDsn("postgresql://rep:s3cret@db.internal:5432/postgres?sslmode=require"),
            "postgresql://rep:xxxxx@db.internal:5432/postgres?sslmode=require");
  EXPECT_EQ(RedactDsn("postgres://rep:s3cret@db/x"), "postgres://rep:xxxxx@db/x");
}

TEST(RedactDsn, MasksPasswordHoldingUriDelimiters) {
  // An unencoded '/', '@' or ':' in the password must not end the user-info early and leak the rest.
  const auto redacted = RedactDsn("postgresql://rep:pa/ss@w:rd@db:5432/postgres");
  EXPECT_EQ(redacted, "postgresql://rep:xxxxx@db:5432/postgres");
  EXPECT_EQ(redacted.find("pa/ss"), std::string::npos);
}

TEST(RedactDsn, MasksUriQueryPassword) {
  EXPECT_EQ(RedactDsn("postgresql://db/postgres?user=rep&password=s3cret&sslmode=disable"),
            "postgresql://db/postgres?user=rep&password=xxxxx&sslmode=disable");
  EXPECT_EQ(RedactDsn("postgresql://db/postgres?password=s3cret"), "postgresql://db/postgres?password=xxxxx");
}

TEST(RedactDsn, LeavesUriWithoutPasswordAlone) {
  EXPECT_EQ(RedactDsn("postgresql://rep@db:5432/postgres"), "postgresql://rep@db:5432/postgres");
  EXPECT_EQ(RedactDsn("postgresql:///postgres?host=/run/postgresql"), "postgresql:///postgres?host=/run/postgresql");
}

TEST(RedactDsn, MasksKeywordValuePasswords) {
  EXPECT_EQ(RedactDsn("host=db user=rep password=s3cret dbname=postgres"),
            "host=db user=rep password=xxxxx dbname=postgres");
  EXPECT_EQ(RedactDsn("host=db password = 'it\\'s a secret' user=rep"), "host=db password=xxxxx user=rep");
  EXPECT_EQ(RedactDsn("password=a\\ b host=db"), "password=xxxxx host=db");
}

TEST(RedactDsn, HidesUntokenisableInput) {
  const auto redacted = RedactDsn("host=db password='unterminated s3cret");
  EXPECT_EQ(redacted.find("s3cret"), std::string::npos);
  EXPECT_EQ(RedactDsn("just garbage s3cret").find("s3cret"), std::string::npos);
}

TEST(ParseDsn, ReadsUriAndKeywordForms) {
  auto uri = ParseDsn("postgresql://rep:pw@db.internal:6432/cafe?sslmode=require");
  EXPECT_EQ(uri["host"], "db.internal");
  EXPECT_EQ(uri["port"], "6432");
  EXPECT_EQ(uri["user"], "rep");
  EXPECT_EQ(uri["password"], "pw");
  EXPECT_EQ(uri["dbname"], "cafe");
  EXPECT_EQ(uri["sslmode"], "require");
  auto kv = ParseDsn("host=a,b port=5432 user=rep");
  EXPECT_EQ(kv["host"], "a,b");
}

TEST(ParseDsn, ErrorsNeverEchoTheInput) {
  try {
    ParseDsn("host=db password s3cret");
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).find("s3cret"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("invalid DSN"), std::string::npos);
  }
  try {
    ParseDsn("host=db bogus_option=1");
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("bogus_option"), std::string::npos) << e.what();
  }
}

TEST(DescribeDsn, NamesHostPortAndDatabase) {
  EXPECT_EQ(DescribeDsn(ParseDsn("postgresql://rep:pw@db:6432/cafe")), "db:6432/cafe");
  EXPECT_EQ(DescribeDsn(ParseDsn("user=rep")), "localhost:5432/rep");
  EXPECT_EQ(DescribeDsn(ParseDsn("host=/run/postgresql dbname=erp")), "/run/postgresql:5432/erp");
}

}  // namespace
}  // namespace pgpulse::config
