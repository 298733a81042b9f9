// The alert rules against the real exporter, on every PostgreSQL major of the matrix (scripts/test-matrix.sh runs
// CollectorsTest.*): every metric an alert or recording rule reads is one pgpulse exports there, once the conditions
// that make each series appear exist; and every SQL block of the runbooks runs as the reporting role (pg_monitor, not
// a superuser) in a read-only transaction.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "tests/e2e/collectors_fixture.h"

namespace pgpulse::testing {
namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------------------------
// Which metrics a PromQL expression reads.

bool IsNameStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':'; }
bool IsNameChar(char c) { return IsNameStart(c) || std::isdigit(static_cast<unsigned char>(c)); }
bool IsSpace(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// Words that are PromQL syntax, not series (the lexer matches them in any case): binary and set operators, modifiers,
// aggregation operators (`sum without (l) (x)` has no parenthesis right after `sum`) and the special numbers.
bool IsKeyword(const std::string& word) {
  static const std::set<std::string> kKeywords = {
      "and",          "or",       "unless", "atan2",       "bool",   "offset", "sum",  "avg",
      "count",        "min",      "max",    "group",       "stddev", "stdvar", "topk", "bottomk",
      "count_values", "quantile", "limitk", "limit_ratio", "inf",    "nan"};
  return kKeywords.count(Lower(word)) > 0;
}

// Keywords followed by a list of label names, not of series.
bool TakesLabelList(const std::string& word) {
  static const std::set<std::string> kWords = {"by", "without", "on", "ignoring", "group_left", "group_right"};
  return kWords.count(Lower(word)) > 0;
}

// Index just past the string literal opening at `i` ("...", '...' with backslash escapes, `...` raw).
size_t SkipString(std::string_view expr, size_t i) {
  const char quote = expr[i];
  for (++i; i < expr.size(); ++i) {
    if (expr[i] == '\\' && quote != '`') {
      ++i;
    } else if (expr[i] == quote) {
      return i + 1;
    }
  }
  throw std::invalid_argument("unterminated string literal in: " + std::string(expr));
}

// Index just past the bracket that closes the one at `i` ({...} matchers, [...] ranges and subqueries, (...) label
// lists), strings inside included.
size_t SkipBracketed(std::string_view expr, size_t i) {
  const char open = expr[i];
  const char close = open == '{' ? '}' : open == '[' ? ']' : ')';
  int depth = 0;
  while (i < expr.size()) {
    const char c = expr[i];
    if (c == '"' || c == '\'' || c == '`') {
      i = SkipString(expr, i);
      continue;
    }
    if (c == open) {
      ++depth;
    } else if (c == close && --depth == 0) {
      return i + 1;
    }
    ++i;
  }
  throw std::invalid_argument(std::string("unclosed ") + open + " in: " + std::string(expr));
}

// Index just past the number or duration at `i`: 42, 1.5, .5, 1e9, 1.5e-3, 0x1F, 5m, 1h30m.
size_t SkipNumber(std::string_view expr, size_t i) {
  const bool hex = expr.size() > i + 1 && expr[i] == '0' && (expr[i + 1] == 'x' || expr[i + 1] == 'X');
  size_t end = i;
  while (end < expr.size()) {
    const char c = expr[end];
    const bool exponent_sign =
        (c == '+' || c == '-') && !hex && end > i && (expr[end - 1] == 'e' || expr[end - 1] == 'E');
    if (!IsNameChar(c) && c != '.' && !exponent_sign) break;
    ++end;
  }
  return end;
}

// The series names `expr` reads: identifiers other than function names (followed by "("), keywords, and the label
// names of {...} matchers and of the lists after by, without, on, ignoring, group_left and group_right. Strings,
// ranges, subqueries, numbers, durations and # comments are skipped. Throws std::invalid_argument on an unterminated
// string or bracket.
std::set<std::string> PromqlMetricNames(std::string_view expr) {
  std::set<std::string> names;
  size_t i = 0;
  while (i < expr.size()) {
    const char c = expr[i];
    if (c == '#') {
      while (i < expr.size() && expr[i] != '\n') ++i;
    } else if (c == '"' || c == '\'' || c == '`') {
      i = SkipString(expr, i);
    } else if (c == '{' || c == '[') {
      i = SkipBracketed(expr, i);
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               (c == '.' && i + 1 < expr.size() && std::isdigit(static_cast<unsigned char>(expr[i + 1])))) {
      i = SkipNumber(expr, i);
    } else if (IsNameStart(c)) {
      size_t end = i;
      while (end < expr.size() && IsNameChar(expr[end])) ++end;
      const std::string word(expr.substr(i, end - i));
      size_t next = end;
      while (next < expr.size() && IsSpace(expr[next])) ++next;
      const bool call = next < expr.size() && expr[next] == '(';
      i = end;
      if (TakesLabelList(word)) {
        if (call) i = SkipBracketed(expr, next);
      } else if (!call && !IsKeyword(word)) {
        names.insert(word);
      }
    } else {
      ++i;  // operators, parentheses, commas, @, white space
    }
  }
  return names;
}

// ---------------------------------------------------------------------------------------------------------------
// The rule files.

struct Rule {
  std::string file;  // e.g. capacity.yml
  std::string name;  // the alert, or the series a recording rule records
  bool alert = false;
  std::string expr;
};

const fs::path& AlertsDir() {
  static const fs::path dir = fs::path(PGPULSE_SOURCE_DIR) / "alerts";
  return dir;
}

// Every rule of every alerts/*.yml with a top-level `groups:`.
std::vector<Rule> LoadRules() {
  std::vector<fs::path> paths;
  for (const auto& entry : fs::directory_iterator(AlertsDir())) {
    if (entry.is_regular_file() && entry.path().extension() == ".yml") paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());
  std::vector<Rule> rules;
  for (const auto& path : paths) {
    const YAML::Node doc = YAML::LoadFile(path.string());
    if (!doc["groups"]) continue;
    for (const auto& group : doc["groups"]) {
      for (const auto& node : group["rules"]) {
        Rule rule;
        rule.file = path.filename().string();
        rule.alert = static_cast<bool>(node["alert"]);
        rule.name = node[rule.alert ? "alert" : "record"].as<std::string>();
        rule.expr = node["expr"].as<std::string>();
        rules.push_back(std::move(rule));
      }
    }
  }
  return rules;
}

// The exported series `expr` reads in the end: names defined by a recording rule are replaced by what that rule
// reads, recursively (a name recorded by several rules reads what all of them read).
std::set<std::string> ReadSeries(const std::string& expr, const std::vector<Rule>& rules,
                                 std::set<std::string> resolving = {}) {
  std::set<std::string> series;
  for (const auto& name : PromqlMetricNames(expr)) {
    bool recorded = false;
    for (const auto& rule : rules) {
      if (rule.alert || rule.name != name) continue;
      recorded = true;
      if (!resolving.insert(name).second) throw std::invalid_argument("recording rules loop through " + name);
      series.merge(ReadSeries(rule.expr, rules, resolving));
      resolving.erase(name);
    }
    if (!recorded) series.insert(name);
  }
  return series;
}

// Series Prometheus makes itself.
bool FromPrometheus(const std::string& name) { return name == "up" || name == "ALERTS"; }

// Series that a PostgreSQL major introduced, which rules read only with an `or` fallback, so that they work before
// it. Each is checked like any other from its major on, and every rule that reads it directly must say `or`.
struct AddedIn {
  const char* series;
  int major;
};
constexpr AddedIn kAddedIn[] = {
    // reserved_connections came in 16; pg:connections_usable counts it as 0 before.
    {"pg_settings_reserved_connections", 16},
};

// ---------------------------------------------------------------------------------------------------------------
// The runbooks' SQL.

struct SqlBlock {
  std::string file;  // e.g. PgStorageHigh.md
  int line = 0;      // of the opening fence
  std::string sql;
};

std::string Trimmed(const std::string& line) {
  const auto first = line.find_first_not_of(" \t");
  return first == std::string::npos ? "" : line.substr(first);
}

// A fence's info string ("sql" of ```sql), or nullopt if `text` (trimmed) is no fence.
std::optional<std::string> FenceInfo(const std::string& text) {
  if (text.rfind("```", 0) != 0) return std::nullopt;
  const auto after = text.find_first_not_of('`');
  std::istringstream info(after == std::string::npos ? "" : text.substr(after));
  std::string word;
  info >> word;
  return Lower(word);
}

// Every ```sql fenced block of a Markdown text (indented ones, in lists, too).
std::vector<SqlBlock> SqlBlocks(const std::string& file, const std::string& markdown) {
  std::vector<SqlBlock> blocks;
  std::istringstream in(markdown);
  std::optional<SqlBlock> open;
  bool other_fence = false;  // inside a fence of another language
  int number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    const auto fence = FenceInfo(Trimmed(line));
    const bool closing = fence && fence->empty();  // a closing fence has no info string
    if (open) {
      if (closing) {
        blocks.push_back(std::move(*open));
        open.reset();
      } else {
        open->sql += line + "\n";
      }
    } else if (other_fence) {
      other_fence = !closing;
    } else if (fence) {
      if (*fence == "sql") {
        open = SqlBlock{file, number, ""};
      } else {
        other_fence = true;
      }
    }
  }
  if (open) blocks.push_back(std::move(*open));  // unclosed: still SQL the reader would copy
  return blocks;
}

// Runs `sql` in a read-only transaction of a new session; "" if it succeeded, else the server's message.
std::string RunReadOnly(const std::string& dsn, const std::string& sql) {
  try {
    HeldSession session(dsn);
    session.Exec("SET default_transaction_read_only = on; SET statement_timeout = '30s'");
    session.Exec("BEGIN READ ONLY");
    session.Exec(sql);
    session.Exec("ROLLBACK");
  } catch (const std::runtime_error& error) {
    return error.what();
  }
  return "";
}

// ---------------------------------------------------------------------------------------------------------------
// The tokenizer alone.

TEST(PromqlMetricNamesTest, SkipsFunctionsKeywordsAndLabelLists) {
  EXPECT_EQ(PromqlMetricNames("sum without (datname, state) (pg_stat_activity_count{state=\"idle\", datname=~\"a|b\"})"
                              " / on (target) group_left (rolname) pg:connections_usable"),
            (std::set<std::string>{"pg_stat_activity_count", "pg:connections_usable"}));
  EXPECT_EQ(PromqlMetricNames("count by (cluster) (pg_up{cluster!=\"\"})\n  unless count BY (cluster)"
                              " (pg_replication_is_replica == 0)"),
            (std::set<std::string>{"pg_up", "pg_replication_is_replica"}));
  EXPECT_EQ(PromqlMetricNames("a > ignoring (x) group_right () b and c or d unless e atan2 f"),
            (std::set<std::string>{"a", "b", "c", "d", "e", "f"}));
  EXPECT_EQ(PromqlMetricNames("topk(5, delta(x[1h])) + quantile (0.9, y) + count_values(\"v\", z)"),
            (std::set<std::string>{"x", "y", "z"}));
  EXPECT_EQ(PromqlMetricNames("time() - vector(7 * 86400) + scalar (absent(up{job=~\"pgpulse.*\"}))"),
            (std::set<std::string>{"up"}));
}

TEST(PromqlMetricNamesTest, SkipsStringsNumbersDurationsAndRanges) {
  EXPECT_EQ(PromqlMetricNames("label_replace(x, \"rolname\", \"$1\", \"usename\", \"(.+) or (y)\")"),
            (std::set<std::string>{"x"}));
  EXPECT_EQ(PromqlMetricNames("rate(a_total[5m:30s] offset 1h30m) > 1e9 and b > 0x1F or c < 1.5e-3 unless d > bool .5"
                              " or e @ end() > Inf or f != NaN"),
            (std::set<std::string>{"a_total", "b", "c", "d", "e", "f"}));
  EXPECT_EQ(PromqlMetricNames("up{job=~'pg\\'}{pulse', env=`a}b\\`} == 0 # a comment naming not_a_metric\n or z"),
            (std::set<std::string>{"up", "z"}));
  EXPECT_EQ(PromqlMetricNames("predict_linear(pg:storage_used_bytes[6h], scalar(pgpulse:threshold:horizon))"),
            (std::set<std::string>{"pg:storage_used_bytes", "pgpulse:threshold:horizon"}));
  EXPECT_EQ(PromqlMetricNames("-x_total offset -5m * 2e+3"), (std::set<std::string>{"x_total"}));
  EXPECT_THROW(PromqlMetricNames("x{a=\"b}"), std::invalid_argument);
  EXPECT_THROW(PromqlMetricNames("rate(x[5m)"), std::invalid_argument);
}

TEST(PromqlMetricNamesTest, RecordedNamesResolveToWhatTheirRulesRead) {
  const std::vector<Rule> rules = {{"r.yml", "level:a", false, "b / level:c"},
                                   {"r.yml", "level:c", false, "sum without (x) (d) or vector(0)"},
                                   {"r.yml", "level:c", false, "e"},
                                   {"r.yml", "Alert", true, "level:a > 1"}};
  EXPECT_EQ(ReadSeries("level:a > on () group_left () f", rules), (std::set<std::string>{"b", "d", "e", "f"}));
  const std::vector<Rule> loop = {{"r.yml", "level:a", false, "level:b"}, {"r.yml", "level:b", false, "level:a"}};
  EXPECT_THROW(ReadSeries("level:a", loop), std::invalid_argument);
}

TEST(PromqlMetricNamesTest, FindsSqlFencesWithTheirLines) {
  const auto blocks = SqlBlocks("X.md",
                                "# X\n```text\n```sql inside text\n```\n1. Step:\n   ```sql\n   SELECT 1;\n   ```\n"
                                "```SQL\nSELECT 2;\n\nSELECT 3;\n```\n```bash\npsql\n```\n");
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(blocks[0].line, 6);
  EXPECT_EQ(blocks[0].sql, "   SELECT 1;\n");
  EXPECT_EQ(blocks[1].line, 9);
  EXPECT_EQ(blocks[1].sql, "SELECT 2;\n\nSELECT 3;\n");
}

// ---------------------------------------------------------------------------------------------------------------
// Against the servers.

int ServerMajor(const PgServer& server) {
  return std::stoi(server.QueryValue("postgres", "SHOW server_version_num")) / 10000;
}

// The conditions under which every series the rules read exists, made on the shared servers and undone when the
// object goes. Made once, in the constructor; BeforeScrape() renews what fades within seconds.
//   - a standby streaming through its slot (the harness's): pg_stat_replication and the slot on the primary, the WAL
//     receiver and replay lag on the standby; data checksums on and WAL archiving (the harness's shared cluster);
//   - a login role with VALID UNTIL (its expiry), a session of app_user idle in a transaction (a role's oldest
//     session, the idle-in-transaction age);
//   - in cafe, a table vacuumed by hand (last_vacuum) and one that autovacuum vacuumed (last_autovacuum): its
//     thresholds are 0 and autovacuum_naptime is 1 s until it has;
//   - a WAL segment switched and archived (the archiver's last archive age);
//   - used sequences in the service databases and storage_limit_bytes come with the CollectorsTest fixture;
//   - a second exporter at the collectors' default ttls (the fixture's has ttl 0 s): the ttls and cache ages.
class AlertConditions {
 public:
  explicit AlertConditions(PgCluster& cluster) : cluster_(cluster) {
    auto& primary = cluster_.primary();
    cluster_.WaitForStreaming();
    primary.Exec("postgres",
                 "SET client_min_messages = warning; DROP ROLE IF EXISTS alert_expiring;"
                 "DO $$ BEGIN EXECUTE format('CREATE ROLE alert_expiring LOGIN VALID UNTIL %L',"
                 " now() + interval '10 days'); END $$");
    undo_.push_back(std::make_unique<Undo>([&primary] { primary.Exec("postgres", "DROP ROLE alert_expiring"); }));

    primary.Exec("cafe",
                 "SET client_min_messages = warning; DROP TABLE IF EXISTS alert_vacuumed, alert_autovacuumed;"
                 "CREATE TABLE alert_vacuumed (n int);"
                 "CREATE TABLE alert_autovacuumed (n int)"
                 " WITH (autovacuum_vacuum_threshold = 0, autovacuum_vacuum_scale_factor = 0);"
                 "INSERT INTO alert_vacuumed SELECT generate_series(1, 100);"
                 "INSERT INTO alert_autovacuumed SELECT generate_series(1, 100);");
    undo_.push_back(std::make_unique<Undo>(
        [&primary] { primary.Exec("cafe", "DROP TABLE IF EXISTS alert_vacuumed, alert_autovacuumed"); }));
    primary.Exec("cafe", "VACUUM alert_vacuumed");  // not in a multi-statement string: VACUUM runs alone
    {
      SystemSetting naptime(primary, "autovacuum_naptime", "1s");
      primary.Exec("cafe", "DELETE FROM alert_autovacuumed");
      autovacuumed_ = WaitUntil(
          primary, "cafe",
          "SELECT last_autovacuum IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'alert_autovacuumed'", 90s);
    }

    const std::string archived = primary.QueryValue("postgres", "SELECT archived_count FROM pg_stat_archiver");
    primary.Exec("postgres",
                 "SET client_min_messages = warning; CREATE TABLE IF NOT EXISTS replication_probe (n bigint);"
                 "INSERT INTO replication_probe VALUES (0)");
    primary.Exec("postgres", "SELECT pg_switch_wal()");
    archived_ = WaitUntil(primary, "postgres", "SELECT archived_count > " + archived + " FROM pg_stat_archiver", 30s);

    idle_in_transaction_ =
        std::make_unique<HeldSession>(primary.Dsn(PgCluster::kAppUser, cluster_.app_password(), "cafe"));
    idle_in_transaction_->Exec("BEGIN; SELECT 1");

    // The fixture's exporter sets every cached collector's ttl to 0 s; this one keeps the collectors' own.
    const auto config = WriteTempFile(PrimaryAndStandbyTargets(cluster_), ".yml");
    default_ttls_ = std::make_unique<ExporterProcess>(std::vector<std::string>{"--config.file=" + config});
  }

  ~AlertConditions() {
    default_ttls_.reset();
    idle_in_transaction_.reset();
    while (!undo_.empty()) undo_.pop_back();  // in reverse order
  }

  // /metrics of the exporter with the collectors' own ttls: the second scrape serves cached results.
  std::string ScrapeAtDefaultTtls() const {
    auto response = default_ttls_->Get("/metrics");
    EXPECT_EQ(response.status, 200);
    return response.body;
  }

  bool autovacuumed() const { return autovacuumed_; }
  bool archived() const { return archived_; }

  // WAL for the standby to replay: the primary shows replay lag once the standby has replayed new WAL, and forgets
  // it when the standby reports being caught up twice in a row (at most one wal_receiver_status_interval, 10 s, later).
  // remote_apply makes the standby report as soon as it has replayed the commit (with no synchronous standby
  // configured, the commit does not wait). True once the lag shows.
  bool BeforeScrape() {
    auto& primary = cluster_.primary();
    for (int attempt = 0; attempt < 10; ++attempt) {
      primary.Exec("postgres", "SET synchronous_commit = remote_apply; INSERT INTO replication_probe VALUES (1)");
      if (WaitUntil(primary, "postgres",
                    "SELECT coalesce(bool_and(replay_lag IS NOT NULL), false) FROM pg_stat_replication", 3s)) {
        return true;
      }
    }
    return false;
  }

 private:
  PgCluster& cluster_;
  std::vector<std::unique_ptr<Undo>> undo_;
  std::unique_ptr<HeldSession> idle_in_transaction_;
  std::unique_ptr<ExporterProcess> default_ttls_;
  bool autovacuumed_ = false;
  bool archived_ = false;
};

// Metric name -> the targets whose series have it ("" for pgpulse's own series without a target), from /metrics.
using Exported = std::map<std::string, std::set<std::string>>;

void AddExported(const std::string& body, Exported& exported) {
  for (const auto& sample : ParseSamples(body)) {
    const auto target = sample.labels.find("target");
    const std::string name = target == sample.labels.end() ? "" : target->second;
    if (name == "" || name == "primary" || name == "standby") exported[sample.name].insert(name);
  }
}

bool ExportedOn(const Exported& exported, const std::string& series, const std::string& target) {
  const auto it = exported.find(series);
  return FromPrometheus(series) || (it != exported.end() && (it->second.count(target) || it->second.count("")));
}

TEST_F(CollectorsTest, AlertRulesReadOnlySeriesThatPgpulseExports) {
  const auto rules = LoadRules();
  ASSERT_GT(rules.size(), 20u);
  const int major = ServerMajor(cluster.primary());
  std::set<std::string> wanted;
  for (const auto& rule : rules) wanted.merge(ReadSeries(rule.expr, rules));
  auto missing = [&wanted, major](const Exported& exported) {
    std::set<std::string> names;
    for (const auto& series : wanted) {
      if (exported.count(series) || FromPrometheus(series)) continue;
      const auto added = std::find_if(std::begin(kAddedIn), std::end(kAddedIn),
                                      [&series](const AddedIn& a) { return series == a.series; });
      if (added != std::end(kAddedIn) && major < added->major) continue;
      names.insert(series);
    }
    return names;
  };

  AlertConditions conditions(cluster);
  EXPECT_TRUE(conditions.autovacuumed()) << "autovacuum did not vacuum cafe.alert_autovacuumed within 90 s";
  EXPECT_TRUE(conditions.archived()) << "no WAL segment was archived within 30 s of pg_switch_wal()";
  // Several scrapes of both exporters: the second serves cached results (their cache age), and replay lag comes and
  // goes.
  Exported exported;
  int lagging = 0;  // scrapes made while the primary showed replay lag
  for (int scrape = 0; scrape < 4 && (scrape < 2 || !missing(exported).empty()); ++scrape) {
    lagging += conditions.BeforeScrape();
    AddExported(Scrape(), exported);
    AddExported(conditions.ScrapeAtDefaultTtls(), exported);
  }

  for (const auto& series : missing(exported)) {
    std::string readers;
    for (const auto& rule : rules) {
      if (ReadSeries(rule.expr, rules).count(series)) {
        readers +=
            std::string("\n  ") + (rule.alert ? "alert " : "record ") + rule.name + " (alerts/" + rule.file + ")";
      }
    }
    ADD_FAILURE() << series << " is not exported on PostgreSQL " << major
                  << " (primary or standby), read by:" << readers << "\n(" << lagging
                  << " scrape(s) made while the primary showed replay lag)";
  }
  for (const auto& added : kAddedIn) {
    for (const auto& rule : rules) {
      if (PromqlMetricNames(rule.expr).count(added.series) == 0) continue;
      EXPECT_TRUE(std::regex_search(rule.expr, std::regex("\\bor\\b")))
          << rule.name << " (alerts/" << rule.file << ") reads " << added.series << ", which PostgreSQL " << added.major
          << " introduced, without an `or` fallback for older servers";
    }
  }
}

// The alerts that can fire on the standby: none of the series they read is one the primary exports and the standby
// does not (a series missing on both, for want of the conditions that make it, rules nothing out).
std::set<std::string> AlertsOnTheStandby(const std::vector<Rule>& rules, const Exported& exported) {
  std::set<std::string> alerts;
  for (const auto& rule : rules) {
    if (!rule.alert) continue;
    const auto series = ReadSeries(rule.expr, rules);
    if (std::none_of(series.begin(), series.end(), [&exported](const std::string& name) {
          return ExportedOn(exported, name, "primary") && !ExportedOn(exported, name, "standby");
        })) {
      alerts.insert(rule.name);
    }
  }
  return alerts;
}

TEST_F(CollectorsTest, AlertRunbookSqlRunsReadOnlyAsTheReportingRole) {
  std::vector<fs::path> runbooks;
  if (fs::is_directory(AlertsDir() / "runbooks")) {
    for (const auto& entry : fs::directory_iterator(AlertsDir() / "runbooks")) {
      if (entry.is_regular_file() && entry.path().extension() == ".md") runbooks.push_back(entry.path());
    }
  }
  std::sort(runbooks.begin(), runbooks.end());
  ASSERT_FALSE(runbooks.empty()) << "no runbooks in " << (AlertsDir() / "runbooks");
  // A runbook is named after its alert; where that alert can fire on a standby, its SQL must work there too.
  Exported exported;
  AddExported(Scrape(), exported);
  const auto on_standby = AlertsOnTheStandby(LoadRules(), exported);
  const int major = ServerMajor(cluster.primary());
  const std::string primary = cluster.primary().Dsn(PgCluster::kReportingUser, cluster.reporting_password());
  const std::string standby = cluster.standby().Dsn(PgCluster::kReportingUser, cluster.reporting_password());
  size_t blocks = 0;
  for (const auto& path : runbooks) {
    const bool replica_side = on_standby.count(path.stem().string()) > 0;
    for (const auto& block : SqlBlocks(path.filename().string(), ReadFile(path.string()))) {
      ++blocks;
      const std::string where = "alerts/runbooks/" + block.file + ":" + std::to_string(block.line);
      const auto error = RunReadOnly(primary, block.sql);
      EXPECT_EQ(error, "") << where << " fails on the PostgreSQL " << major << " primary:\n" << block.sql;
      if (!replica_side) continue;
      const auto standby_error = RunReadOnly(standby, block.sql);
      EXPECT_EQ(standby_error, "") << where << " fails on the PostgreSQL " << major << " standby, where "
                                   << path.stem().string() << " can fire:\n"
                                   << block.sql;
    }
  }
  EXPECT_GT(blocks, 0u);
}

}  // namespace
}  // namespace pgpulse::testing
