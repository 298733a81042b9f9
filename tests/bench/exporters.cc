#include "tests/bench/exporters.h"

#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <sstream>

#include "tests/bench/run_control.h"
#include "tests/harness/http_client.h"
#include "tests/harness/process.h"

namespace pgpulse::bench {
namespace {

constexpr const char* kDebianQueries = "/usr/share/doc/prometheus-postgres-exporter/examples/queries.yaml";
constexpr auto kStartupTimeout = std::chrono::seconds(30);
constexpr auto kMaxScrapeTime = std::chrono::seconds(180);

// The `collectors:` block's lines without the block's own line and comments, on one line, as the header shows them.
std::string CollectorsNote(const std::string& file) {
  std::istringstream lines(testing::ReadFile(file));
  std::string kept;
  for (std::string line; std::getline(lines, line);) {
    const size_t text = line.find_first_not_of(" \t");
    if (line.starts_with("collectors:") || (text != std::string::npos && line[text] == '#')) continue;
    kept += line + "\n";
  }
  std::string note;
  for (char c : kept) {
    if (c == '\n') c = ' ';
    if (c == ' ' && !note.empty() && note.back() == ' ') continue;
    note += c;
  }
  return "collectors overridden:" + note;
}

// Debian's example, with two fixes without which it does not work here: pg_stat_statements' pre-13 columns
// (total_time...) do not exist on 15, so those column names (not the metric names) are renamed; and pg_process_idle,
// a cluster-wide view without a datname label, lacks `master: true`, so in auto-discover mode it yields the same
// series once per database and the peer answers every scrape with HTTP 500 ("collected before with the same name
// and label values").
std::string AdaptDebianQueries(const std::string& original) {
  static const std::regex kOldColumns(R"(\b(total|min|max|mean|stddev)_time / 1000)");
  std::istringstream lines(original);
  std::string adapted;
  bool renamed = false;
  bool master = false;
  for (std::string line; std::getline(lines, line);) {
    const std::string fixed = std::regex_replace(line, kOldColumns, "$1_exec_time / 1000");
    renamed = renamed || fixed.find("total_exec_time / 1000") != std::string::npos;
    adapted += fixed + "\n";
    if (line == "pg_process_idle:") {
      adapted += "  master: true\n";
      master = true;
    }
  }
  if (!renamed || !master) Die(std::string("could not adapt ") + kDebianQueries);
  return adapted;
}

}  // namespace

ExporterSetup PrepareExporters(const Knobs& knobs, const std::string& work, const testing::PgServer& server,
                               const Passwords& passwords) {
  ExporterSetup setup;
  setup.work = work;
  setup.pgpulse_bin = work + "/pgpulse";
  std::filesystem::copy_file(knobs.build + "/pgpulse", setup.pgpulse_bin);

  const std::string password_file = work + "/pgpulse.pw";
  testing::WriteFile(password_file, passwords.pgpulse + "\n");
  chmod(password_file.c_str(), 0600);
  std::string config = "targets:\n  - name: bench\n    dsn: postgresql://" + std::string(kPgpulseRole) +
                       "@127.0.0.1:" + std::to_string(server.port()) +
                       "/postgres?sslmode=disable\n    password_file: " + password_file + "\n";
  setup.pgpulse_config_note = "default collectors";
  if (!knobs.pgpulse_collectors.empty()) {
    config += testing::ReadFile(knobs.pgpulse_collectors);
    setup.pgpulse_config_note = CollectorsNote(knobs.pgpulse_collectors);
  }
  setup.pgpulse_config = work + "/pgpulse.yml";
  testing::WriteFile(setup.pgpulse_config, config);

  setup.peer_bin = knobs.peer_bin;
  setup.peer_dsn = "postgresql://" + std::string(kPeerRole) + ":" + passwords.peer +
                   "@127.0.0.1:" + std::to_string(server.port()) + "/postgres?sslmode=disable";
  setup.peer_queries = work + "/peer-queries.yaml";
  if (!knobs.peer_queries.empty()) {
    testing::WriteFile(setup.peer_queries, testing::ReadFile(knobs.peer_queries));
    setup.peer_queries_note = "--extend.query-path=" + knobs.peer_queries;
  } else if (std::filesystem::is_regular_file(kDebianQueries)) {
    testing::WriteFile(setup.peer_queries, AdaptDebianQueries(testing::ReadFile(kDebianQueries)));
    setup.peer_queries_note = "--extend.query-path=Debian's examples/queries.yaml, adapted (see tests/bench/README.md)";
  } else {
    testing::WriteFile(setup.peer_queries, "");
    setup.peer_queries_note =
        std::string("built-in queries only (") + kDebianQueries + " not found): no per-table statistics";
  }
  return setup;
}

std::unique_ptr<testing::ExporterProcess> StartExporter(const ExporterSetup& setup, Exporter exporter) {
  testing::ExporterOptions options;
  options.log_level = "";  // each at its default level, as shipped
  options.startup_timeout = kStartupTimeout;
  std::vector<std::string> args;
  std::map<std::string, std::string> env;
  if (exporter == Exporter::kPgpulse) {
    options.binary = setup.pgpulse_bin;
    options.ready_path = "/readyz";
    args = {"--config.file=" + setup.pgpulse_config};
  } else {
    options.binary = setup.peer_bin;
    options.name = "postgres_exporter";
    options.ready_path = "/";
    args = {"--auto-discover-databases", "--extend.query-path=" + setup.peer_queries};
    env = {{"DATA_SOURCE_NAME", setup.peer_dsn}};
  }
  try {
    return std::make_unique<testing::ExporterProcess>(args, env, options);
  } catch (const std::runtime_error& error) {
    Die(std::string(NameOf(exporter)) + " did not start: " + error.what());
  }
}

void StopExporter(std::unique_ptr<testing::ExporterProcess>& process, const ExporterSetup& setup,
                  const std::string& log_name) {
  if (!process) return;
  process->process().Signal(SIGTERM);
  if (!process->process().Wait(std::chrono::seconds(10))) process->process().Signal(SIGKILL);
  std::error_code ignored;
  std::filesystem::copy_file(process->process().log_path(), setup.work + "/" + log_name,
                             std::filesystem::copy_options::overwrite_existing, ignored);
  process.reset();
}

ScrapeResult Scrape(uint16_t port, const std::string& body_path, const std::string& work) {
  const testing::HttpResponse response =
      testing::HttpGet(port, "/metrics",
                       {{"X-Prometheus-Scrape-Timeout-Seconds", std::to_string(kScrapeTimeoutSeconds)},
                        {"Accept", "text/plain;version=0.0.4"}},
                       kMaxScrapeTime);
  if (response.status == 0) {
    static std::mutex mutex;
    std::lock_guard lock(mutex);
    std::ofstream(work + "/scrape.err", std::ios::app) << body_path << ": " << response.body << "\n";
    return {};
  }
  std::ofstream(body_path, std::ios::binary) << response.body;
  return {response.status, response.seconds, response.body.size()};
}

}  // namespace pgpulse::bench
