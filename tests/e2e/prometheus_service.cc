#include "tests/e2e/prometheus_service.h"

#include <chrono>
#include <stdexcept>
#include <thread>

#include "tests/harness/http_client.h"
#include "tests/harness/listening_socket.h"
#include "tests/harness/spawn.h"

namespace pgpulse::testing {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string Tail(const std::string& text, size_t chars) {
  return text.size() <= chars ? text : "[...]" + text.substr(text.size() - chars);
}

Service StartService(const std::function<std::vector<std::string>(uint16_t)>& argv, const std::string& ready_path) {
  for (int attempt = 1;; ++attempt) {
    Service service;
    service.port = FreePort();
    service.process = std::make_unique<ChildProcess>(argv(service.port));
    const auto deadline = Clock::now() + 30s;
    while (true) {
      if (!service.process->Running()) {
        const auto output = service.process->Output();
        if (output.find("address already in use") != std::string::npos && attempt < 5) break;
        throw std::runtime_error(JoinArgv(service.process->argv()) + " exited:\n" + Tail(output));
      }
      if (HttpGet(service.port, ready_path, {}, 1s).status == 200 &&
          ProcessListensOn(service.process->pid(), service.port)) {
        return service;
      }
      if (Clock::now() >= deadline) {
        throw std::runtime_error(JoinArgv(service.process->argv()) + " was not ready within 30 s:\n" +
                                 Tail(service.process->Output()));
      }
      std::this_thread::sleep_for(100ms);
    }
  }
}

Service StartPrometheus(const std::string& config_path, const std::string& tsdb_dir) {
  return StartService(
      [&](uint16_t port) {
        return std::vector<std::string>{"/usr/bin/prometheus", "--config.file=" + config_path,
                                        "--storage.tsdb.path=" + tsdb_dir,
                                        "--web.listen-address=127.0.0.1:" + std::to_string(port)};
      },
      "/-/ready");
}

}  // namespace pgpulse::testing
