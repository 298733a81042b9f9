#pragma once

#include <string>

#include "exporter/pg/conn_params.h"

namespace pgpulse::config {

// Parses a libpq DSN, in URI (postgresql://...) or key=value form, into keywords. Throws std::invalid_argument
// with a message that never repeats a value from the DSN (a malformed DSN may have its password anywhere).
pg::ConnParams ParseDsn(const std::string& dsn);

// The one place where DSNs are made safe to show: every password (URI user-info, ?password=, password=) becomes
// "xxxxx". Input that cannot be tokenised is replaced whole. Every log line, error and page that shows a DSN
// goes through this function.
std::string RedactDsn(const std::string& dsn);

// A short, stable, secret-free description of where a DSN points: "host:port/dbname" (libpq defaults filled in
// as libpq would), used as the target name for DSNs from the environment.
std::string DescribeDsn(const pg::ConnParams& params);

}  // namespace pgpulse::config
