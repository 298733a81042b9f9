#pragma once

#include <memory>
#include <optional>
#include <string>

#include "exporter/collector/runner.h"
#include "exporter/config/config.h"

namespace pgpulse::app {

// Everything pgpulse runs with that comes from files and the environment: the targets and the collectors.
struct Configuration {
  config::Config config;
  std::shared_ptr<const collector::CollectorSet> collectors;
  // The collector files' text and the collectors: settings, so a reload can tell whether the collectors changed.
  std::string collectors_fingerprint;
};

// Reads and validates all of it: the config file (or the environment), the built-in and custom collector files,
// the collector settings, and the target labels against the collectors' labels. Throws config::ConfigError naming
// the file, line and key at fault. Used at start and by every reload, so both accept exactly the same input.
Configuration LoadConfiguration(const std::optional<std::string>& config_file, const config::EnvLookup& env);

}  // namespace pgpulse::app
