#include "tests/harness/net_namespace.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <exception>
#include <stdexcept>
#include <thread>

#include "tests/harness/errno_text.h"
#include "tests/harness/process.h"

namespace pgpulse::testing {
namespace {

constexpr const char* kIp = "/usr/sbin/ip";
constexpr const char* kTc = "/usr/sbin/tc";

CommandResult Run(std::vector<std::string> argv) { return RunCommand(std::move(argv), {}, std::chrono::seconds(10)); }

std::string Joined(const std::vector<std::string>& argv) {
  std::string text;
  for (const auto& arg : argv) text += (text.empty() ? "" : " ") + arg;
  return text;
}

}  // namespace

std::string NetNamespace::Unavailable() {
  if (geteuid() != 0) return "network namespaces need root (CI runs the e2e suite as root)";
  if (access(kIp, X_OK) != 0 || access(kTc, X_OK) != 0) return "iproute2 (ip, tc) is not installed";
  return "";
}

NetNamespace::NetNamespace() {
  static std::atomic<int> counter{0};
  const int pid = static_cast<int>(getpid());
  const int n = counter++;
  name_ = "pgpulse-" + std::to_string(pid) + "-" + std::to_string(n);
  // Interface names are at most 15 characters: "pgpf" + the pid (up to 7 digits) + a or b + n.
  host_link_ = "pgpf" + std::to_string(pid) + "a" + std::to_string(n % 10);
  inner_link_ = "pgpf" + std::to_string(pid) + "b" + std::to_string(n % 10);
  // A /30 per (pid, n): .1 here, .2 inside.
  const int block = (pid * 8 + n) % 16384;
  const std::string prefix = "10.213." + std::to_string(block / 64) + ".";
  host_address_ = prefix + std::to_string((block % 64) * 4 + 1);
  inner_address_ = prefix + std::to_string((block % 64) * 4 + 2);
  try {
    Ip({"netns", "add", name_});
    Ip({"-n", name_, "link", "set", "lo", "up"});
    Ip({"link", "add", host_link_, "type", "veth", "peer", "name", inner_link_, "netns", name_});
    Ip({"addr", "add", host_address_ + "/30", "dev", host_link_});
    Ip({"link", "set", host_link_, "up"});
    Ip({"-n", name_, "addr", "add", inner_address_ + "/30", "dev", inner_link_});
    Ip({"-n", name_, "link", "set", inner_link_, "up"});
  } catch (...) {
    Run({kIp, "link", "del", host_link_});
    Run({kIp, "netns", "del", name_});
    throw;
  }
}

NetNamespace::~NetNamespace() {
  // Deleting either end of a veth pair deletes both; deleting the namespace would too, but only once no process
  // is left inside it, so the link goes first.
  Run({kIp, "link", "del", host_link_});
  Run({kIp, "netns", "del", name_});
}

void NetNamespace::Ip(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {kIp};
  argv.insert(argv.end(), args.begin(), args.end());
  const CommandResult result = Run(argv);
  if (result.exit_code != 0) throw std::runtime_error(Joined(argv) + " failed:\n" + result.output);
}

void NetNamespace::RunInside(const std::function<void()>& work) const {
  std::exception_ptr failure;
  // setns() moves only the calling thread, so a thread of its own keeps the test's thread where it was.
  std::thread inside([&] {
    try {
      const std::string path = "/var/run/netns/" + name_;
      const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) throw std::runtime_error("open " + path + ": " + ErrnoText(errno));
      const int rc = setns(fd, CLONE_NEWNET);
      const int error = errno;
      close(fd);
      if (rc != 0) throw std::runtime_error("setns " + path + ": " + ErrnoText(error));
      work();
    } catch (...) {
      failure = std::current_exception();
    }
  });
  inside.join();
  if (failure) std::rethrow_exception(failure);
}

void NetNamespace::Partition() {
  partitioned_ = true;
  for (const auto& argv : std::vector<std::vector<std::string>>{
           {kTc, "qdisc", "replace", "dev", host_link_, "root", "pfifo", "limit", "0"},
           {kTc, "-n", name_, "qdisc", "replace", "dev", inner_link_, "root", "pfifo", "limit", "0"}}) {
    const CommandResult result = Run(argv);
    if (result.exit_code != 0) throw std::runtime_error(Joined(argv) + " failed:\n" + result.output);
  }
}

void NetNamespace::Heal() {
  if (!partitioned_) return;
  partitioned_ = false;
  Run({kTc, "qdisc", "del", "dev", host_link_, "root"});
  Run({kTc, "-n", name_, "qdisc", "del", "dev", inner_link_, "root"});
}

}  // namespace pgpulse::testing
