// The Grafana dashboards of dashboards/*.json as the tests read them: variables, panels and their queries, links.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace pgpulse::testing {

struct DashboardVariable {
  std::string name;
  std::string type;   // datasource, query, ...
  std::string query;  // for query variables: label_values(<series>, <label>)
  bool multi = false;
  bool include_all = false;
  std::optional<std::string> all_value;
};

struct DashboardQuery {
  std::string expr;
  std::string legend;
  bool instant = false;  // a table or stat's single evaluation; otherwise a range query, as time series draw
};

struct DashboardPanel {
  std::string title;
  std::string type;
  std::optional<std::string> unit;
  std::optional<std::string> description;
  std::vector<DashboardQuery> queries;
  std::vector<std::string> link_urls;  // data links
};

struct DashboardLink {
  std::string type;  // dashboards (by tag) or link
  bool include_vars = false;
  bool keep_time = false;
};

struct Dashboard {
  std::string file;  // e.g. fleet.json
  std::string uid;
  std::string title;
  int schema_version = 0;
  bool editable = true;
  std::vector<DashboardVariable> variables;
  std::vector<DashboardPanel> panels;  // rows' nested panels included; rows themselves left out
  std::vector<DashboardLink> links;

  const DashboardVariable* Variable(const std::string& name) const;
};

// dashboards/*.json, sorted by file name. Throws std::runtime_error naming the file on a malformed one.
std::vector<Dashboard> LoadDashboards();

// The variables `text` refers to: $name, ${name} and ${name:format}; Grafana's own ($__rate_interval...) included.
std::set<std::string> VariablesUsed(const std::string& text);

// `text` with each variable in `values` replaced by its value; others are left as they are.
std::string FillVariables(const std::string& text, const std::map<std::string, std::string>& values);

// label_values(<series>, <label>) split into its series selector and label; nullopt for other variable queries.
struct LabelValuesQuery {
  std::string series;
  std::string label;
};
std::optional<LabelValuesQuery> ParseLabelValues(const std::string& query);

}  // namespace pgpulse::testing
