#include "exporter/cli/flags.h"

#include <gtest/gtest.h>

namespace pgpulse::cli {
namespace {

TEST(ParseFlags, DefaultsFollowPostgresExporter) {
  const auto flags = ParseFlags({});
  EXPECT_EQ(flags.listen_address, ":9187");
  EXPECT_EQ(flags.telemetry_path, "/metrics");
  EXPECT_EQ(flags.log_level, "info");
  EXPECT_EQ(flags.log_format, "logfmt");
  EXPECT_FALSE(flags.config_file.has_value());
}

TEST(ParseFlags, AcceptsBothValueForms) {
  const auto flags = ParseFlags({"--config.file=/etc/pgpulse.yml", "--web.listen-address", "127.0.0.1:9999",
                                 "--web.telemetry-path=/m", "--log.level=debug", "--log.format", "json"});
  EXPECT_EQ(flags.config_file, "/etc/pgpulse.yml");
  EXPECT_EQ(flags.listen_address, "127.0.0.1:9999");
  EXPECT_EQ(flags.telemetry_path, "/m");
  EXPECT_EQ(flags.log_level, "debug");
  EXPECT_EQ(flags.log_format, "json");
}

TEST(ParseFlags, RejectsUnknownAndIncompleteFlags) {
  EXPECT_THROW(ParseFlags({"--web.listen"}), FlagError);
  EXPECT_THROW(ParseFlags({"--config.file"}), FlagError);
  EXPECT_THROW(ParseFlags({"--config.file="}), FlagError);
  EXPECT_THROW(ParseFlags({"--web.telemetry-path=metrics"}), FlagError);
  try {
    ParseFlags({"--bogus=1"});
  } catch (const FlagError& e) {
    EXPECT_NE(std::string(e.what()).find("--bogus"), std::string::npos);
  }
}

TEST(ParseFlags, VersionAndHelp) {
  EXPECT_TRUE(ParseFlags({"--version"}).show_version);
  EXPECT_TRUE(ParseFlags({"--help"}).show_help);
  EXPECT_NE(HelpText().find("--config.file"), std::string::npos);
}

}  // namespace
}  // namespace pgpulse::cli
