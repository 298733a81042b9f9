// Alerting end to end: alerts/alertmanager.example.yml through amtool and a real Alertmanager, then the shipped rule
// files in a real Prometheus that scrapes the real pgpulse and sends to that Alertmanager, whose webhooks point at a
// small HTTP receiver inside the test. Each live test induces one condition on a real primary or standby and waits
// for the named alert to reach the right receiver with the right labels.
//
// What the live copy changes, and nothing else: in copies of the rule files (alerts/*.yml with `groups:`), every
// line `for: <duration>` becomes `for: 3s` (a line rewrite; windows such as [10m] and every threshold stay as
// shipped), so a condition fires in seconds rather than minutes; in the copy of the Alertmanager example, every
// webhook URL becomes http://127.0.0.1:<receiver port>/<receiver name>, and every group_wait and group_interval 1s.
// Prometheus scrapes pgpulse and evaluates the rules every 1 s.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/e2e/held_session.h"
#include "tests/e2e/prometheus_service.h"
#include "tests/harness/exporter_process.h"
#include "tests/harness/http_client.h"
#include "tests/harness/libpq_client.h"
#include "tests/harness/listening_socket.h"
#include "tests/harness/pg_cluster.h"
#include "tests/harness/process.h"
#include "tests/harness/spawn.h"

namespace pgpulse::testing {
namespace {

namespace fs = std::filesystem;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Labels = std::map<std::string, std::string>;

constexpr const char* kAmtool = "/usr/bin/amtool";
constexpr const char* kAlertmanager = "/usr/bin/prometheus-alertmanager";
// How the live copy shortens every alert's `for:` (see the comment at the top).
constexpr const char* kShortFor = "3s";
// Generous: an alert takes about 5 s (scrape, `for: 3s`, evaluation, group_wait) on an idle machine.
constexpr auto kAlertTimeout = 60s;

const fs::path& AlertsDir() {
  static const fs::path dir = fs::path(PGPULSE_SOURCE_DIR) / "alerts";
  return dir;
}
std::string ExampleConfig() { return (AlertsDir() / "alertmanager.example.yml").string(); }

// Runs `undo` when the scope ends, also after a failed assertion, so one test's change does not leak into the next.
class Undo {
 public:
  explicit Undo(std::function<void()> undo) : undo_(std::move(undo)) {}
  ~Undo() {
    try {
      undo_();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "could not undo a test's change: " << e.what();
    }
  }
  Undo(const Undo&) = delete;
  Undo& operator=(const Undo&) = delete;

 private:
  std::function<void()> undo_;
};

// ---------------------------------------------------------------------------------------------------------------
// The test copies of the shipped files

// The rule files: every *.yml directly in alerts/ with a top-level `groups:` (the Alertmanager example has none).
std::vector<fs::path> RuleFiles() {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(AlertsDir())) {
    if (!entry.is_regular_file() || entry.path().extension() != ".yml") continue;
    if (YAML::LoadFile(entry.path().string())["groups"]) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Writes the rule files into `dir` with every `for: <duration>` line rewritten to `for: 3s`; returns how many lines
// were rewritten.
int WriteShortenedRules(const std::string& dir) {
  static const std::regex for_line(R"(^(\s*)for:\s*[0-9][0-9smhdwy]*\s*(#.*)?$)");
  int rewritten = 0;
  for (const auto& file : RuleFiles()) {
    std::istringstream in(ReadFile(file.string()));
    std::string out;
    for (std::string line; std::getline(in, line);) {
      std::smatch match;
      if (std::regex_match(line, match, for_line)) {
        line = match[1].str() + "for: " + kShortFor;
        ++rewritten;
      }
      out += line + "\n";
    }
    WriteFile(dir + "/" + file.filename().string(), out);
  }
  return rewritten;
}

void ShortenGrouping(YAML::Node route) {
  if (route["group_wait"]) route["group_wait"] = "1s";
  if (route["group_interval"]) route["group_interval"] = "1s";
  for (auto child : route["routes"]) ShortenGrouping(child);
}

// The example config with each receiver's webhooks pointed at http://127.0.0.1:<port>/<receiver name> and group_wait
// and group_interval of 1s. Fails the test if the example has no webhook to replace.
std::string TestAlertmanagerConfig(uint16_t webhook_port) {
  YAML::Node config = YAML::LoadFile(ExampleConfig());
  int replaced = 0;
  for (auto receiver : config["receivers"]) {
    for (auto webhook : receiver["webhook_configs"]) {
      webhook["url"] = "http://127.0.0.1:" + std::to_string(webhook_port) + "/" + receiver["name"].as<std::string>();
      ++replaced;
    }
  }
  EXPECT_GE(replaced, 2) << "the example has no webhook_configs to point at the test's receiver";
  ShortenGrouping(config["route"]);
  YAML::Emitter out;
  out << config;
  return std::string(out.c_str()) + "\n";
}

// ---------------------------------------------------------------------------------------------------------------
// The webhook receiver: records every request's path and body; answers 200.

class WebhookReceiver {
 public:
  struct Request {
    std::string path;
    std::string body;
  };

  WebhookReceiver() : acceptor_(io_, {asio::ip::address_v4::loopback(), 0}) {
    Accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~WebhookReceiver() {
    io_.stop();
    thread_.join();
  }
  WebhookReceiver(const WebhookReceiver&) = delete;
  WebhookReceiver& operator=(const WebhookReceiver&) = delete;

  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::vector<Request> Requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  struct Session : std::enable_shared_from_this<Session> {
    Session(asio::ip::tcp::socket socket, WebhookReceiver& owner) : stream(std::move(socket)), owner(owner) {}
    void Read() {
      stream.expires_after(10s);
      http::async_read(stream, buffer, request, [self = shared_from_this()](beast::error_code error, size_t) {
        if (error) return;  // the client closed a kept-alive connection, or timed out
        {
          std::lock_guard lock(self->owner.mutex_);
          self->owner.requests_.push_back({std::string(self->request.target()), self->request.body()});
        }
        self->response.result(http::status::ok);
        self->response.version(11);
        self->response.keep_alive(self->request.keep_alive());
        self->response.prepare_payload();
        http::async_write(self->stream, self->response, [self](beast::error_code error, size_t) {
          if (error || !self->response.keep_alive()) return;
          self->request = {};
          self->Read();
        });
      });
    }
    beast::tcp_stream stream;
    WebhookReceiver& owner;
    beast::flat_buffer buffer;
    http::request<http::string_body> request;
    http::response<http::empty_body> response;
  };

  void Accept() {
    acceptor_.async_accept([this](beast::error_code error, asio::ip::tcp::socket socket) {
      if (error) return;
      std::make_shared<Session>(std::move(socket), *this)->Read();
      Accept();
    });
  }

  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<Request> requests_;
};

// ---------------------------------------------------------------------------------------------------------------
// Prometheus and Alertmanager

Service StartAlertmanager(const std::string& config_path, const std::string& storage_dir) {
  return StartService(
      [&](uint16_t port) {
        return std::vector<std::string>{kAlertmanager, "--config.file=" + config_path, "--storage.path=" + storage_dir,
                                        "--web.listen-address=127.0.0.1:" + std::to_string(port),
                                        "--cluster.listen-address="};  // no HA gossip port
      },
      "/-/ready");
}

// True if any payload that reached `receiver` holds a firing alert whose labels include all of `labels`.
bool ReceivedAlert(const std::vector<WebhookReceiver::Request>& requests, const std::string& receiver,
                   const Labels& labels) {
  for (const auto& request : requests) {
    if (request.path != "/" + receiver) continue;
    YAML::Node payload;
    try {
      payload = YAML::Load(request.body);  // JSON is YAML
    } catch (const YAML::Exception&) {
      continue;
    }
    if (payload["receiver"].as<std::string>("") != receiver) continue;
    for (const auto& alert : payload["alerts"]) {
      if (alert["status"].as<std::string>("") != "firing") continue;
      if (std::all_of(labels.begin(), labels.end(), [&](const Labels::value_type& label) {
            return alert["labels"][label.first].as<std::string>("") == label.second;
          })) {
        return true;
      }
    }
  }
  return false;
}

std::string DescribeRequests(const std::vector<WebhookReceiver::Request>& requests) {
  std::string text;
  for (const auto& request : requests) text += "POST " + request.path + "\n" + request.body + "\n";
  return text.empty() ? "(none)\n" : text;
}

// ---------------------------------------------------------------------------------------------------------------
// The example config, offline

TEST(AlertingTest, AmtoolAcceptsTheExampleConfig) {
  const auto check = RunCommand({kAmtool, "check-config", ExampleConfig()});
  EXPECT_EQ(check.exit_code, 0) << check.output;
  EXPECT_NE(check.output.find("SUCCESS"), std::string::npos) << check.output;
  EXPECT_NE(check.output.find("2 inhibit rules"), std::string::npos) << check.output;
}

TEST(AlertingTest, SeverityRoutesCriticalToPagerWarningToTicketInfoNowhere) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"critical", "pager"}, {"warning", "ticket"}, {"info", "null"}, {"", "ticket"}};
  for (const auto& [severity, receiver] : cases) {
    SCOPED_TRACE("severity=" + severity);
    std::vector<std::string> argv = {kAmtool,
                                     "config",
                                     "routes",
                                     "test",
                                     "--config.file=" + ExampleConfig(),
                                     "--verify.receivers=" + receiver,
                                     "alertname=PgTargetDown",
                                     "cluster=main",
                                     "target=main-primary"};
    if (!severity.empty()) argv.push_back("severity=" + severity);
    const auto routed = RunCommand(argv);
    EXPECT_EQ(routed.exit_code, 0) << routed.output;
    // The receiver list is the last line (amtool warns first that --config.file wins over --alertmanager.url).
    std::string last;
    std::istringstream lines(routed.output);
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty()) last = line;
    }
    EXPECT_EQ(last, receiver) << routed.output;
  }
}

// The inhibition rules in a real Alertmanager: alerts posted to its API, and each one's inhibitedBy read back.
TEST(AlertingTest, InhibitionMutesOnlyTheDownTargetsOrPgpulsesAlerts) {
  TempDir dir;
  WebhookReceiver webhook;
  const auto config = dir.path() + "/alertmanager.yml";
  WriteFile(config, TestAlertmanagerConfig(webhook.port()));
  const auto alertmanager = StartAlertmanager(config, dir.path() + "/data");

  const Labels metrics_job = {{"instance", "pgpulse-a:9187"}, {"job", "pgpulse"}, {"cluster", "main"}};
  auto with = [](Labels labels, const Labels& more) {
    labels.insert(more.begin(), more.end());
    return labels;
  };
  struct Case {
    Labels labels;
    bool inhibited;
  };
  const std::vector<Case> cases = {
      // db1 is down: its own alerts are muted, except the one that says why.
      {with(metrics_job, {{"alertname", "PgTargetDown"}, {"target", "db1"}, {"severity", "critical"}}), false},
      {with(metrics_job, {{"alertname", "PgConnectionsHigh"}, {"target", "db1"}, {"severity", "warning"}}), true},
      {with(metrics_job, {{"alertname", "PgpulseAuthFailures"}, {"target", "db1"}, {"severity", "warning"}}), false},
      // Another target of the same pgpulse, and the cluster-level alert of db1's cluster, are not.
      {with(metrics_job, {{"alertname", "PgConnectionsHigh"}, {"target", "db2"}, {"severity", "warning"}}), false},
      {{{"alertname", "PgClusterNoPrimary"}, {"cluster", "main"}, {"severity", "critical"}}, false},
      // pgpulse-b cannot be scraped: everything from its /metrics scrape is muted.
      {{{"alertname", "PgpulseDown"}, {"instance", "pgpulse-b:9187"}, {"job", "pgpulse"}, {"severity", "critical"}},
       false},
      {{{"alertname", "PgSequenceExhaustionImminent"},
        {"instance", "pgpulse-b:9187"},
        {"job", "pgpulse"},
        {"target", "db3"},
        {"datname", "app"},
        {"severity", "critical"}},
       true},
      // A /probe job: the instance is the target's name, so only that target's alerts are muted.
      {{{"alertname", "PgpulseDown"}, {"instance", "db4"}, {"job", "pgpulse-probe"}, {"severity", "critical"}}, false},
      {{{"alertname", "PgConnectionsHigh"},
        {"instance", "db4"},
        {"job", "pgpulse-probe"},
        {"target", "db4"},
        {"severity", "warning"}},
       true},
      {{{"alertname", "PgConnectionsHigh"},
        {"instance", "db5"},
        {"job", "pgpulse-probe"},
        {"target", "db5"},
        {"severity", "warning"}},
       false},
  };
  std::string body = "[";
  for (const auto& c : cases) {
    std::string labels;
    for (const auto& [name, value] : c.labels)
      labels += (labels.empty() ? "" : ",") + ("\"" + name + "\":\"" + value + "\"");
    body += (body.size() > 1 ? "," : "") + ("{\"labels\":{" + labels + "}}");
  }
  body += "]";
  const auto posted =
      HttpRequest("POST", alertmanager.port, "/api/v2/alerts", body, {{"Content-Type", "application/json"}});
  ASSERT_EQ(posted.status, 200) << posted.body;

  // The inhibitor learns of new alerts asynchronously: poll until every expected inhibition shows.
  auto key = [](const Labels& labels) {
    auto get = [&](const char* name) { return labels.count(name) ? labels.at(name) : std::string(); };
    return get("alertname") + " target=" + get("target") + " instance=" + get("instance");
  };
  std::map<std::string, bool> want, got;  // inhibited, by key
  for (const auto& c : cases) want[key(c.labels)] = c.inhibited;
  std::string last;
  const auto deadline = Clock::now() + 20s;
  while (Clock::now() < deadline) {
    last = HttpGet(alertmanager.port, "/api/v2/alerts").body;
    got.clear();
    for (const auto& alert : YAML::Load(last)) {
      Labels labels;
      for (const auto& label : alert["labels"]) labels[label.first.as<std::string>()] = label.second.as<std::string>();
      got[key(labels)] = alert["status"]["inhibitedBy"].size() > 0;
    }
    if (got == want) break;
    std::this_thread::sleep_for(200ms);
  }
  for (const auto& [alert, inhibited] : want) {
    EXPECT_TRUE(got.count(alert)) << alert << " is not in Alertmanager";
    if (got.count(alert)) {
      EXPECT_EQ(got[alert], inhibited) << alert;
    }
  }
  if (HasFailure()) ADD_FAILURE() << "Alertmanager's alerts:\n" << last << "\n" << Tail(alertmanager.process->Output());
}

// ---------------------------------------------------------------------------------------------------------------
// Live: pgpulse -> Prometheus (the shipped rules) -> Alertmanager (the example) -> webhook

// One dedicated primary and standby (their connection count is filled, the standby stopped and the reporting
// role's password changed, so the shared cluster is left alone), pgpulse watching both as targets of one cluster,
// and the alerting chain, for the whole suite.
class AlertingLiveTest : public ::testing::Test {
 protected:
  static constexpr const char* kCluster = "alerting";

  static void SetUpTestSuite() {
    PgClusterOptions options;
    options.with_standby = true;
    // Small enough that filling 85% of it costs a few dozen logins.
    options.max_connections = 50;
    cluster_ = new PgCluster(options);
    dir_ = new TempDir();
    webhook_ = new WebhookReceiver();

    const std::string password_file = dir_->path() + "/reporting.password";
    WriteFile(password_file, cluster_->reporting_password() + "\n");
    std::string config = "targets:\n";
    for (auto [name, server] : {std::pair{"primary", &cluster_->primary()}, {"standby", &cluster_->standby()}}) {
      config += std::string("  - name: ") + name + "\n    dsn: '" + server->DsnNoPassword(PgCluster::kReportingUser) +
                "'\n    password_file: " + password_file + "\n    labels: {cluster: " + kCluster + "}\n";
    }
    // sequences is database-scope with a 5 min TTL: 1 s shows a new sequence at once, and makes pgpulse log in to
    // the databases every second (with 4 databases and 2 database connections none stays open), so a changed
    // password is noticed at once.
    config += "collectors:\n  sequences: {ttl: 1s}\n";
    WriteFile(dir_->path() + "/pgpulse.yml", config);
    exporter_ = new ExporterProcess({"--config.file=" + dir_->path() + "/pgpulse.yml"});

    fs::create_directories(dir_->path() + "/rules");
    const int rewritten = WriteShortenedRules(dir_->path() + "/rules");
    ASSERT_GT(rewritten, 10) << "no `for:` was shortened; did the rule files' layout change?";
    WriteFile(dir_->path() + "/alertmanager.yml", TestAlertmanagerConfig(webhook_->port()));
    alertmanager_ = new Service(StartAlertmanager(dir_->path() + "/alertmanager.yml", dir_->path() + "/am-data"));

    WriteFile(dir_->path() + "/prometheus.yml",
              "global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}\n"
              "rule_files: ['" +
                  dir_->path() +
                  "/rules/*.yml']\n"
                  "alerting:\n"
                  "  alertmanagers: [{static_configs: [{targets: ['127.0.0.1:" +
                  std::to_string(alertmanager_->port) +
                  "']}]}]\n"
                  "scrape_configs:\n"
                  "  - job_name: pgpulse\n"
                  "    static_configs: [{targets: ['127.0.0.1:" +
                  std::to_string(exporter_->port()) + "']}]\n");
    prometheus_ = new Service(StartPrometheus(dir_->path() + "/prometheus.yml", dir_->path() + "/tsdb"));
    // Prometheus has both targets' pg_up = 1, so the rules see a healthy baseline before a test breaks something.
    const auto deadline = Clock::now() + 30s;
    std::string last;
    while (true) {
      last = HttpGet(prometheus_->port, "/api/v1/query?query=" + PercentEncode("count(pg_up == 1)")).body;
      if (last.find("\"value\":[") != std::string::npos && last.find(",\"2\"]") != std::string::npos) break;
      ASSERT_LT(Clock::now(), deadline) << "Prometheus never saw both targets up: " << last << "\n"
                                        << Tail(exporter_->process().Output());
      std::this_thread::sleep_for(200ms);
    }
    ready_ = true;
  }

  static void TearDownTestSuite() {
    delete prometheus_;  // first, so nothing sends to a stopped Alertmanager
    delete alertmanager_;
    delete exporter_;
    delete webhook_;
    delete cluster_;
    delete dir_;
    prometheus_ = alertmanager_ = nullptr;
    exporter_ = nullptr;
    webhook_ = nullptr;
    cluster_ = nullptr;
    dir_ = nullptr;
    ready_ = false;
  }

  void SetUp() override {
    if (!ready_) GTEST_SKIP() << "the suite's setup failed";
  }

  static PgServer& primary() { return cluster_->primary(); }

  // Waits until a firing alert with all of `labels` (plus cluster) reaches `receiver`'s webhook; on timeout, fails
  // with what the webhook got and what Prometheus and Alertmanager hold.
  static void ExpectAlert(const std::string& receiver, Labels labels) {
    labels["cluster"] = kCluster;
    const auto started = Clock::now();
    while (!ReceivedAlert(webhook_->Requests(), receiver, labels)) {
      if (Clock::now() - started > kAlertTimeout) {
        std::string wanted;
        for (const auto& [name, value] : labels) wanted += name + "=" + value + " ";
        ADD_FAILURE() << "no firing alert {" << wanted << "} reached receiver " << receiver << " within "
                      << kAlertTimeout.count() << " s\n--- webhook payloads:\n"
                      << Tail(DescribeRequests(webhook_->Requests()), 20000) << "--- Prometheus /api/v1/alerts:\n"
                      << Tail(HttpGet(prometheus_->port, "/api/v1/alerts").body, 20000)
                      << "\n--- Alertmanager /api/v2/alerts:\n"
                      << Tail(HttpGet(alertmanager_->port, "/api/v2/alerts").body, 20000)
                      << "\n--- Prometheus output:\n"
                      << Tail(prometheus_->process->Output()) << "\n--- Alertmanager output:\n"
                      << Tail(alertmanager_->process->Output()) << "\n--- pgpulse output:\n"
                      << Tail(exporter_->process().Output());
        return;
      }
      std::this_thread::sleep_for(200ms);
    }
    const auto seconds = std::chrono::duration<double>(Clock::now() - started).count();
    ::testing::Test::RecordProperty("alert_seconds", std::to_string(std::lround(seconds)));
  }

  static inline PgCluster* cluster_ = nullptr;
  static inline TempDir* dir_ = nullptr;
  static inline WebhookReceiver* webhook_ = nullptr;
  static inline ExporterProcess* exporter_ = nullptr;
  static inline Service* alertmanager_ = nullptr;
  static inline Service* prometheus_ = nullptr;
  static inline bool ready_ = false;
};

TEST_F(AlertingLiveTest, PasswordExpiringInTwoDaysPages) {
  Undo drop([] { primary().Exec("postgres", "DROP ROLE IF EXISTS alert_expiring"); });
  const auto until = primary().QueryValue("postgres", "SELECT (now() + interval '2 days')::text");
  primary().Exec("postgres",
                 "CREATE ROLE alert_expiring LOGIN PASSWORD 'expiring-secret' VALID UNTIL " + QuoteSqlLiteral(until));
  ExpectAlert("pager", {{"alertname", "PgRolePasswordExpiringImminent"},
                        {"severity", "critical"},
                        {"target", "primary"},
                        {"rolname", "alert_expiring"}});
}

// Client sessions above 85% of the usable connections (max_connections less the reserved slots), below the 95% of
// PgConnectionsNearlyExhausted, counted from the server's own settings.
TEST_F(AlertingLiveTest, ConnectionsAbove85PercentOpenATicket) {
  const auto settings = primary().Query(
      "postgres",
      "SELECT current_setting('max_connections')::int, current_setting('superuser_reserved_connections')::int,"
      " coalesce(current_setting('reserved_connections', true)::int, 0)");
  const int usable =
      std::stoi(*settings.at(0).at(0)) - std::stoi(*settings.at(0).at(1)) - std::stoi(*settings.at(0).at(2));
  // Sessions that come and go besides ours: pgpulse's (its own connection always, up to 3 in all) and this test's
  // queries (one at a time). So the total is held + 1 to held + 4.
  const int lowest_above_85 = static_cast<int>(std::floor(0.85 * usable)) + 1;
  const int highest_not_above_95 = static_cast<int>(std::floor(0.95 * usable));
  const int held = lowest_above_85 - 1;
  ASSERT_LE(held + 4, highest_not_above_95) << "usable " << usable << ": too few connections for a stable count";

  std::vector<std::unique_ptr<HeldSession>> sessions;
  for (int i = 0; i < held; ++i) {
    sessions.push_back(std::make_unique<HeldSession>(
        primary().Dsn(PgCluster::kAppUser, cluster_->app_password(), "cafe") + " application_name=alerting_test"));
  }
  ExpectAlert("ticket", {{"alertname", "PgConnectionsHigh"}, {"severity", "warning"}, {"target", "primary"}});
}

TEST_F(AlertingLiveTest, StandbyStoppedPagesTargetDown) {
  Undo restart([] {
    cluster_->standby().Start();
    cluster_->WaitForStreaming();
  });
  cluster_->standby().Stop("fast");
  ExpectAlert("pager", {{"alertname", "PgTargetDown"}, {"severity", "critical"}, {"target", "standby"}});
}

TEST_F(AlertingLiveTest, SequenceAt95PercentPages) {
  Undo drop([] { primary().Exec("cafe", "DROP SEQUENCE IF EXISTS alert_ids"); });
  // (96 - 1) / (100 - 1) = 96% of the range used.
  primary().Exec("cafe",
                 "CREATE SEQUENCE alert_ids MAXVALUE 100; SELECT setval('alert_ids', 96);"
                 "GRANT SELECT ON SEQUENCE alert_ids TO reporting;");
  ExpectAlert("pager", {{"alertname", "PgSequenceExhaustionImminent"},
                        {"severity", "critical"},
                        {"target", "primary"},
                        {"datname", "cafe"},
                        {"schemaname", "public"},
                        {"sequencename", "alert_ids"}});
}

// The reporting role's password changes in the database before its file: pgpulse's own connection stays (pg_up
// stays 1), and its next database visits are refused.
TEST_F(AlertingLiveTest, PasswordChangedBeforeTheFileOpensATicket) {
  Undo restore([] {
    primary().Exec("postgres", "ALTER ROLE reporting PASSWORD " + QuoteSqlLiteral(cluster_->reporting_password()));
  });
  primary().Exec("postgres", "ALTER ROLE reporting PASSWORD 'changed-in-the-database-only'");
  ExpectAlert("ticket", {{"alertname", "PgpulseAuthFailures"}, {"severity", "warning"}, {"target", "primary"}});
}

}  // namespace
}  // namespace pgpulse::testing
