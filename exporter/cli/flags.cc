#include "exporter/cli/flags.h"

#include <map>

namespace pgpulse::cli {

Flags ParseFlags(const std::vector<std::string>& args) {
  Flags flags;
  const std::map<std::string, std::string*> valued = {
      {"--config.file", nullptr},      // optional<string>: handled below
      {"--web.config.file", nullptr},  // likewise
      {"--web.listen-address", &flags.listen_address},
      {"--web.telemetry-path", &flags.telemetry_path},
      {"--log.level", &flags.log_level},
      {"--log.format", &flags.log_format},
      {"--output", &flags.output},
  };
  // The server's flags are accepted by check too (and ignored where they mean nothing to it), so a probe can reuse
  // the container's arguments.
  std::size_t first = 0;
  if (!args.empty() && args[0] == "check") {
    flags.check = true;
    first = 1;
  }
  for (std::size_t i = first; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--version") {
      flags.show_version = true;
      continue;
    }
    if (arg == "--metric-reference") {
      flags.show_metric_reference = true;
      continue;
    }
    if (arg == "--web.enable-lifecycle") {
      flags.enable_lifecycle = true;
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
      (name == "--config.file" ? flags.config_file : flags.web_config_file) = value;
    } else {
      *it->second = value;
    }
  }
  if (flags.telemetry_path.front() != '/') throw FlagError("--web.telemetry-path: must start with '/'");
  if (flags.output != "table" && flags.output != "json") throw FlagError("--output: use table or json");
  if (!flags.check && flags.output != "table") throw FlagError("--output: only for pgpulse check");
  return flags;
}

std::string HelpText() {
  return R"(usage: pgpulse [flags]
       pgpulse check [--config.file=FILE] [--output=table|json]

A Prometheus exporter and health monitor for PostgreSQL.

Flags:
  --config.file=FILE          YAML config with targets: (see docs/configuration.md). Without it, or when it names
                              no targets, DATA_SOURCE_NAME or DATA_SOURCE_URI (+ _USER/_PASS[_FILE]) are used.
  --web.listen-address=ADDR   where to serve HTTP (default ":9187")
  --web.telemetry-path=PATH   path of the metrics page (default "/metrics")
  --web.config.file=FILE      TLS, basic auth and response headers, in the exporter-toolkit web-config format
                              node_exporter and postgres_exporter read (see docs/security.md)
  --web.enable-lifecycle      allow POST /-/reload (otherwise it answers 403; SIGHUP always reloads)
  --log.level=LEVEL           debug, info, warn, error (default "info")
  --log.format=FORMAT         logfmt or json (default "logfmt")
  --metric-reference          print the built-in collectors' metrics as a Markdown table and exit
  --version                   print the version and exit
  --help, -h                  print this help and exit

Commands:
  check                       refresh every target once (10 s at most), print a report per target (reachable, role
                              safe, pg_monitor, extensions, primary or replica, each collector and why it is off),
                              and exit: 0 when every target is healthy (reachable, its role neither a superuser nor
                              a member of one unless allow_superuser, and in pg_monitor), 1 when one is not, 2 for
                              a config or flag error. Logs go to stderr, the report to stdout.
    --output=FORMAT           table (default) or json

Endpoints:
  /metrics                    every target (the path --web.telemetry-path sets)
  /probe?target=NAME          one target, by its name in the config
  /health?target=NAME[&role=ROLE]
                              200 when that target is up (and is a primary or replica, as ROLE says), else 503
  /healthz                    200 while the process runs
  /readyz                     200 once the config is loaded and every target was tried once, else 503
  /                           status page: each target, its state, role, version and last error
  POST /-/reload              re-read the config and apply it, as SIGHUP does (needs --web.enable-lifecycle)
)";
}

}  // namespace pgpulse::cli
