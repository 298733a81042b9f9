// Every file pgpulse reads (secrets, libpq's passfile, the config, collector files) is read the same bounded way:
// a FIFO cannot stall the caller, a device cannot fill memory, only regular files of a capped size are read, and
// a credential file others can read is warned about once.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <future>
#include <string>
#include <thread>

#include "exporter/collector/loader.h"
#include "exporter/config/config.h"
#include "exporter/config/credentials.h"
#include "exporter/config/secret_file.h"
#include "tests/harness/process.h"
#include "tests/unit/error_of.h"

namespace pgpulse::config {
namespace {

using namespace std::chrono_literals;
using testing::ErrorOf;
using testing::TempDir;
using testing::WriteTempFile;

struct Outcome {
  bool returned_in_time = false;
  std::string error;  // empty: no exception
};

// Runs `read`, which may open `fifo`, on its own thread for at most 2 s. When it is stuck in open() waiting for a
// writer (the bug this guards against), a writer comes and goes to release it, so the test fails rather than hangs.
Outcome WithinTwoSeconds(const std::function<void()>& read, const std::string& fifo) {
  std::promise<std::string> result;
  auto future = result.get_future();
  std::thread reader([&] {
    try {
      read();
      result.set_value("");
    } catch (const std::exception& e) {
      result.set_value(e.what());
    }
  });
  Outcome outcome;
  outcome.returned_in_time = future.wait_for(2s) == std::future_status::ready;
  if (!outcome.returned_in_time) {
    const int writer = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (writer >= 0) ::close(writer);
  }
  reader.join();
  outcome.error = future.get();
  return outcome;
}

std::string MakeFifo(const TempDir& dir, const std::string& name) {
  const std::string path = dir.path() + "/" + name;
  EXPECT_EQ(::mkfifo(path.c_str(), 0600), 0) << path;
  return path;
}

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(ReadRegularFileTest, RefusesAFifoWithoutWaitingForAWriter) {
  TempDir dir;
  const auto fifo = MakeFifo(dir, "password");
  const auto start = std::chrono::steady_clock::now();
  auto outcome = WithinTwoSeconds([&] { ReadSecretFile(fifo); }, fifo);
  EXPECT_TRUE(outcome.returned_in_time) << "opening the FIFO waited for a writer";
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2500ms);
  EXPECT_EQ(outcome.error, "cannot read secret file " + fifo + ": is a FIFO, not a regular file");

  outcome = WithinTwoSeconds([&] { LoadConfigFile(fifo); }, fifo);
  EXPECT_TRUE(outcome.returned_in_time);
  EXPECT_EQ(outcome.error, fifo + ": cannot read config file: is a FIFO, not a regular file");
}

TEST(ReadRegularFileTest, RefusesDevicesAndDirectoriesNamingWhatTheyAre) {
  // /dev/zero never ends: read to EOF, it filled memory until bad_alloc.
  EXPECT_EQ(ErrorOf([] { ReadSecretFile("/dev/zero"); }),
            "cannot read secret file /dev/zero: is a character device, not a regular file");
  EXPECT_EQ(CheckSecretFile("/dev/zero").value_or(""),
            "cannot read secret file /dev/zero: is a character device, not a regular file");
  TempDir dir;
  EXPECT_EQ(ErrorOf([&] { ReadSecretFile(dir.path()); }),
            "cannot read secret file " + dir.path() + ": is a directory, not a regular file");
  EXPECT_EQ(ErrorOf([&] { LoadConfigFile(dir.path()); }),
            dir.path() + ": cannot read config file: is a directory, not a regular file");
  EXPECT_TRUE(Contains(ErrorOf([] { ReadSecretFile("/nonexistent/pw"); }), "No such file or directory"));
}

TEST(ReadRegularFileTest, RefusesFilesOverTheirCap) {
  EXPECT_EQ(ReadSecretFile(WriteTempFile(std::string(4096, 'p'))), std::string(4096, 'p'));
  const auto big = WriteTempFile(std::string(4097, 'p'));
  EXPECT_EQ(ErrorOf([&] { ReadSecretFile(big); }), "cannot read secret file " + big + ": is larger than 4096 bytes");

  // A JSON secret and a passfile may be longer, up to 64 KiB.
  const auto json =
      WriteTempFile("{\"username\": \"u\", \"password\": \"p\", \"x\": \"" + std::string(8000, 'x') + "\"}");
  EXPECT_EQ(ReadJsonSecret(json).password, "p");
  const auto huge_json =
      WriteTempFile("{\"username\": \"u\", \"password\": \"p\", \"x\": \"" + std::string(64 * 1024, 'x') + "\"}");
  EXPECT_TRUE(Contains(ErrorOf([&] { ReadJsonSecret(huge_json); }), "is larger than 65536 bytes"));

  // Config and collector files, up to 4 MiB.
  const auto huge_config = WriteTempFile(std::string(4 * 1024 * 1024 + 1, '#'), ".yml");
  EXPECT_EQ(ErrorOf([&] { LoadConfigFile(huge_config); }),
            huge_config + ": cannot read config file: is larger than 4194304 bytes");
  EXPECT_TRUE(LoadConfigFile(WriteTempFile(std::string(4 * 1024 * 1024, '#'), ".yml")).targets.empty());
}

TEST(ReadRegularFileTest, FollowsSymlinksAsKubernetesSecretVolumesUseThem) {
  TempDir dir;
  // What the kubelet writes: key -> ..data/key, ..data -> a timestamped directory.
  ASSERT_EQ(::mkdir((dir.path() + "/..2026_01_01").c_str(), 0700), 0);
  testing::WriteFile(dir.path() + "/..2026_01_01/password", "s3cret\n");
  ASSERT_EQ(::symlink("..2026_01_01", (dir.path() + "/..data").c_str()), 0);
  ASSERT_EQ(::symlink("..data/password", (dir.path() + "/password").c_str()), 0);
  EXPECT_EQ(ReadSecretFile(dir.path() + "/password"), "s3cret");
  // A symlink to something that is no regular file is judged by what it points to.
  ASSERT_EQ(::symlink("/dev/zero", (dir.path() + "/zero").c_str()), 0);
  EXPECT_TRUE(Contains(ErrorOf([&] { ReadSecretFile(dir.path() + "/zero"); }), "is a character device"));
}

TEST(ReadSecretFileTest, WarnsOnceAboutAFileOthersCanReadNamingFileAndModeNotContent) {
  const std::string secret = "warn-once-secret-value";
  const auto open_file = WriteTempFile(secret + "\n");
  ASSERT_EQ(::chmod(open_file.c_str(), 0644), 0);
  const auto private_file = WriteTempFile(secret + "\n");  // 0600
  // Root-owned and group-readable, as a Kubernetes secret volume (root:fsGroup 0440) hands it over: libpq's
  // exception for key files, and no warning. Only root can make such a file.
  const auto root_group_file = WriteTempFile(secret + "\n");
  ASSERT_EQ(::chmod(root_group_file.c_str(), 0640), 0);
  const bool root_owned = ::getuid() == 0;
  ::testing::internal::CaptureStderr();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(ReadSecretFile(open_file), secret);
    EXPECT_EQ(ReadSecretFile(private_file), secret);
    EXPECT_EQ(ReadSecretFile(root_group_file), secret);
  }
  const std::string log = ::testing::internal::GetCapturedStderr();
  std::size_t warnings = 0;
  for (auto at = log.find("accessible to group or others"); at != std::string::npos;
       at = log.find("accessible to group or others", at + 1)) {
    ++warnings;
  }
  EXPECT_EQ(warnings, root_owned ? 1u : 2u) << log;
  EXPECT_TRUE(Contains(log, "file=" + open_file)) << log;
  EXPECT_TRUE(Contains(log, "mode=0644")) << log;
  EXPECT_FALSE(Contains(log, private_file)) << log;
  EXPECT_EQ(Contains(log, root_group_file), !root_owned) << log;
  EXPECT_FALSE(Contains(log, secret)) << log;
}

TEST(LoadCredentialsTest, APassfileThatIsAFifoDoesNotStallLoading) {
  TempDir dir;
  const auto fifo = MakeFifo(dir, "pgpass");
  TargetConfig target;
  target.conn["passfile"] = fifo;  // no password anywhere else: pgpulse digests the passfile to notice rotation
  const auto outcome = WithinTwoSeconds([&] { LoadCredentials(target); }, fifo);
  EXPECT_TRUE(outcome.returned_in_time) << "digesting the passfile waited for a writer";
  EXPECT_EQ(outcome.error, "") << "an unusable passfile is libpq's to report, at connect";
}

TEST(LoadDirectoryTest, ACollectorFileThatIsAFifoIsAnErrorNotAStall) {
  TempDir dir;
  const auto fifo = MakeFifo(dir, "custom.yaml");
  const auto outcome = WithinTwoSeconds([&] { collector::LoadDirectory(dir.path()); }, fifo);
  EXPECT_TRUE(outcome.returned_in_time);
  EXPECT_EQ(outcome.error, fifo + ": cannot read collector file: is a FIFO, not a regular file");
}

TEST(ParseConfigTest, APasswordFileThatIsADeviceIsAnErrorAtItsLine) {
  const auto error = ErrorOf(
      [] { ParseConfig("targets:\n  - name: a\n    dsn: host=db\n    password_file: /dev/zero\n", "pgpulse.yml"); });
  EXPECT_EQ(error,
            "pgpulse.yml:4:20: targets[0].password_file: cannot read secret file /dev/zero: is a character device, "
            "not a regular file");
}

}  // namespace
}  // namespace pgpulse::config
