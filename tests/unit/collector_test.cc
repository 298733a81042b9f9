// The collector engine's pure logic: schema validation, version variants, row mapping, top-N, skip reasons.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "exporter/collector/capabilities.h"
#include "exporter/collector/collector_cache.h"
#include "exporter/collector/loader.h"
#include "exporter/collector/reference.h"
#include "exporter/collector/rows.h"
#include "exporter/collector/top.h"
#include "exporter/config/config.h"

namespace pgpulse::collector {
namespace {

using std::chrono::milliseconds;

constexpr const char* kValid = R"(
name: sizes
scope: database
ttl: 5m
queries:
  - max_version: 129999
    sql: SELECT 'old' AS relname, 1 AS size_bytes
  - min_version: 130000
    sql: SELECT relname, pg_table_size(oid) AS size_bytes FROM pg_class
metrics:
  - {column: relname, usage: label}
  - {column: size_bytes, usage: gauge, name: pg_x_size_bytes, help: Size in bytes.}
)";

std::string ErrorOf(const std::string& yaml) {
  try {
    ParseDefinition(yaml, "c.yaml");
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "";
}

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return text.replace(at, from.size(), to);
}

TEST(ParseDefinitionTest, ReadsEveryField) {
  auto def = ParseDefinition(kValid, "c.yaml");
  EXPECT_EQ(def.name, "sizes");
  EXPECT_EQ(def.scope, Scope::kDatabase);
  EXPECT_EQ(def.ttl, std::chrono::minutes(5));
  EXPECT_EQ(def.timeout, milliseconds(5000));
  ASSERT_EQ(def.queries.size(), 2u);
  ASSERT_EQ(def.columns.size(), 2u);
  EXPECT_EQ(def.columns[1].usage, Usage::kGauge);
  EXPECT_EQ(def.columns[1].name, "pg_x_size_bytes");
}

TEST(ParseDefinitionTest, RejectsSchemaViolationsNamingFileLineAndKey) {
  EXPECT_NE(ErrorOf(Replace(kValid, "ttl: 5m", "ttl: 5m\nbogus: 1")).find("c.yaml:5:1: bogus: unknown key"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Replace(kValid, "scope: database", "scope: instance")).find("scope: must be cluster or database"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Replace(kValid, "name: sizes", "name: Sizes")).find("name: must match"), std::string::npos);
  EXPECT_NE(ErrorOf(Replace(kValid, "usage: gauge", "usage: histogram")).find("must be label, gauge or counter"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Replace(kValid, "name: pg_x_size_bytes, ", "")).find("metrics[1].name: is required"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Replace(kValid, "min_version: 130000", "min_version: 120000")).find("version ranges overlap"),
            std::string::npos);
  EXPECT_NE(
      ErrorOf(Replace(kValid, "{column: relname, usage: label}", "{column: relname, usage: label, label: target}"))
          .find("reserved"),
      std::string::npos);
  EXPECT_NE(ErrorOf(Replace(kValid, "column: relname", "column: size_bytes")).find("is mapped twice"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Replace(kValid, "ttl: 5m", "ttl: 5m\nprimary_only: true\nreplica_only: true"))
                .find("excludes primary_only"),
            std::string::npos);
  EXPECT_NE(ErrorOf("name: x\nscope: cluster\nqueries: []\nmetrics: []\n").find("queries: must be a non-empty list"),
            std::string::npos);
  EXPECT_NE(ErrorOf("name: x\nscope: cluster\nqueries: [{sql: SELECT 1 AS a}]\nmetrics: [{column: a, usage: label}]\n")
                .find("needs at least one gauge or counter"),
            std::string::npos);
  EXPECT_NE(ErrorOf("name: [").find("invalid YAML"), std::string::npos);
}

TEST(SelectVariantTest, PicksTheRangeForEachVersion) {
  auto def = ParseDefinition(R"(
name: statements
scope: cluster
queries:
  - {max_version: 129999, sql: v12}
  - {min_version: 130000, max_version: 139999, sql: v13}
  - {min_version: 140000, max_version: 169999, sql: v14}
  - {min_version: 170000, sql: v17}
metrics: [{column: a, usage: gauge, name: m, help: h}]
)",
                             "s.yaml");
  const std::map<int, std::string> expected = {{120017, "v12"}, {130013, "v13"}, {140010, "v14"}, {150004, "v14"},
                                               {160002, "v14"}, {170000, "v17"}, {180001, "v17"}};
  for (const auto& [version, sql] : expected) {
    ASSERT_NE(SelectVariant(def, version), nullptr) << version;
    EXPECT_EQ(SelectVariant(def, version)->sql, sql) << version;
  }
  auto narrow = ParseDefinition(
      Replace(kValid, "  - max_version: 129999\n    sql: SELECT 'old' AS relname, 1 AS size_bytes\n", ""), "n");
  EXPECT_EQ(SelectVariant(narrow, 120000), nullptr);
}

TEST(MapRowsTest, MapsLabelsValuesAndNulls) {
  auto def = ParseDefinition(kValid, "c.yaml");
  pg::Result result{{"size_bytes", "relname"}, {{"42", "a"}, {std::nullopt, "b"}, {"7.5", std::nullopt}}};
  auto rows = MapRows(def, result);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].labels.at("relname"), "a");
  EXPECT_EQ(rows[0].values[0], 42);
  EXPECT_EQ(rows[1].values[0], std::nullopt);
  EXPECT_EQ(rows[2].labels.at("relname"), "");
  auto rendered = RenderRows(def, rows, {{"target", "t\"1"}});
  EXPECT_EQ(rendered->series, 2u);  // the NULL value gives no sample
  ASSERT_EQ(rendered->lines.size(), 1u);
  EXPECT_EQ(rendered->lines[0],
            "pg_x_size_bytes{relname=\"a\",target=\"t\\\"1\"} 42\n"
            "pg_x_size_bytes{relname=\"\",target=\"t\\\"1\"} 7.5\n");
  EXPECT_FALSE(rendered->truncated);
  def.max_series = 1;
  rendered = RenderRows(def, rows, {{"target", "t"}});
  EXPECT_EQ(rendered->series, 1u);
  EXPECT_TRUE(rendered->truncated);
}

TEST(MapRowsTest, MaxRowsKeepsTheFirstRowsInQueryOrderAndCountsTheRest) {
  auto def = ParseDefinition(Replace(kValid, "ttl: 5m", "ttl: 5m\nmax_rows: 2"), "c.yaml");
  EXPECT_EQ(def.max_rows, 2u);
  pg::Result result{{"relname", "size_bytes"}, {{"big", "30"}, {"mid", std::nullopt}, {"small", "10"}, {"tiny", "1"}}};
  auto rendered = RenderRows(def, MapRows(def, result), {{"target", "t"}});
  // A row whose values are all NULL still counts as a kept row: the cap is on rows (tables), not samples.
  EXPECT_EQ(rendered->lines[0], "pg_x_size_bytes{relname=\"big\",target=\"t\"} 30\n");
  EXPECT_EQ(rendered->series, 1u);
  EXPECT_EQ(rendered->rows_dropped, 2u);
  EXPECT_FALSE(rendered->truncated);
  def.max_rows = 4;
  rendered = RenderRows(def, MapRows(def, result), {{"target", "t"}});
  EXPECT_EQ(rendered->series, 3u);
  EXPECT_EQ(rendered->rows_dropped, 0u);
  // Whichever cap comes first applies.
  def.max_rows = 3;
  def.max_series = 1;
  rendered = RenderRows(def, MapRows(def, result), {{"target", "t"}});
  EXPECT_EQ(rendered->series, 1u);
  EXPECT_TRUE(rendered->truncated);
  EXPECT_EQ(rendered->rows_dropped, 0u);
  EXPECT_NE(ErrorOf(Replace(kValid, "ttl: 5m", "ttl: 5m\nmax_rows: 0")).find("max_rows: must be at least 1"),
            std::string::npos);
  EXPECT_EQ(ParseDefinition(kValid, "c.yaml").max_rows, 0u) << "no cap unless the collector sets one";
}

TEST(BuiltinCollectorsTest, TableHealthCapsLeaveTheBenchmarkInstanceWhole) {
  // tests/bench: 200 databases of 30 tables, one index each. Those are kept whole at the defaults, every column
  // present; one database of thousands of tables is cut to its largest.
  const std::size_t databases = 200, tables = 30;
  std::map<std::string, std::size_t> seen;
  for (const auto& def : LoadCollectors({})) {
    if (def.name != "stat_user_tables" && def.name != "stat_user_indexes") continue;
    std::size_t values = 0;
    for (const auto& column : def.columns) values += column.usage != Usage::kLabel;
    EXPECT_GE(def.max_rows, tables) << def.name;
    EXPECT_LE(def.max_rows, 2000u) << def.name;
    EXPECT_GE(def.max_series, databases * tables * values) << def.name;
    EXPECT_EQ(def.ttl, std::chrono::minutes(5)) << def.name;
    seen[def.name] = def.max_rows;
  }
  EXPECT_EQ(seen["stat_user_tables"], 1000u);
  EXPECT_EQ(seen.size(), 2u);
}

TEST(MapRowsTest, RejectsColumnMismatchesAndNonNumbers) {
  auto def = ParseDefinition(kValid, "c.yaml");
  EXPECT_THROW(MapRows(def, pg::Result{{"relname"}, {}}), std::runtime_error);
  EXPECT_THROW(MapRows(def, pg::Result{{"relname", "size_bytes", "extra"}, {}}), std::runtime_error);
  EXPECT_THROW(MapRows(def, pg::Result{{"relname", "size_bytes"}, {{"a", "12 kB"}}}), std::runtime_error);
  auto rows = MapRows(def, pg::Result{{"relname", "size_bytes"}, {{"a", "t"}, {"b", "f"}}});
  EXPECT_EQ(rows[0].values[0], 1);
  EXPECT_EQ(rows[1].values[0], 0);
}

constexpr const char* kTop = R"(
name: statements
scope: cluster
queries: [{sql: x}]
metrics:
  - {column: datname, usage: label}
  - {column: queryid, usage: label}
  - {column: seconds_total, usage: counter, name: s_total, help: h}
top: {rank_by: seconds_total, limit: 2, group_by: [datname], keep: 10m, other: {queryid: other}}
)";

Row StatementRow(const std::string& db, const std::string& id, double seconds) {
  return Row{{{"datname", db}, {"queryid", id}}, {seconds}};
}

TEST(TopSelectorTest, KeepsTopPerGroupAndSumsTheRest) {
  auto def = ParseDefinition(kTop, "t.yaml");
  TopSelector top;
  const auto now = std::chrono::steady_clock::now();
  auto rows = top.Apply(def, *def.top,
                        {StatementRow("a", "1", 10), StatementRow("a", "2", 30), StatementRow("a", "3", 20),
                         StatementRow("a", "4", 5), StatementRow("b", "9", 1)},
                        now);
  std::map<std::string, double> got;
  for (const auto& row : rows) got[row.labels.at("datname") + "/" + row.labels.at("queryid")] = *row.values[0];
  EXPECT_EQ(got, (std::map<std::string, double>{{"a/2", 30}, {"a/3", 20}, {"a/other", 15}, {"b/9", 1}}));
}

TEST(TopSelectorTest, HysteresisKeepsARowThatFellOutUntilKeepPasses) {
  auto def = ParseDefinition(kTop, "t.yaml");
  TopSelector top;
  const auto t0 = std::chrono::steady_clock::now();
  top.Apply(def, *def.top, {StatementRow("a", "1", 30), StatementRow("a", "2", 20), StatementRow("a", "3", 10)}, t0);
  // Query 2 drops to third place: it stays for up to 10 minutes, so its series does not vanish.
  auto later =
      top.Apply(def, *def.top, {StatementRow("a", "1", 30), StatementRow("a", "2", 21), StatementRow("a", "3", 40)},
                t0 + std::chrono::minutes(5));
  std::set<std::string> ids;
  for (const auto& row : later) ids.insert(row.labels.at("queryid"));
  // "other" stays, with what query 3 had when it joined the top (see the next test).
  EXPECT_EQ(ids, (std::set<std::string>{"1", "2", "3", "other"}));
  auto much_later =
      top.Apply(def, *def.top, {StatementRow("a", "1", 30), StatementRow("a", "2", 21), StatementRow("a", "3", 40)},
                t0 + std::chrono::minutes(16));
  ids.clear();
  for (const auto& row : much_later) ids.insert(row.labels.at("queryid"));
  EXPECT_EQ(ids, (std::set<std::string>{"1", "3", "other"}));
}

// Values of one Apply by queryid.
std::map<std::string, double> ById(const std::vector<Row>& rows) {
  std::map<std::string, double> values;
  for (const auto& row : rows) values[row.labels.at("queryid")] = row.values.at(0).value_or(-1);
  return values;
}

TEST(TopSelectorTest, OtherIsACounterThatNeverGoesBackwardsWhenRowsMove) {
  auto def = ParseDefinition(kTop, "t.yaml");
  TopSelector top;
  auto t = std::chrono::steady_clock::now();
  auto step = [&](std::vector<Row> rows) {
    t += std::chrono::minutes(1);
    return ById(top.Apply(def, *def.top, std::move(rows), t));
  };
  auto v = step(
      {StatementRow("a", "1", 100), StatementRow("a", "2", 90), StatementRow("a", "3", 50), StatementRow("a", "4", 5)});
  EXPECT_EQ(v["other"], 55);
  // Query 3 overtakes query 2 (which stays, by hysteresis): 3 leaves "other" with 50 accumulated, and grows by 20.
  // Query 4 grew by 1. "other" grows by that 1 only, instead of dropping to 6.
  v = step({StatementRow("a", "1", 100), StatementRow("a", "2", 91), StatementRow("a", "3", 120),
            StatementRow("a", "4", 6)});
  EXPECT_EQ(v["3"], 120);
  EXPECT_EQ(v["other"], 56);
  // Eleven minutes later query 2 (which stopped growing) is back in "other" with its 91: "other" grows only by what
  // query 4 did.
  t += std::chrono::minutes(11);
  v = step({StatementRow("a", "1", 100), StatementRow("a", "2", 91), StatementRow("a", "3", 130),
            StatementRow("a", "4", 7)});
  EXPECT_EQ(v.count("2"), 0u);
  EXPECT_EQ(v["other"], 57);
  // pg_stat_statements_reset(): everything starts again from zero, and so does "other" (a real reset).
  v = step({StatementRow("a", "1", 1), StatementRow("a", "3", 1), StatementRow("a", "4", 1)});
  EXPECT_EQ(v["other"], 1);
}

TEST(ParseDefinitionTest, TopNeedsAValueForEveryLabel) {
  EXPECT_NE(ErrorOf(Replace(kTop, "other: {queryid: other}", "other: {}")).find("neither in group_by"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Replace(kTop, "rank_by: seconds_total", "rank_by: queryid")).find("gauge or counter"),
            std::string::npos);
}

TEST(SkipReasonTest, ExplainsWhyACollectorCannotRun) {
  auto def = ParseDefinition(kValid, "c.yaml");
  Capabilities caps;
  caps.server_version = 150004;
  EXPECT_EQ(SkipReason(def, caps), std::nullopt);
  def.primary_only = true;
  caps.is_replica = true;
  EXPECT_EQ(SkipReason(def, caps), "replica");
  def.primary_only = false;
  def.replica_only = true;
  caps.is_replica = false;
  EXPECT_EQ(SkipReason(def, caps), "primary");
  def.replica_only = false;
  def.requires_extension = "pg_stat_statements";
  EXPECT_EQ(SkipReason(def, caps), "extension_missing");
  caps.extensions["pg_stat_statements"] = "public";
  def.requires_function = "pg_ls_waldir()";
  EXPECT_EQ(SkipReason(def, caps), "no_privilege");
  caps.functions["pg_ls_waldir()"] = true;
  EXPECT_EQ(SkipReason(def, caps), std::nullopt);
  caps.server_version = 90600;
  def.queries.erase(def.queries.begin());
  EXPECT_EQ(SkipReason(def, caps), "unsupported_version");
}

TEST(RenderSqlTest, QualifiesWithTheExtensionsSchema) {
  auto def = ParseDefinition(R"(
name: statements
scope: cluster
requires: {extension: pg_stat_statements}
queries: [{sql: 'SELECT calls FROM {{schema}}.pg_stat_statements(false) JOIN {{schema}}.x USING (a)'}]
metrics: [{column: calls, usage: counter, name: c_total, help: h}]
)",
                             "s.yaml");
  Capabilities caps;
  caps.server_version = 150000;
  caps.extensions["pg_stat_statements"] = "my \"stats\"";
  EXPECT_EQ(RenderSql(def, caps),
            "/* pgpulse:statements */ SELECT calls FROM \"my \"\"stats\"\"\".pg_stat_statements(false) JOIN "
            "\"my \"\"stats\"\"\".x USING (a)\n/* pgpulse:statements */");
  EXPECT_NE(ErrorOf("name: x\nscope: cluster\nqueries: [{sql: 'SELECT 1 AS a FROM {{schema}}.t'}]\n"
                    "metrics: [{column: a, usage: gauge, name: m, help: h}]\n")
                .find("{{schema}} needs requires.extension"),
            std::string::npos);
  EXPECT_NE(ErrorOf("name: x\nscope: cluster\nrequires: {extension: e}\nqueries: [{sql: 'SELECT {{db}} AS a'}]\n"
                    "metrics: [{column: a, usage: gauge, name: m, help: h}]\n")
                .find("the only placeholder is {{schema}}"),
            std::string::npos);
}

TEST(RenderSqlTest, NamesTheCollectorInComments) {
  // pg_stat_activity (which truncates) finds the name in front, pg_stat_statements 18 (which drops a leading
  // comment) at the end.
  Capabilities caps;
  caps.server_version = 150000;
  EXPECT_EQ(RenderSql(ParseDefinition(kValid, "c.yaml"), caps),
            "/* pgpulse:sizes */ SELECT relname, pg_table_size(oid) AS size_bytes FROM pg_class\n/* pgpulse:sizes */");
  caps.server_version = 120000;
  EXPECT_EQ(RenderSql(ParseDefinition(kValid, "c.yaml"), caps),
            "/* pgpulse:sizes */ SELECT 'old' AS relname, 1 AS size_bytes\n/* pgpulse:sizes */");
  // A final ';' and whitespace go, or the end comment would follow the statement instead of being part of it; a
  // final "--" comment is ended by the newline.
  auto def = ParseDefinition(Replace(kValid, "1 AS size_bytes", "1 AS size_bytes -- one ; "), "c.yaml");
  EXPECT_EQ(RenderSql(def, caps),
            "/* pgpulse:sizes */ SELECT 'old' AS relname, 1 AS size_bytes -- one\n/* pgpulse:sizes */");
  def = ParseDefinition(Replace(kValid, "    sql: SELECT 'old' AS relname, 1 AS size_bytes",
                                "    sql: \"SELECT 'old' AS relname, 1 AS size_bytes ;\\n\\t\""),
                        "c.yaml");
  EXPECT_EQ(RenderSql(def, caps), "/* pgpulse:sizes */ SELECT 'old' AS relname, 1 AS size_bytes\n/* pgpulse:sizes */");
  // The name goes into SQL unquoted: the loader lets through nothing that could end the comment.
  // (YAML spellings: quoted where the name holds a space, a newline or a quote.)
  for (const std::string name :
       {"a*/b", "'a */ SELECT 1 /*'", "A", "'a b'", "a-b", "1a", "_a", "\"a\\nb\"", "'a\"b'"}) {
    EXPECT_NE(ErrorOf(Replace(kValid, "name: sizes", "name: " + name)).find("must match [a-z][a-z0-9_]*"),
              std::string::npos)
        << name;
  }
}

TEST(DropDuplicateLabelSetsTest, KeepsTheFirstOfEachLabelSet) {
  std::vector<Row> rows = {Row{{{"a", "1"}}, {1.0}}, Row{{{"a", "2"}}, {2.0}}, Row{{{"a", "1"}}, {3.0}}};
  EXPECT_EQ(DropDuplicateLabelSets(rows), 1u);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].values[0], 1.0);
  EXPECT_EQ(rows[1].labels.at("a"), "2");
}

TEST(BuildCollectorSetTest, AppliesOverridesAndRejectsUnknownNames) {
  std::vector<Definition> defs = {ParseDefinition(kValid, "c.yaml"), ParseDefinition(kTop, "t.yaml")};
  std::map<std::string, config::CollectorSettings> settings;
  settings["sizes"].enabled = false;
  settings["statements"].limit = 5;
  settings["statements"].ttl = milliseconds(1000);
  settings["statements"].max_rows = 7;
  auto set = BuildCollectorSet(defs, settings);
  ASSERT_EQ(set->definitions.size(), 1u);
  EXPECT_EQ(set->definitions[0].top->limit, 5);
  EXPECT_EQ(set->definitions[0].max_rows, 7u);
  EXPECT_EQ(set->definitions[0].ttl, milliseconds(1000));
  EXPECT_TRUE(set->label_names.count("queryid"));

  settings.clear();
  settings["nope"].enabled = true;
  EXPECT_THROW(BuildCollectorSet(defs, settings), config::ConfigError);
  settings.clear();
  settings["sizes"].limit = 3;
  EXPECT_THROW(BuildCollectorSet(defs, settings), config::ConfigError);
}

TEST(ValidateSetTest, RejectsDuplicateNamesAndConflictingMetrics) {
  auto a = ParseDefinition(kValid, "a.yaml");
  auto b = ParseDefinition(kValid, "b.yaml");
  EXPECT_THROW(ValidateSet({a, b}), config::ConfigError);
  b.name = "other";
  EXPECT_NO_THROW(ValidateSet({a, b}));
  b.columns[1].usage = Usage::kCounter;
  EXPECT_THROW(ValidateSet({a, b}), config::ConfigError);
}

TEST(BuiltinCollectorsTest, LoadAndCoverEverySupportedVersion) {
  const auto defs = LoadCollectors({});
  ASSERT_FALSE(defs.empty());
  for (const auto& def : defs) {
    // None claims a server older than the oldest supported (no test would run that SQL), and each runs from where
    // its fact exists through 18 without a gap.
    EXPECT_GE(def.queries.front().min_version, kOldestSupportedServer) << def.name;
    bool started = false;
    for (int version : {130000, 140000, 150000, 160000, 170000, 180000}) {
      const bool runs = SelectVariant(def, version) != nullptr;
      EXPECT_FALSE(started && !runs) << def.name << " has a gap at " << version;
      started = started || runs;
    }
    EXPECT_TRUE(started) << def.name << " runs on no supported version";
  }
}

const Definition& Builtin(const std::vector<Definition>& defs, const std::string& name) {
  for (const auto& def : defs) {
    if (def.name == name) return def;
  }
  throw std::runtime_error("no built-in collector " + name);
}

TEST(BuiltinCollectorsTest, ChooseTheRightSqlFor13Through18) {
  const auto defs = LoadCollectors({});
  const auto& statements = Builtin(defs, "stat_statements");
  // 13 renamed total_time to total_exec_time and added wal_bytes.
  for (int version : {130000, 140000, 150000, 160000, 170000, 180000}) {
    EXPECT_NE(SelectVariant(statements, version)->sql.find("total_exec_time"), std::string::npos) << version;
    EXPECT_NE(SelectVariant(statements, version)->sql.find("wal_bytes"), std::string::npos) << version;
  }
  EXPECT_EQ(SelectVariant(statements, 120022), nullptr);
  // 17 moved the checkpoint counters to pg_stat_checkpointer; the metric names stay.
  const auto& bgwriter = Builtin(defs, "bgwriter");
  for (int version : {130000, 140000, 150000, 160000}) {
    EXPECT_EQ(SelectVariant(bgwriter, version)->sql.find("pg_stat_checkpointer"), std::string::npos) << version;
  }
  for (int version : {170000, 180000}) {
    EXPECT_NE(SelectVariant(bgwriter, version)->sql.find("pg_stat_checkpointer"), std::string::npos) << version;
  }
  // Slot WAL status and safe size exist from 13 on, so every supported version reads them.
  const auto& slots = Builtin(defs, "replication_slots");
  for (int version : {130000, 180000}) {
    EXPECT_NE(SelectVariant(slots, version)->sql.find("safe_wal_size AS safe_wal_size_bytes"), std::string::npos);
    EXPECT_NE(SelectVariant(Builtin(defs, "replication_slots_wal_status"), version), nullptr);
  }
}

TEST(CheckTargetLabelsTest, RejectsClashesWithCollectorLabels) {
  auto set = BuildCollectorSet({ParseDefinition(kValid, "c.yaml")}, {});
  config::TargetConfig target;
  target.origin = "p.yml:3";
  target.labels["env"] = "prod";
  EXPECT_NO_THROW(CheckTargetLabels(*set, {target}));
  target.labels["relname"] = "x";
  EXPECT_THROW(CheckTargetLabels(*set, {target}), config::ConfigError);
}

TEST(CheckTargetLabelsTest, RejectsTheLabelsOfPgpulsesOwnSeries) {
  auto set = BuildCollectorSet({ParseDefinition(kValid, "c.yaml")}, {});
  // pg_static{version} and pgpulse_target_role_info{rolname}: a target label would be overwritten silently.
  for (const char* label : {"version", "short_version", "rolname", "collector"}) {
    config::TargetConfig target;
    target.origin = "p.yml:3";
    target.labels[label] = "x";
    EXPECT_THROW(CheckTargetLabels(*set, {target}), config::ConfigError) << label;
  }
}

}  // namespace
}  // namespace pgpulse::collector

namespace pgpulse::collector {
namespace {

TEST(MetricReferenceTest, DocsMatchTheCollectorFiles) {
  std::ifstream in(std::string(PGPULSE_SOURCE_DIR) + "/docs/metrics.md");
  std::stringstream text;
  text << in.rdbuf();
  const std::string readme = text.str();
  const std::string begin = "<!-- metric-reference:begin -->\n", end = "<!-- metric-reference:end -->";
  const auto start = readme.find(begin), stop = readme.find(end);
  ASSERT_NE(start, std::string::npos);
  ASSERT_NE(stop, std::string::npos);
  EXPECT_EQ(readme.substr(start + begin.size(), stop - start - begin.size()), RenderMetricReference(LoadCollectors({})))
      << "docs/metrics.md is out of date: run scripts/gen-metric-reference.sh";
}

TEST(MetricReferenceTest, ListsEveryMetricWithItsCollector) {
  auto def = ParseDefinition(kValid, "c.yaml");
  const auto table = RenderMetricReference({def});
  EXPECT_NE(table.find("| `pg_x_size_bytes` | gauge | relname | sizes | database, 300s | Size in bytes. |"),
            std::string::npos)
      << table;
}

}  // namespace
}  // namespace pgpulse::collector
