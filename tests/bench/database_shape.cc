#include "tests/bench/database_shape.h"

#include <cstdio>
#include <random>

#include "tests/bench/pg_session.h"
#include "tests/bench/run_control.h"
#include "tests/harness/libpq_client.h"

namespace pgpulse::bench {
namespace {

// The shape of the first benchmarks: small tables whose catalog entries are all a visit has to read.
std::string ToyTablesSql(int tables) {
  return R"(DO $$
BEGIN
  FOR i IN 1..)" +
         std::to_string(tables) +
         R"( LOOP
    EXECUTE format('CREATE TABLE public.t%s (id integer PRIMARY KEY, name text NOT NULL, amount numeric(12,2),
                    updated_at timestamptz NOT NULL DEFAULT now())', lpad(i::text, 2, '0'));
    EXECUTE format('INSERT INTO public.t%s (id, name, amount) SELECT g, ''row '' || g, g * 1.5
                    FROM generate_series(1, 10) AS g', lpad(i::text, 2, '0'));
  END LOOP;
END
$$;)";
}

// Like a real service's tables: a bigserial key (so a sequence per table), a secondary index, a text column of which
// every 10th value (3.2 kB of md5 hex, which pglz cannot shrink below the 2 kB TOAST threshold) is stored out of
// line in the TOAST table, 1,000 rows; and 3 views. Every relation has storage a size function would open.
std::string RealisticTablesSql(int tables) {
  return R"(DO $$
BEGIN
  FOR i IN 1..)" +
         std::to_string(tables) +
         R"( LOOP
    EXECUTE format('CREATE TABLE public.t%s (id bigserial PRIMARY KEY, account_id integer NOT NULL,
                    status text NOT NULL, amount numeric(12,2), body text,
                    created_at timestamptz NOT NULL DEFAULT now())', lpad(i::text, 2, '0'));
    EXECUTE format('CREATE INDEX ON public.t%s (account_id, created_at)', lpad(i::text, 2, '0'));
    EXECUTE format('INSERT INTO public.t%s (account_id, status, amount, body)
                    SELECT g %% 97, (ARRAY[''new'', ''paid'', ''shipped''])[1 + g %% 3], g * 1.5,
                           CASE WHEN g %% 10 = 0
                                THEN (SELECT string_agg(md5(g::text || k::text), '''') FROM generate_series(1, 100) AS k)
                                ELSE ''note '' || g END
                    FROM generate_series(1, 1000) AS g', lpad(i::text, 2, '0'));
  END LOOP;
  FOR i IN 1..least(3, )" +
         std::to_string(tables) +
         R"() LOOP
    EXECUTE format('CREATE VIEW public.v%s AS SELECT account_id, count(*) AS n, sum(amount) AS total
                    FROM public.t%s GROUP BY account_id', lpad(i::text, 2, '0'), lpad(i::text, 2, '0'));
  END LOOP;
END
$$;)";
}

}  // namespace

testing::PgClusterOptions BenchServerOptions() {
  testing::PgClusterOptions options;
  options.databases = {};
  options.max_connections = 400;  // the peer holds one connection per database
  // No entry may be evicted during the run (checked at the end); planning time is a figure; the connection log, with
  // epoch timestamps, counts logins per role.
  options.extra_settings =
      "pg_stat_statements.max = 20000\n"
      "pg_stat_statements.track_planning = on\n"
      "max_wal_size = 4GB\n"
      "log_connections = on\n"
      "log_line_prefix = '%n [%p] '\n";
  // bench_trust logs in without a password: only to measure, by difference, what a SCRAM login costs the client.
  options.extra_hba_lines = {"host all bench_trust 127.0.0.1/32 trust"};
  return options;
}

std::string Secret() {
  std::random_device device;
  std::string secret;
  for (int i = 0; i < 8; ++i) {
    char hex[9];
    std::snprintf(hex, sizeof hex, "%08x", static_cast<unsigned>(device()));
    secret += hex;
  }
  return secret;
}

std::string ShapeDatabases(const testing::PgServer& server, const Knobs& knobs, const Passwords& passwords) {
  using testing::QuoteSqlLiteral;
  // The harness's own roles go: pgpulse exports series per role, and the server should hold what the figures of
  // earlier runs were measured with, the benchmark's roles only.
  server.Exec("postgres", "DROP ROLE app_user, reporting, replicator");
  server.Exec("postgres", std::string("CREATE ROLE ") + kPgpulseRole + " LOGIN PASSWORD " +
                              QuoteSqlLiteral(passwords.pgpulse) + " IN ROLE pg_monitor;" + "CREATE ROLE " + kPeerRole +
                              " LOGIN PASSWORD " + QuoteSqlLiteral(passwords.peer) + " IN ROLE pg_monitor");
  // The harness created pg_stat_statements in postgres already.
  server.Exec("postgres", "CREATE DATABASE tmpl");
  server.Exec("tmpl", knobs.shape == "toy" ? ToyTablesSql(knobs.tables) : RealisticTablesSql(knobs.tables));
  // VACUUM ANALYZE once, in the template: every copy starts with the page counts and statistics of a database under
  // autovacuum (relpages, which table_sizes reads, counts a TOAST table's pages only after a VACUUM). Autovacuum
  // stays on for the run, as on a real server; nothing writes to the copies, so it has nothing to do there.
  server.Exec("tmpl", "VACUUM ANALYZE");
  // A template is skipped by both exporters (datistemplate), so they see postgres + the service databases.
  server.Exec("postgres", "ALTER DATABASE tmpl IS_TEMPLATE true");
  const double setup_start = EpochNow();
  {
    // One session for all of them; CREATE DATABASE cannot run inside a multi-statement string.
    PgSession session(server, "postgres");
    for (int i = 1; i <= knobs.databases; ++i) {
      CheckInterrupted();
      char name[16];
      std::snprintf(name, sizeof name, "svc_%03d", i);
      session.Exec(std::string("CREATE DATABASE ") + name + " TEMPLATE tmpl");
    }
  }
  server.Exec("postgres", "CHECKPOINT");
  server.Exec("postgres", "SELECT pg_stat_statements_reset()");
  const std::string visible =
      server.QueryValue("postgres", "SELECT count(*) FROM pg_database WHERE datallowconn AND NOT datistemplate");
  Log(std::to_string(knobs.databases) + " databases created in " + Fixed(EpochNow() - setup_start, 0) + " s; " +
      visible + " databases visible to the exporters");
  return knobs.shape == "toy" ? "integer primary key, 3 more columns, 10 rows; no views"
                              : "bigserial key, secondary index, TOASTed text (1 row in 10), 1,000 rows; 3 views";
}

}  // namespace pgpulse::bench
