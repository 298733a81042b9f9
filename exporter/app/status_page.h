#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "exporter/app/status_format.h"
#include "exporter/targets/target.h"

namespace pgpulse::app {

// The operator's page at "/": each target's state, server, role, uptime, facts the alerts watch and last error
// (which never holds a secret: DSNs are shown redacted), its collectors and the databases it visits. Every dynamic
// value is HTML-escaped; the page has no external assets and reads on a phone.
std::string RenderStatusPage(const std::vector<std::shared_ptr<targets::Target>>& targets,
                             const std::string& telemetry_path);
// The same at `now` (tests fix the clock).
std::string RenderStatusPage(const std::vector<std::shared_ptr<targets::Target>>& targets,
                             const std::string& telemetry_path, std::chrono::system_clock::time_point now);

}  // namespace pgpulse::app
