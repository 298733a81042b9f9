#pragma once

#include <memory>
#include <string>
#include <vector>

#include "exporter/targets/target.h"

namespace pgpulse::app {

// The operator's page at "/": each target, its state, server version and last error (which never holds a
// secret: DSNs are shown redacted). Every dynamic value is HTML-escaped.
std::string RenderStatusPage(const std::vector<std::shared_ptr<targets::Target>>& targets,
                             const std::string& telemetry_path);

std::string HtmlEscape(const std::string& text);

}  // namespace pgpulse::app
