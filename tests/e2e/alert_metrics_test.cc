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

#include "tests/e2e/alert_conditions.h"
#include "tests/e2e/collectors_fixture.h"
#include "tests/e2e/promql.h"

namespace pgpulse::testing {
namespace {

namespace fs = std::filesystem;

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

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
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
