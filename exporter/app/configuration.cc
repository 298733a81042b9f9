#include "exporter/app/configuration.h"

#include "exporter/collector/loader.h"

namespace pgpulse::app {
namespace {

std::string Describe(const config::CollectorSettings& settings) {
  auto optional = [](const auto& value) { return value ? std::to_string(static_cast<long long>(*value)) : "-"; };
  return optional(settings.enabled) + "," + (settings.ttl ? std::to_string(settings.ttl->count()) : "-") + "," +
         optional(settings.limit) + "," + optional(settings.max_series);
}

}  // namespace

Configuration LoadConfiguration(const std::optional<std::string>& config_file, const config::EnvLookup& env) {
  Configuration loaded;
  loaded.config = config::ResolveConfig(config_file, env);
  auto definitions = collector::LoadCollectors(loaded.config.custom_collectors);
  for (const auto& def : definitions) loaded.collectors_fingerprint += def.origin + '\n' + def.source + '\x1e';
  for (const auto& [name, settings] : loaded.config.collectors) {
    loaded.collectors_fingerprint += name + '=' + Describe(settings) + '\x1e';
  }
  loaded.collectors = collector::BuildCollectorSet(std::move(definitions), loaded.config.collectors);
  collector::CheckTargetLabels(*loaded.collectors, loaded.config.targets);
  return loaded;
}

}  // namespace pgpulse::app
