#pragma once

#include <boost/asio/awaitable.hpp>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "exporter/async/deadline.h"
#include "exporter/collector/definition.h"
#include "exporter/pg/connection.h"

namespace pgpulse::collector {

// What one connection's role may read, learned once per connection, so collectors that cannot work are skipped
// (and said so once) instead of failing on every scrape.
struct Capabilities {
  int server_version = 0;
  bool is_replica = false;
  std::map<std::string, std::string> extensions;  // installed in this database: name -> schema
  std::map<std::string, bool> functions;          // regprocedure text -> exists and is executable
};

// What capability detection must find out on a connection, for the collectors of one scope.
struct CapabilityNeeds {
  bool extensions = false;             // some collector requires an extension
  std::vector<std::string> functions;  // distinct requires.function texts
};

// Runs the detection queries that `needs` calls for. A server is a replica or not for all its databases, so a
// database's visit passes what the target's own connection found as `known_replica` and saves that query.
boost::asio::awaitable<Capabilities> DetectCapabilities(pg::Connection& conn, CapabilityNeeds needs,
                                                        std::optional<bool> known_replica,
                                                        async::Clock::time_point deadline);

// Why `def` cannot run on a connection with `caps` ("replica", "primary", "unsupported_version",
// "extension_missing", "no_privilege"), or nullopt when it can.
std::optional<std::string> SkipReason(const Definition& def, const Capabilities& caps);

// The SQL to run: the variant for the server's version, with {{schema}} replaced by the quoted schema of the
// required extension (the session's search_path is pinned to pg_catalog, and extensions live where they were
// created), between two comments naming the collector, "/* pgpulse:<name> */ <sql>\n/* pgpulse:<name> */", so
// that pg_stat_statements, pg_stat_activity and the server log tell which collector a statement belongs to.
// Call only when SkipReason() is nullopt.
std::string RenderSql(const Definition& def, const Capabilities& caps);

// "name" -> "\"name\"", with embedded quotes doubled.
std::string QuoteIdentifier(const std::string& name);

}  // namespace pgpulse::collector
