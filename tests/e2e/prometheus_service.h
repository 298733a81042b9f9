// Server programs the end-to-end tests start next to pgpulse: Prometheus and Alertmanager, each on a free loopback
// port, and the Prometheus HTTP API as the tests query it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tests/harness/process.h"

namespace pgpulse::testing {

// The end of `text`, for failure messages that quote a program's output.
std::string Tail(const std::string& text, size_t chars = 6000);

struct Service {
  std::unique_ptr<ChildProcess> process;
  uint16_t port = 0;
};

// A server program on a free loopback port: `argv(port)` builds its command line. Ready once GET `ready_path` answers
// 200 from our child; a port taken meanwhile by someone else means another try on a new port.
Service StartService(const std::function<std::vector<std::string>(uint16_t)>& argv, const std::string& ready_path);

// /usr/bin/prometheus with `config_path`, its TSDB in `tsdb_dir`.
Service StartPrometheus(const std::string& config_path, const std::string& tsdb_dir);

}  // namespace pgpulse::testing
