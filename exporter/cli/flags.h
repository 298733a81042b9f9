#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace pgpulse::cli {

// Command-line flags. Names follow postgres_exporter where the two overlap, so existing unit files keep working.
struct Flags {
  // `pgpulse check`: one refresh of every target, a health report on stdout, and an exit code (see HelpText).
  bool check = false;
  std::string output = "table";  // pgpulse check's report: "table" or "json"
  std::optional<std::string> config_file;
  std::string listen_address = ":9187";
  std::string telemetry_path = "/metrics";
  std::optional<std::string> web_config_file;  // exporter-toolkit format: TLS, basic auth, response headers
  bool enable_lifecycle = false;               // POST /-/reload, off by default as in Prometheus
  std::string log_level = "info";
  std::string log_format = "logfmt";
  bool show_version = false;
  bool show_help = false;
  bool show_metric_reference = false;
};

class FlagError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// Accepts "--name=value" and "--name value", after an optional first argument "check" (the subcommand). Unknown
// flags, missing values and --output outside check are errors naming the flag.
Flags ParseFlags(const std::vector<std::string>& args);

std::string HelpText();

}  // namespace pgpulse::cli
