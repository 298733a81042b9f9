#include "tests/harness/exporter_process.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <stdexcept>
#include <thread>

#include "tests/harness/files.h"
#include "tests/harness/listening_socket.h"
#include "tests/harness/spawn.h"

namespace pgpulse::testing {
namespace {

constexpr auto kProbeTimeout = std::chrono::seconds(1);
constexpr int kPortAttempts = 5;

bool SaysAddressInUse(std::string output) {
  std::transform(output.begin(), output.end(), output.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return output.find("address already in use") != std::string::npos ||
         output.find("address in use") != std::string::npos || output.find("eaddrinuse") != std::string::npos;
}

}  // namespace

std::string PgpulseBinary() {
  const char* chosen = std::getenv("PGPULSE_BINARY_UNDER_TEST");
  return chosen != nullptr && *chosen != '\0' ? chosen : PGPULSE_BINARY;
}

std::string OneTargetConfigFile(const std::string& name, const std::string& dsn) {
  return WriteTempFile("targets:\n  - name: " + name + "\n    dsn: '" + dsn + "'\n", ".yml");
}

bool PgpulseIsSanitized() {
  static const bool sanitized = [] {
    const auto ldd = RunCommand({"ldd", PgpulseBinary()});
    if (ldd.exit_code != 0) throw std::runtime_error("ldd " + PgpulseBinary() + " failed: " + ldd.output);
    return ldd.output.find("libasan") != std::string::npos || ldd.output.find("libtsan") != std::string::npos;
  }();
  return sanitized;
}

ExporterProcess::ExporterProcess(std::vector<std::string> args, std::map<std::string, std::string> env)
    : ExporterProcess(std::move(args), std::move(env), ExporterOptions{}) {}

ExporterProcess::ExporterProcess(std::vector<std::string> args, std::map<std::string, std::string> env,
                                 ExporterOptions options) {
  const std::string timeout_text =
      std::to_string(std::chrono::duration_cast<std::chrono::seconds>(options.startup_timeout).count()) + " s";
  for (int attempt = 1;; ++attempt) {
    port_ = FreePort();
    std::vector<std::string> argv = {options.binary};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--web.listen-address=127.0.0.1:" + std::to_string(port_));
    if (!options.log_level.empty()) argv.push_back("--log.level=" + options.log_level);
    process_ = std::make_unique<ChildProcess>(argv, env);

    const auto deadline = std::chrono::steady_clock::now() + options.startup_timeout;
    HttpResponse last;
    while (true) {
      const bool running = process_->Running();
      if (SaysAddressInUse(process_->Output()) && attempt < kPortAttempts) break;
      if (!running) {
        throw std::runtime_error(options.name + " exited with code " + std::to_string(process_->Wait({}).value_or(-1)) +
                                 " before " + options.ready_path + " answered; command: " + JoinArgv(argv) +
                                 "\n--- output:\n" + process_->Output());
      }
      last = HttpGet(port_, options.ready_path, {}, kProbeTimeout);
      if (last.status == 200 && ProcessListensOn(process_->pid(), port_)) return;
      if (std::chrono::steady_clock::now() >= deadline) {
        throw std::runtime_error(options.name + " did not answer 200 on " + options.ready_path + " within " +
                                 timeout_text + " (last: status " + std::to_string(last.status) + ", " + last.body +
                                 "); command: " + JoinArgv(argv) + "\n--- output:\n" + process_->Output());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    process_.reset();  // the port was taken: stop this attempt before trying the next port
  }
}

HttpResponse ExporterProcess::Get(const std::string& target, std::map<std::string, std::string> headers) const {
  return HttpGet(port_, target, std::move(headers));
}

std::string ExporterProcess::Poll(const std::function<bool(const std::string&)>& done,
                                  std::chrono::milliseconds timeout, const std::string& path) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto body = Get(path).body;
    if (done(body) || std::chrono::steady_clock::now() >= deadline) return body;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace pgpulse::testing
