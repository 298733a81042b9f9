#include "exporter/cli/flags.h"

#include <map>

namespace pgpulse::cli {

Flags ParseFlags(const std::vector<std::string>& args) {
  Flags flags;
  const std::map<std::string, std::string*> valued = {
      {"--config.file", nullptr},  // optional<string>: handled below
      {"--web.listen-address", &flags.listen_address},
      {"--web.telemetry-path", &flags.telemetry_path},
      {"--log.level", &flags.log_level},
      {"--log.format", &flags.log_format},
  };
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--version") {
      flags.show_version = true;
      continue;
    }
    if (arg == "--metric-reference") {
      flags.show_metric_reference = true;
      continue;
    }
    if (arg == "--help" || arg == "-h") {
      flags.show_help = true;
      continue;
    }
    const auto eq = arg.find('=');
    const std::string name = arg.substr(0, eq);
    auto it = valued.find(name);
    if (it == valued.end()) throw FlagError("unknown flag \"" + name + "\" (see --help)");
    std::string value;
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      throw FlagError(name + ": missing value");
    }
    if (value.empty()) throw FlagError(name + ": empty value");
    if (it->second == nullptr) {
      flags.config_file = value;
    } else {
      *it->second = value;
    }
  }
  if (flags.telemetry_path.front() != '/') throw FlagError("--web.telemetry-path: must start with '/'");
  return flags;
}

std::string HelpText() {
  return R"(usage: pgpulse [flags]

A Prometheus exporter and health monitor for PostgreSQL.

Flags:
  --config.file=FILE          YAML config with targets: (see docs/configuration.md). Without it, or when it names
                              no targets, DATA_SOURCE_NAME or DATA_SOURCE_URI (+ _USER/_PASS[_FILE]) are used.
  --web.listen-address=ADDR   where to serve HTTP (default ":9187")
  --web.telemetry-path=PATH   path of the metrics page (default "/metrics")
  --log.level=LEVEL           debug, info, warn, error (default "info")
  --log.format=FORMAT         logfmt or json (default "logfmt")
  --metric-reference          print the built-in collectors' metrics as a Markdown table and exit
  --version                   print the version and exit
  --help, -h                  print this help and exit

Endpoints:
  /metrics                    every target (the path --web.telemetry-path sets)
  /probe?target=NAME          one target, by its name in the config
  /healthz                    200 while the process runs
  /readyz                     200 once the config is loaded and every target was tried once, else 503
  /                           status page: each target, its state, role, version and last error
  POST /-/reload              re-read the config and apply it, as SIGHUP does
)";
}

}  // namespace pgpulse::cli
