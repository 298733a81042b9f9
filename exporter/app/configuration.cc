#include "exporter/app/configuration.h"

#include "exporter/collector/loader.h"

namespace pgpulse::app {

Configuration LoadConfiguration(const std::optional<std::string>& config_file, const config::EnvLookup& env) {
  Configuration loaded;
  loaded.config = config::ResolveConfig(config_file, env);
  auto definitions = collector::LoadCollectors(loaded.config.custom_collectors);
  for (const auto& def : definitions) loaded.collector_files += def.origin + '\n' + def.source + '\x1e';
  loaded.collectors = collector::BuildCollectorSet(std::move(definitions), loaded.config.collectors);
  collector::CheckTargetLabels(*loaded.collectors, loaded.config.targets);
  return loaded;
}

bool SameCollectors(const Configuration& a, const Configuration& b) {
  return a.collector_files == b.collector_files && a.config.collectors == b.config.collectors;
}

}  // namespace pgpulse::app
