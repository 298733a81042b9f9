#pragma once

#include "exporter/cli/flags.h"

namespace pgpulse::app {

// `pgpulse check`: loads the configuration as the server does, refreshes every target once on an io_context (each
// bounded by kCheckTimeout), prints the report (flags.output: table or json) on stdout and returns the exit code:
// 0 when every target is healthy (TargetCheck::healthy), 1 when one is not, 2 when the configuration is invalid.
int RunCheck(const cli::Flags& flags);

}  // namespace pgpulse::app
