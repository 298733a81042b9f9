#include "exporter/collector/capabilities.h"

#include "exporter/collector/collector_set.h"
#include "exporter/collector/rows.h"

#include <cctype>

namespace pgpulse::collector {
namespace asio = boost::asio;

asio::awaitable<Capabilities> DetectCapabilities(pg::Connection& conn, CapabilityNeeds needs,
                                                 std::optional<bool> known_replica, async::Clock::time_point deadline) {
  Capabilities caps;
  caps.server_version = conn.session().server_version;
  // Named locals: g++ 12 mishandles temporaries that live across a co_await.
  std::vector<std::optional<std::string>> no_params;
  if (known_replica) {
    caps.is_replica = *known_replica;
  } else {
    std::string sql = "SELECT pg_is_in_recovery()";
    auto state = co_await conn.Query(std::move(sql), no_params, deadline);
    caps.is_replica = state.rows.at(0).at(0) == "t";
  }
  if (needs.extensions) {
    std::string sql = "SELECT e.extname, n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace";
    auto extensions = co_await conn.Query(std::move(sql), no_params, deadline);
    for (const auto& row : extensions.rows) caps.extensions[row.at(0).value_or("")] = row.at(1).value_or("");
  }
  for (const auto& function : needs.functions) {
    // to_regprocedure first: has_function_privilege raises an error for a function that does not exist.
    std::string check =
        "SELECT to_regprocedure($1) IS NOT NULL AND has_function_privilege(to_regprocedure($1)::oid, 'EXECUTE')";
    std::vector<std::optional<std::string>> params = {function};
    auto result = co_await conn.Query(std::move(check), std::move(params), deadline);
    caps.functions[function] = result.rows.at(0).at(0) == "t";
  }
  co_return caps;
}

std::optional<std::string> SkipReason(const Definition& def, const Capabilities& caps) {
  if (def.primary_only && caps.is_replica) return "replica";
  if (def.replica_only && !caps.is_replica) return "primary";
  if (SelectVariant(def, caps.server_version) == nullptr) return "unsupported_version";
  if (!def.requires_extension.empty() && !caps.extensions.count(def.requires_extension)) return "extension_missing";
  if (!def.requires_function.empty()) {
    auto it = caps.functions.find(def.requires_function);
    if (it == caps.functions.end() || !it->second) return "no_privilege";
  }
  return std::nullopt;
}

std::string QuoteIdentifier(const std::string& name) {
  std::string quoted = "\"";
  for (char c : name) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

std::string RenderSql(const Definition& def, const Capabilities& caps) {
  // The collector's name in a comment, twice. In front, because pg_stat_activity and the server log cut a long
  // statement at track_activity_query_size; at the end as well, because pg_stat_statements 18 drops a leading
  // comment from the text it keeps (13 to 17 keep it). A trailing ';' would leave that comment outside the statement,
  // so it goes; the newline ends a trailing "--" comment. A comment does not change the queryid. Only the loader
  // makes Definitions, and its name rule, [a-z][a-z0-9_]*, keeps "*/" out of the comment.
  const auto tag = "/* pgpulse:" + def.name + " */";
  std::string body = SelectVariant(def, caps.server_version)->sql;
  const auto trim = [&body] {
    while (!body.empty() && std::isspace(static_cast<unsigned char>(body.back())) != 0) body.pop_back();
  };
  trim();
  if (!body.empty() && body.back() == ';') body.pop_back();
  trim();
  std::string sql = tag + ' ' + body + '\n' + tag;
  static const std::string kPlaceholder = "{{schema}}";
  if (def.requires_extension.empty()) return sql;
  const auto schema = QuoteIdentifier(caps.extensions.at(def.requires_extension));
  for (auto at = sql.find(kPlaceholder); at != std::string::npos; at = sql.find(kPlaceholder, at + schema.size())) {
    sql.replace(at, kPlaceholder.size(), schema);
  }
  return sql;
}

}  // namespace pgpulse::collector
