#pragma once

#include <string>

#include "exporter/pg/conn_params.h"

namespace pgpulse::config {

// Parses a libpq DSN, in URI (postgresql://...) or key=value form, into keywords. Throws std::invalid_argument
// with a fixed message that repeats nothing of the DSN: a DSN libpq cannot parse may have its password anywhere,
// and libpq's own parse errors quote the input. Also rejects a URI whose user-info holds an unencoded '/' or '@',
// which libpq would otherwise read as host, port or database name (and so show and send a piece of the password).
pg::ConnParams ParseDsn(const std::string& dsn);

// The one place where DSNs are made safe to show. The DSN is parsed by libpq itself (so that what is masked is
// exactly what libpq would use), every secret value (password, sslpassword) becomes "xxxxx", and the result is
// rebuilt in key=value form. A DSN that ParseDsn rejects is replaced whole by a fixed placeholder. Every log line,
// error and page that shows a DSN goes through this function.
std::string RedactDsn(const std::string& dsn);

// A short, stable, secret-free description of where a DSN points: "host:port/dbname" (libpq defaults filled in
// as libpq would), used as the target name for DSNs from the environment.
std::string DescribeDsn(const pg::ConnParams& params);

}  // namespace pgpulse::config
