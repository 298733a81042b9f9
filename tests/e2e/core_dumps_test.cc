// Core dumps are off in the running binary: a dump would hold every password pgpulse knows.
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>

#include "tests/harness/exporter_process.h"
#include "tests/harness/process.h"

namespace pgpulse::testing {
namespace {

using namespace std::chrono_literals;

const std::map<std::string, std::string> kEnvironment = {
    {"DATA_SOURCE_NAME", "host=127.0.0.1 port=1 user=nobody dbname=postgres"}};

TEST(CoreDumpsTest, TheCoreSizeLimitIsZero) {
  ExporterProcess exporter({}, kEnvironment);
  std::ifstream limits("/proc/" + std::to_string(exporter.process().pid()) + "/limits");
  std::stringstream text;
  text << limits.rdbuf();
  std::smatch match;
  const std::string all = text.str();
  ASSERT_TRUE(std::regex_search(all, match, std::regex(R"(Max core file size\s+(\S+)\s+(\S+))"))) << all;
  EXPECT_EQ(match[1], "0") << "soft limit";
  EXPECT_EQ(match[2], "0") << "hard limit, so the process cannot raise it again";
}

TEST(CoreDumpsTest, TheProcessIsNotDumpable) {
  // The kernel shows a process that is not dumpable by making its /proc entries root's. That is only visible when
  // the process runs as someone else: start it as `nobody`.
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to start pgpulse as another user";
  const passwd* nobody = ::getpwnam("nobody");
  if (nobody == nullptr) GTEST_SKIP() << "no user nobody";
  const auto port = FreePort();
  ChildProcess process(
      {"setpriv", "--reuid=" + std::to_string(nobody->pw_uid), "--regid=" + std::to_string(nobody->pw_gid),
       "--clear-groups", "--", PgpulseBinary(), "--web.listen-address=127.0.0.1:" + std::to_string(port)},
      kEnvironment);
  ASSERT_TRUE(process.WaitForOutput("msg=listening", 15s)) << process.Output();
  struct stat status {};
  ASSERT_EQ(::stat(("/proc/" + std::to_string(process.pid()) + "/status").c_str(), &status), 0);
  std::ifstream proc_status("/proc/" + std::to_string(process.pid()) + "/status");
  std::string line, uid_line;
  while (std::getline(proc_status, line)) {
    if (line.rfind("Uid:", 0) == 0) uid_line = line;
  }
  EXPECT_NE(uid_line.find(std::to_string(nobody->pw_uid)), std::string::npos) << "runs as nobody: " << uid_line;
  EXPECT_EQ(status.st_uid, 0u) << "/proc/<pid> belongs to the process's user, so it is dumpable";
}

}  // namespace
}  // namespace pgpulse::testing
