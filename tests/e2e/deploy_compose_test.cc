// deploy/compose without a container engine: compose.yaml parses and every file it mounts or builds from exists, its
// Prometheus config passes promtool laid out as the container mounts it, its Alertmanager config passes amtool, and
// its init scripts run against a real PostgreSQL (pg_stat_statements preloaded, as compose.yaml sets it), after
// which the real pgpulse with the compose's config reaches every service database.
#include <gtest/gtest.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/harness/exporter_process.h"
#include "tests/harness/files.h"
#include "tests/harness/metrics_text.h"
#include "tests/harness/pg_cluster.h"
#include "tests/harness/process.h"

namespace pgpulse::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const fs::path kComposeDir = fs::path(PGPULSE_SOURCE_DIR) / "deploy" / "compose";

YAML::Node Compose() { return YAML::LoadFile((kComposeDir / "compose.yaml").string()); }

// The host side of a short-form volume ("./x:/y:ro"), or "" for a named volume.
std::string BindSource(const std::string& volume) {
  const auto source = volume.substr(0, volume.find(':'));
  return source.rfind(".", 0) == 0 || source.rfind("/", 0) == 0 ? source : "";
}

// The container path a host path is mounted at in `service`, or "".
std::string ContainerPathOf(const YAML::Node& service, const std::string& host) {
  for (const auto& volume : service["volumes"]) {
    const auto text = volume.as<std::string>();
    if (BindSource(text) == host) {
      const auto rest = text.substr(text.find(':') + 1);
      return rest.substr(0, rest.find(':'));
    }
  }
  return "";
}

TEST(DeployComposeTest, ServicesReferenceFilesThatExist) {
  const auto compose = Compose();
  std::set<std::string> services;
  for (const auto& service : compose["services"]) services.insert(service.first.as<std::string>());
  EXPECT_EQ(services, (std::set<std::string>{"postgres", "pgpulse", "prometheus", "alertmanager", "grafana"}));

  std::set<std::string> named_volumes;
  for (const auto& volume : compose["volumes"]) named_volumes.insert(volume.first.as<std::string>());
  for (const auto& entry : compose["services"]) {
    SCOPED_TRACE(entry.first.as<std::string>());
    for (const auto& volume : entry.second["volumes"]) {
      const auto text = volume.as<std::string>();
      const auto source = BindSource(text);
      if (source.empty()) {
        EXPECT_TRUE(named_volumes.count(text.substr(0, text.find(':')))) << text << ": no such named volume";
      } else {
        EXPECT_TRUE(fs::exists(kComposeDir / source)) << text << ": " << (kComposeDir / source) << " does not exist";
      }
    }
    for (const auto& secret : entry.second["secrets"]) {
      EXPECT_TRUE(compose["secrets"][secret.as<std::string>()]) << "undeclared secret " << secret;
    }
  }
  // The secrets' files are the user's to create (README.md says how) and never committed: only under secrets/.
  const auto readme = ReadFile((kComposeDir / "README.md").string());
  for (const auto& secret : compose["secrets"]) {
    const auto file = secret.second["file"].as<std::string>("");
    EXPECT_EQ(file.rfind("./secrets/", 0), 0u) << file;
    EXPECT_NE(readme.find(fs::path(file).filename().string()), std::string::npos)
        << "README.md does not say how to create " << file;
  }

  // pgpulse is built from the repository with the Dockerfile in deploy/docker.
  const auto build = compose["services"]["pgpulse"]["build"];
  const auto context = fs::weakly_canonical(kComposeDir / build["context"].as<std::string>(""));
  EXPECT_EQ(context, fs::weakly_canonical(PGPULSE_SOURCE_DIR));
  EXPECT_EQ(build["dockerfile"].as<std::string>(""), "deploy/docker/Dockerfile");
  // deploy/docker is another change's; until it is there, only the path is checked.
  if (fs::exists(context / "deploy" / "docker")) {
    EXPECT_TRUE(fs::exists(context / "deploy" / "docker" / "Dockerfile"));
  }

  // pg_stat_statements is preloaded; pgpulse reads the mounted config and its password from the secret.
  std::string command;
  for (const auto& arg : compose["services"]["postgres"]["command"]) command += arg.as<std::string>() + " ";
  EXPECT_NE(command.find("shared_preload_libraries=pg_stat_statements"), std::string::npos) << command;
  const auto pgpulse = compose["services"]["pgpulse"];
  EXPECT_EQ(ContainerPathOf(pgpulse, "./pgpulse.yml"), "/etc/pgpulse/pgpulse.yml");
  const auto config = YAML::LoadFile((kComposeDir / "pgpulse.yml").string());
  for (const auto& target : config["targets"]) {
    const auto password_file = target["password_file"].as<std::string>("");
    ASSERT_EQ(password_file.rfind("/run/secrets/", 0), 0u) << password_file;
    const auto secret = password_file.substr(std::string("/run/secrets/").size());
    bool given = false;
    for (const auto& name : pgpulse["secrets"]) given = given || name.as<std::string>() == secret;
    EXPECT_TRUE(given) << "pgpulse is not given the secret " << secret;
  }
  // The reporting role's script is the one in deploy/sql, mounted where the init script looks for it.
  const auto postgres = compose["services"]["postgres"];
  EXPECT_EQ(ContainerPathOf(postgres, "../sql"), postgres["environment"]["PGPULSE_SQL_DIR"].as<std::string>("-"));
  EXPECT_EQ(ContainerPathOf(postgres, "./initdb"), "/docker-entrypoint-initdb.d");
}

// promtool from a temp dir laid out as the Prometheus container sees it: prometheus.yml with alerts/ beside it.
TEST(DeployComposeTest, PrometheusConfigPassesPromtoolWithTheRuleFilesMounted) {
  const auto compose = Compose();
  const auto prometheus = compose["services"]["prometheus"];
  const auto config_path = ContainerPathOf(prometheus, "./prometheus.yml");
  const auto alerts_path = ContainerPathOf(prometheus, "../../alerts");
  ASSERT_FALSE(config_path.empty());
  ASSERT_FALSE(alerts_path.empty());
  TempDir root;
  const auto config = fs::path(root.path() + config_path);
  const auto alerts = fs::path(root.path() + alerts_path);
  fs::create_directories(config.parent_path());
  fs::create_directories(alerts.parent_path());
  fs::copy_file(kComposeDir / "prometheus.yml", config);
  fs::create_directory_symlink(fs::path(PGPULSE_SOURCE_DIR) / "alerts", alerts);
  const auto check = RunCommand({"/usr/bin/promtool", "check", "config", config.string()});
  EXPECT_EQ(check.exit_code, 0) << check.output;
  EXPECT_EQ(check.output.find("WARNING"), std::string::npos) << check.output;

  // Every rule file of alerts/ is loaded.
  std::set<std::string> loaded;
  for (const auto& file : YAML::LoadFile(config.string())["rule_files"]) loaded.insert(file.as<std::string>());
  for (const auto& entry : fs::directory_iterator(fs::path(PGPULSE_SOURCE_DIR) / "alerts")) {
    if (entry.path().extension() != ".yml" || !YAML::LoadFile(entry.path().string())["groups"]) continue;
    EXPECT_TRUE(loaded.count("alerts/" + entry.path().filename().string())) << entry.path() << " is not loaded";
  }
}

TEST(DeployComposeTest, AlertmanagerConfigPassesAmtool) {
  const auto check = RunCommand({"/usr/bin/amtool", "check-config", (kComposeDir / "alertmanager.yml").string()});
  EXPECT_EQ(check.exit_code, 0) << check.output;
  // No receiver points at the example's placeholders.
  EXPECT_EQ(ReadFile((kComposeDir / "alertmanager.yml").string()).find(".invalid"), std::string::npos);
}

// The init scripts in the order the postgres image runs them, twice (they are idempotent), then pgpulse with the
// compose's config (host and password file rewritten) on every service database.
TEST(DeployComposeTest, InitScriptsRunAndPgpulseReachesEveryServiceDatabase) {
  PgClusterOptions options;
  options.databases = {};  // the init script makes them
  PgCluster cluster(options);
  auto& server = cluster.primary();
  const std::string password = "compose-reporting-pw-5e81";
  const auto password_file = WriteTempFile(password + "\n");
  const std::map<std::string, std::string> env = {
      {"PGHOST", server.host()},
      {"PGPORT", std::to_string(server.port())},
      {"PGUSER", PgCluster::kSuperuser},
      {"PGPASSWORD", cluster.superuser_password()},
      {"PGPULSE_SQL_DIR", std::string(PGPULSE_SOURCE_DIR) + "/deploy/sql"},
      {"PGPULSE_PASSWORD_FILE", password_file},
  };
  std::vector<std::string> scripts;
  for (const auto& entry : fs::directory_iterator(kComposeDir / "initdb")) scripts.push_back(entry.path().string());
  std::sort(scripts.begin(), scripts.end());
  ASSERT_EQ(scripts.size(), 2u);
  for (int round = 0; round < 2; ++round) {
    for (const auto& script : scripts) {
      SCOPED_TRACE(script + ", round " + std::to_string(round + 1));
      const auto run =
          script.size() > 4 && script.compare(script.size() - 4, 4, ".sql") == 0
              ? RunCommand({"/usr/bin/psql", "-X", "-v", "ON_ERROR_STOP=1", "-d", "postgres", "-f", script}, env, 120s)
              : RunCommand({script}, env, 120s);
      ASSERT_EQ(run.exit_code, 0) << run.output;
      EXPECT_EQ(run.output.find("WARNING"), std::string::npos) << run.output;
      EXPECT_EQ(run.output.find(password), std::string::npos) << run.output;
    }
  }
  const std::vector<std::string> databases = {"cafe", "erp", "treasury"};
  for (const auto& db : databases) {
    server.Exec(db, "SET ROLE " + db +
                        "_app; CREATE TABLE orders (id bigserial PRIMARY KEY); INSERT INTO orders DEFAULT VALUES");
  }

  auto config = ReadFile((kComposeDir / "pgpulse.yml").string());
  const auto replace = [&](const std::string& from, const std::string& to) {
    const auto at = config.find(from);
    ASSERT_NE(at, std::string::npos) << from << " is not in pgpulse.yml";
    config.replace(at, from.size(), to);
  };
  replace("@postgres:5432/", "@127.0.0.1:" + std::to_string(server.port()) + "/");
  replace("/run/secrets/pgpulse-password", password_file);
  const auto target = YAML::Load(config)["targets"][0]["name"].as<std::string>();
  ExporterProcess exporter({"--config.file=" + WriteTempFile(config, ".yml")});
  const auto has_every_database = [&](const std::string& body) {
    if (MetricValue(body, "pg_up", {{"target", target}}) != 1) return false;
    for (const auto& db : databases) {
      if (!MetricValue(body, "pg_sequence_used_ratio", {{"datname", db}})) return false;
    }
    return true;
  };
  const auto body = exporter.Poll(has_every_database, 30s);
  EXPECT_TRUE(has_every_database(body)) << body;
  EXPECT_EQ(MetricValue(body, "pgpulse_collector_enabled", {{"target", target}, {"collector", "stat_statements"}}), 1)
      << body;
  EXPECT_EQ(exporter.process().Output().find("lacks pg_monitor"), std::string::npos);
}

}  // namespace
}  // namespace pgpulse::testing
