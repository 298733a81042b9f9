// The ways pgpulse is installed: the systemd unit (deploy/systemd) through systemd-analyze, and the container image
// (deploy/docker) by proving its runtime stage installs exactly the libraries the built binary links. The Debian
// package is built, linted, installed and purged by scripts/deb-package.sh, which needs root and a minute of build.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/harness/exporter_process.h"
#include "tests/harness/http_client.h"
#include "tests/harness/process.h"

namespace pgpulse::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const fs::path& DeployDir() {
  static const fs::path dir = fs::path(PGPULSE_SOURCE_DIR) / "deploy";
  return dir;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::vector<std::string> Words(const std::string& text) {
  std::vector<std::string> words;
  std::istringstream in(text);
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

std::string Joined(const std::set<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
  return out.empty() ? "(none)" : out;
}

// ---------------------------------------------------------------------------------------------------------------
// systemd

std::string UnitText() { return ReadFile((DeployDir() / "systemd" / "pgpulse.service").string()); }

// The values of `key=` in the unit, in order (the unit has no continuation lines).
std::vector<std::string> UnitValues(const std::string& unit, const std::string& key) {
  std::vector<std::string> values;
  for (const auto& line : Lines(unit)) {
    if (line.rfind(key + "=", 0) == 0) values.push_back(line.substr(key.size() + 1));
  }
  return values;
}

// A copy of the unit in a temp dir, named pgpulse.service, whose ExecStart= runs the binary under test.
// systemd-analyze verify fails a unit whose ExecStart= program does not exist ("Command /usr/bin/pgpulse is not
// executable"), and the tests must not need pgpulse installed in /usr/bin; everything else is the shipped unit.
std::string UnitCopyRunningTheBuiltBinary(const TempDir& dir) {
  std::string unit = UnitText();
  const std::string shipped = "ExecStart=/usr/bin/pgpulse ";
  const auto at = unit.find(shipped);
  EXPECT_NE(at, std::string::npos) << "the unit's ExecStart= does not run /usr/bin/pgpulse";
  if (at != std::string::npos) unit.replace(at, shipped.size(), "ExecStart=" + std::string(PGPULSE_BINARY) + " ");
  const auto path = dir.path() + "/pgpulse.service";
  WriteFile(path, unit);
  return path;
}

// systemd-analyze works without systemd as PID 1 (containers, CI): both commands read the unit file only. verify exits
// 0 even for an unknown key or a bad value (it only prints them), so any output at all is a failure.
TEST(DeploySystemdTest, SystemdAnalyzeVerifyAcceptsTheUnit) {
  TempDir dir;
  const auto unit = UnitCopyRunningTheBuiltBinary(dir);
  const auto verify = RunCommand({"systemd-analyze", "verify", unit});
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
  EXPECT_EQ(verify.output, "") << "systemd-analyze verify reports problems in deploy/systemd/pgpulse.service";
}

// The exposure score of `systemd-analyze security` (systemd 252, Debian bookworm), measured 1.1 ("OK"): 0 is fully
// locked down, 10 is a unit without any hardening. What remains exposed is what an exporter needs (network access)
// or what pgpulse cannot use (an image of its own). Pinned, so that no change weakens the unit unnoticed.
constexpr double kMaxExposure = 1.1;

TEST(DeploySystemdTest, SecurityExposureStaysAtItsMeasuredLevel) {
  TempDir dir;
  const auto unit = UnitCopyRunningTheBuiltBinary(dir);
  const auto security = RunCommand({"systemd-analyze", "security", "--offline=true", unit});
  ASSERT_EQ(security.exit_code, 0) << security.output;
  std::smatch match;
  const std::regex overall(R"(Overall exposure level for pgpulse\.service: ([0-9]+\.[0-9]+))");
  ASSERT_TRUE(std::regex_search(security.output, match, overall)) << security.output;
  EXPECT_LE(std::stod(match[1]), kMaxExposure) << "the unit is less hardened than before:\n" << security.output;
}

// The unit runs as a dynamic user that owns no file, so the password reaches it through LoadCredential=, and the
// example config must name where systemd puts the copy (pgpulse's config does not expand $CREDENTIALS_DIRECTORY).
TEST(DeploySystemdTest, ExampleConfigReadsThePasswordFromTheUnitsCredential) {
  const auto unit = UnitText();
  EXPECT_EQ(UnitValues(unit, "DynamicUser"), std::vector<std::string>{"yes"});
  EXPECT_EQ(UnitValues(unit, "NoNewPrivileges"), std::vector<std::string>{"yes"});
  EXPECT_EQ(UnitValues(unit, "ProtectSystem"), std::vector<std::string>{"strict"});
  EXPECT_EQ(UnitValues(unit, "EnvironmentFile"), std::vector<std::string>{"-/etc/default/pgpulse"});
  const auto credentials = UnitValues(unit, "LoadCredential");
  ASSERT_EQ(credentials.size(), 1u);
  const auto name = credentials[0].substr(0, credentials[0].find(':'));
  const auto config = ReadFile((DeployDir() / "systemd" / "pgpulse.yml").string());
  EXPECT_NE(config.find("password_file: /run/credentials/pgpulse.service/" + name + "\n"), std::string::npos)
      << "deploy/systemd/pgpulse.yml must read the credential " << name;
}

// The example config is one pgpulse accepts: started with it (the credential path pointed at a temp file), pgpulse
// serves /healthz. A config it rejects makes it exit 1 at once.
TEST(DeploySystemdTest, ExampleConfigStartsPgpulse) {
  std::string config = ReadFile((DeployDir() / "systemd" / "pgpulse.yml").string());
  const std::string credential = "/run/credentials/pgpulse.service/reporting.pw";
  const auto at = config.find(credential);
  ASSERT_NE(at, std::string::npos);
  config.replace(at, credential.size(), WriteTempFile("not-the-password\n"));
  const auto port = FreePort();
  ChildProcess pgpulse({PGPULSE_BINARY, "--config.file=" + WriteTempFile(config, ".yml"),
                        "--web.listen-address=127.0.0.1:" + std::to_string(port)});
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (HttpGet(port, "/healthz", {}, 1s).status != 200) {
    ASSERT_TRUE(pgpulse.Running()) << pgpulse.Output();
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << pgpulse.Output();
    std::this_thread::sleep_for(100ms);
  }
}

// deploy/systemd/pgpulse.env (the package's /etc/default/pgpulse) names only variables pgpulse or libpq read, and
// its PGPULSE_ARGS example holds flags pgpulse accepts.
TEST(DeploySystemdTest, EnvironmentFileNamesOnlyRealFlagsAndVariables) {
  const std::set<std::string> known = {"PGPULSE_ARGS",         "DATA_SOURCE_NAME",      "DATA_SOURCE_URI",
                                       "DATA_SOURCE_USER",     "DATA_SOURCE_USER_FILE", "DATA_SOURCE_PASS",
                                       "DATA_SOURCE_PASS_FILE"};
  const std::regex assignment(R"(^#?([A-Z][A-Z0-9_]*)=(.*)$)");
  std::string args;
  int assignments = 0;
  for (const auto& line : Lines(ReadFile((DeployDir() / "systemd" / "pgpulse.env").string()))) {
    std::smatch match;
    if (!std::regex_match(line, match, assignment)) continue;
    ++assignments;
    const std::string key = match[1];
    EXPECT_TRUE(known.count(key) || key.rfind("PG", 0) == 0) << key << " is read by neither pgpulse nor libpq";
    if (key == "PGPULSE_ARGS") args = match[2];
  }
  EXPECT_GE(assignments, 4);
  ASSERT_FALSE(args.empty()) << "pgpulse.env shows no PGPULSE_ARGS example";
  std::vector<std::string> argv = {PGPULSE_BINARY};
  for (const auto& word : Words(args)) argv.push_back(word);
  argv.push_back("--version");  // every flag is parsed (an unknown one exits 2), then the version is printed
  const auto run = RunCommand(argv);
  EXPECT_EQ(run.exit_code, 0) << args << ":\n" << run.output;
}

// ---------------------------------------------------------------------------------------------------------------
// Docker

std::string DockerfileText() { return ReadFile((DeployDir() / "docker" / "Dockerfile").string()); }

// The Dockerfile's instructions from its last FROM on (the runtime stage), continuation lines joined.
std::vector<std::string> RuntimeStageInstructions() {
  std::vector<std::string> instructions;
  std::string current;
  for (const auto& line : Lines(DockerfileText())) {
    if (current.empty() && (line.empty() || line[0] == '#')) continue;
    if (!line.empty() && line.back() == '\\') {
      current += line.substr(0, line.size() - 1) + " ";
      continue;
    }
    current += line;
    if (current.rfind("FROM ", 0) == 0) instructions.clear();
    instructions.push_back(current);
    current.clear();
  }
  return instructions;
}

// The packages of the runtime stage's one `apt-get install` (options skipped, up to the next && or ;).
std::set<std::string> RuntimeStageAptPackages() {
  std::set<std::string> packages;
  int installs = 0;
  for (const auto& instruction : RuntimeStageInstructions()) {
    const auto words = Words(instruction);
    for (std::size_t i = 0; i + 1 < words.size(); ++i) {
      if (words[i] != "apt-get" || words[i + 1] != "install") continue;
      ++installs;
      for (std::size_t j = i + 2; j < words.size() && words[j] != "&&" && words[j] != ";"; ++j) {
        if (words[j][0] != '-') packages.insert(words[j]);
      }
    }
  }
  EXPECT_EQ(installs, 1) << "the runtime stage should install its packages with one apt-get install";
  return packages;
}

// The installed packages of the local dpkg database, with what each needs at run time.
struct InstalledPackage {
  bool base = false;               // Essential: yes, or Priority: required
  std::vector<std::string> needs;  // Pre-Depends and Depends, the first installed alternative of each
};

std::map<std::string, InstalledPackage> InstalledPackages() {
  const auto query = RunCommand({"dpkg-query", "-W",
                                 "-f=${db:Status-Abbrev}\t${Package}\t${Essential}\t${Priority}"
                                 "\t${Pre-Depends}, ${Depends}\n"});
  EXPECT_EQ(query.exit_code, 0) << query.output;
  std::map<std::string, InstalledPackage> installed;
  std::map<std::string, std::string> relations;
  for (const auto& line : Lines(query.output)) {
    std::vector<std::string> fields;
    std::istringstream in(line);
    for (std::string field; std::getline(in, field, '\t');) fields.push_back(field);
    if (fields.size() < 5 || fields[0].rfind("ii", 0) != 0) continue;
    installed[fields[1]].base = fields[2] == "yes" || fields[3] == "required";
    relations[fields[1]] = fields[4];
  }
  for (auto& [name, package] : installed) {
    std::istringstream in(relations[name]);
    for (std::string relation; std::getline(in, relation, ',');) {
      std::istringstream alternatives(relation);
      for (std::string alternative; std::getline(alternatives, alternative, '|');) {
        const auto words = Words(alternative);
        if (words.empty()) continue;
        const auto dep = words[0].substr(0, words[0].find(':'));  // "libc6:any" -> "libc6"
        if (installed.count(dep)) {
          package.needs.push_back(dep);
          break;
        }
      }
    }
  }
  return installed;
}

// `roots` and everything they need, transitively.
std::set<std::string> Closure(const std::map<std::string, InstalledPackage>& installed,
                              std::vector<std::string> roots) {
  std::set<std::string> seen;
  while (!roots.empty()) {
    const auto name = roots.back();
    roots.pop_back();
    if (!seen.insert(name).second) continue;
    if (const auto it = installed.find(name); it != installed.end()) {
      roots.insert(roots.end(), it->second.needs.begin(), it->second.needs.end());
    }
  }
  return seen;
}

// The Debian package that owns each of `paths`, from one dpkg-query (it reads every package's file list, so one call,
// not one per file). With merged /usr, ldd reports /usr/lib/... or /lib/... paths while dpkg knows each file under
// one of them, so both spellings are asked.
std::map<std::string, std::string> OwningPackages(const std::set<std::string>& paths) {
  std::vector<std::string> argv = {"dpkg-query", "-S"};
  for (const auto& path : paths) {
    argv.push_back(path);
    if (path.rfind("/usr/", 0) == 0) argv.push_back(path.substr(4));
    if (path.rfind("/lib", 0) == 0) argv.push_back("/usr" + path);
  }
  const auto search = RunCommand(argv);  // exits 1 because one spelling of each file is unknown
  std::map<std::string, std::string> owner;
  const std::regex found(R"(^([^:, ]+)(:[a-z0-9]+)?: (/\S+)$)");  // "libpq5:amd64: /usr/lib/.../libpq.so.5.15"
  for (const auto& line : Lines(search.output)) {
    std::smatch match;
    if (!std::regex_match(line, match, found)) continue;
    std::string path = match[3];
    if (!paths.count(path)) path = paths.count("/usr" + path) ? "/usr" + path : path.substr(4);
    owner[path] = match[1];
  }
  for (const auto& path : paths) {
    if (!owner.count(path)) ADD_FAILURE() << "no installed package owns " << path << ":\n" << search.output;
  }
  return owner;
}

// Packages the runtime stage installs on purpose although the binary does not link them, each with its reason.
// Neither a healthcheck fetcher nor ca-certificates is one: the HEALTHCHECK uses bash's /dev/tcp (bash and grep are
// Essential), and libpq 15 reads a CA only from the file sslrootcert= names (sslrootcert=system is libpq 16), which
// the user mounts with the config.
const std::map<std::string, std::string> kJustifiedExtras = {};

// The runtime stage installs exactly the packages that bring the libraries the built binary loads. The rule:
// - every library ldd resolves for the binary maps (dpkg -S) to the package that owns it;
// - packages of debian:bookworm-slim are already there. That image is debootstrap's minbase variant: every package
//   that is Essential or of Priority required, and what those depend on (libc6, libgcc-s1 and libstdc++6 are in it
//   because apt, required, needs them). The closure is computed from the local dpkg database, which has all of
//   them, as every Debian system does;
// - a package that another one of the set depends on is left to apt (libpq5 brings libssl3, libgssapi-krb5-2, ...).
TEST(DeployDockerTest, RuntimeStageInstallsExactlyTheLibrariesTheBinaryLinks) {
  const auto ldd = RunCommand({"ldd", PgpulseBinary()});
  ASSERT_EQ(ldd.exit_code, 0) << ldd.output;
  ASSERT_EQ(ldd.output.find("not found"), std::string::npos) << ldd.output;
  // A sanitized build (PGPULSE_SANITIZE) links the sanitizers' runtimes, and libboost_system, which a plain link
  // leaves out; the image ships a plain build. CI runs this test on one (PGPULSE_BINARY_UNDER_TEST, .ci/run).
  if (PgpulseIsSanitized()) GTEST_SKIP() << "sanitized build: its libraries are not the image's";

  std::set<std::string> libraries;
  const std::regex resolved(R"((/\S+) \(0x[0-9a-f]+\))");
  for (const auto& line : Lines(ldd.output)) {
    std::smatch match;
    if (std::regex_search(line, match, resolved)) libraries.insert(fs::canonical(match[1].str()).string());
  }                                               // linux-vdso.so.1 has no file
  std::map<std::string, std::string> library_of;  // package -> one library it provides, for the messages
  for (const auto& [library, package] : OwningPackages(libraries)) library_of.emplace(package, library);
  ASSERT_GE(library_of.size(), 5u) << ldd.output;

  const auto installed = InstalledPackages();
  std::vector<std::string> base_roots;
  for (const auto& [name, package] : installed) {
    if (package.base) base_roots.push_back(name);
  }
  const auto in_base_image = Closure(installed, base_roots);
  ASSERT_TRUE(in_base_image.count("libc6") && in_base_image.count("apt")) << "the base rule found no base image";

  std::set<std::string> needed;
  for (const auto& [package, library] : library_of) {
    if (!in_base_image.count(package)) needed.insert(package);
  }
  std::set<std::string> brought_by_another;
  for (const auto& package : needed) {
    for (const auto& dep : Closure(installed, installed.at(package).needs)) {
      if (dep != package) brought_by_another.insert(dep);
    }
  }
  std::set<std::string> expected;
  for (const auto& package : needed) {
    if (!brought_by_another.count(package)) expected.insert(package);
  }
  for (const auto& [package, reason] : kJustifiedExtras) expected.insert(package);

  const auto listed = RuntimeStageAptPackages();
  std::set<std::string> missing, extra;
  for (const auto& package : expected) {
    if (!listed.count(package)) missing.insert(package);
  }
  for (const auto& package : listed) {
    if (!expected.count(package)) extra.insert(package);
  }
  std::string missing_detail;
  for (const auto& package : missing) missing_detail += "\n  " + package + " (for " + library_of[package] + ")";
  EXPECT_TRUE(missing.empty()) << "deploy/docker/Dockerfile's runtime stage does not install" << missing_detail
                               << "\nso the binary would not start in the image";
  EXPECT_TRUE(extra.empty()) << "deploy/docker/Dockerfile's runtime stage installs " << Joined(extra)
                             << ", which the binary does not need (a base-image package, one another package brings,"
                                " or an extra without a reason in kJustifiedExtras)";
}

// The image's HEALTHCHECK command, run against the built binary (its port moved to a free one): it passes while
// pgpulse serves /healthz and fails once pgpulse is gone.
TEST(DeployDockerTest, HealthcheckCommandProbesHealthz) {
  std::string command;
  for (const auto& instruction : RuntimeStageInstructions()) {
    if (instruction.rfind("HEALTHCHECK ", 0) == 0) command = instruction;
  }
  ASSERT_FALSE(command.empty()) << "the runtime stage has no HEALTHCHECK";
  // CMD ["/bin/bash", "-c", "<script>"]: the script is the last JSON string; its escapes are \\ and \".
  const auto end = command.rfind('"');
  const auto begin = command.rfind("\"-c\", \"");
  ASSERT_TRUE(begin != std::string::npos && end > begin) << command;
  std::string script;
  for (std::size_t i = begin + 7; i < end; ++i) {
    if (command[i] == '\\' && i + 1 < end) ++i;
    script += command[i];
  }
  const std::string default_port = "/dev/tcp/127.0.0.1/9187";
  const auto at = script.find(default_port);
  ASSERT_NE(at, std::string::npos) << script;
  const auto port = FreePort();
  script.replace(at, default_port.size(), "/dev/tcp/127.0.0.1/" + std::to_string(port));

  {
    ChildProcess pgpulse({PGPULSE_BINARY, "--web.listen-address=127.0.0.1:" + std::to_string(port)},
                         {{"DATA_SOURCE_NAME", "postgresql://nobody@127.0.0.1:1/postgres"}});
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (HttpGet(port, "/healthz", {}, 1s).status != 200) {
      ASSERT_TRUE(pgpulse.Running()) << pgpulse.Output();
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << pgpulse.Output();
      std::this_thread::sleep_for(100ms);
    }
    const auto healthy = RunCommand({"/bin/bash", "-c", script}, {}, 10s);
    EXPECT_EQ(healthy.exit_code, 0) << script << "\n" << healthy.output;
  }
  const auto gone = RunCommand({"/bin/bash", "-c", script}, {}, 10s);
  EXPECT_NE(gone.exit_code, 0) << "the healthcheck passes with no pgpulse running: " << script;
}

}  // namespace
}  // namespace pgpulse::testing
