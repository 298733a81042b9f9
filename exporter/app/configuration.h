#pragma once

#include <memory>
#include <optional>
#include <string>

#include "exporter/collector/collector_set.h"
#include "exporter/config/config.h"

namespace pgpulse::app {

// Everything pgpulse runs with that comes from files and the environment: the targets and the collectors.
struct Configuration {
  config::Config config;
  std::shared_ptr<const collector::CollectorSet> collectors;
  // Every collector file's name and text, built-in ones included, so a reload can tell whether one changed.
  std::string collector_files;
};

// Reads and validates all of it: the config file (or the environment), the built-in and custom collector files,
// the collector settings, and the target labels against the collectors' labels. Throws config::ConfigError naming
// the file, line and key at fault. Used at start and by every reload, so both accept exactly the same input.
Configuration LoadConfiguration(const std::optional<std::string>& config_file, const config::EnvLookup& env);

// Whether both run the same collectors: the same files, with the same `collectors:` settings.
bool SameCollectors(const Configuration& a, const Configuration& b);

}  // namespace pgpulse::app
