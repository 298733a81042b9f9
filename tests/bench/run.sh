#!/usr/bin/env bash
# Side-by-side benchmark of pgpulse against Debian's prometheus-postgres-exporter (0.11.1), in one run.
#
#   tests/bench/run.sh [build-dir]        # default build-dir: <repo>/build
#
# Builds the pgpulse target, starts a throwaway PostgreSQL 15 with BENCH_DATABASES service databases of BENCH_TABLES
# tables each (shaped like a real service's by default, see BENCH_SHAPE), runs both exporters side by side against it
# (each as its own pg_monitor role), scrapes both at a realistic interval and prints a table of figures, ratios and
# the issue's targets (PASS/MISS). A missed target does not fail the run; a broken run (server or exporter does not
# start, a scrape fails) exits non-zero. tests/bench/README.md says how every figure is measured.
#
# Knobs (environment): BENCH_DATABASES (200), BENCH_TABLES (30), BENCH_SHAPE (realistic: bigserial key, secondary
# index, TOASTed text, 1,000 rows per table, 3 views; toy: integer key, 10 rows), BENCH_INTERVAL (15 s), BENCH_WARMUP
# (4 scrapes), BENCH_SCRAPES (20 measured scrapes: 20 x 15 s = 300 s, one full 5-minute TTL), BENCH_OUT (results
# file), BENCH_SKIP_BUILD=1 (use the binary as it is), BENCH_PEER_QUERIES (queries file for the peer, default:
# Debian's example adapted to PostgreSQL 13+), BENCH_PGPULSE_COLLECTORS (a file whose `collectors:` block is appended
# to pgpulse's config, to measure other TTLs; default: none), PG_BINDIR (/usr/lib/postgresql/15/bin), PEER_BIN.
set -Eeuo pipefail
export LC_ALL=C
umask 022

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${1:-$repo/build}
databases=${BENCH_DATABASES:-200}
tables=${BENCH_TABLES:-30}
shape=${BENCH_SHAPE:-realistic}
interval=${BENCH_INTERVAL:-15}
warmup=${BENCH_WARMUP:-4}
scrapes=${BENCH_SCRAPES:-20}
pg_bindir=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
peer_bin=${PEER_BIN:-/usr/bin/prometheus-postgres-exporter}
debian_queries=/usr/share/doc/prometheus-postgres-exporter/examples/queries.yaml
scrape_timeout=10  # what Prometheus sends by default (X-Prometheus-Scrape-Timeout-Seconds)
max_scrape_time=180

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

[[ $databases =~ ^[0-9]+$ && $databases -ge 1 && $databases -le 999 ]] || die "BENCH_DATABASES must be 1..999"
[[ $tables =~ ^[0-9]+$ && $tables -ge 1 && $tables -le 99 ]] || die "BENCH_TABLES must be 1..99"
[[ $shape == realistic || $shape == toy ]] || die "BENCH_SHAPE must be realistic or toy"
[[ $interval =~ ^[0-9]+$ && $interval -ge 2 ]] || die "BENCH_INTERVAL must be a whole number of seconds >= 2"
[[ $warmup =~ ^[0-9]+$ && $warmup -ge 1 ]] || die "BENCH_WARMUP must be >= 1"
[[ $scrapes =~ ^[0-9]+$ && $scrapes -ge 2 ]] || die "BENCH_SCRAPES must be >= 2"
for tool in curl awk sed grep sort cmake cc pkg-config; do command -v "$tool" >/dev/null || die "$tool is missing"; done
for tool in initdb pg_ctl psql postgres; do [[ -x $pg_bindir/$tool ]] || die "$pg_bindir/$tool is missing"; done
[[ -x $peer_bin ]] || die "$peer_bin is missing (apt-get install prometheus-postgres-exporter)"

# A developer's PGHOST, PGPORT, PGSSLMODE... must not redirect anything here.
while read -r var; do unset "$var"; done < <(compgen -e | grep '^PG' || true)

# --- build ---------------------------------------------------------------------------------------------------------
if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
  if [[ ! -f $build/CMakeCache.txt ]]; then
    log "configuring $build (RelWithDebInfo)"
    cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >&2
  fi
  log "building pgpulse in $build"
  cmake --build "$build" --target pgpulse -j"$(nproc)" >&2 || die "cmake --build $build --target pgpulse failed"
fi
build=$(cd "$build" && pwd)
[[ -x $build/pgpulse ]] || die "$build/pgpulse does not exist"
out=${BENCH_OUT:-$build/pgpulse-bench-results.txt}
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build/CMakeCache.txt" 2>/dev/null || true)

# --- scratch space and clean-up --------------------------------------------------------------------------------------
work=$(mktemp -d /tmp/pgpulse-bench.XXXXXX)
chmod 755 "$work"  # the server runs as nobody when we are root; secrets below are 0600 and root's
# Every phase runs this copy, so a rebuild in the build dir during the run cannot mix two binaries.
pgpulse_bin=$work/pgpulse
cp "$build/pgpulse" "$pgpulse_bin"
pgpulse_built=$(date -u -r "$build/pgpulse" '+%Y-%m-%d %H:%M UTC')
tree=$(git -C "$repo" describe --always --dirty 2>/dev/null || echo '?')
pgdata=$work/pgdata
sock=$work/sock
pglog=$work/postgresql.log
declare -a owned_pids=()
sampler_pid=""

as_pg() {
  if ((EUID == 0)); then (cd "$work" && runuser -u nobody -- "$@"); else (cd "$work" && "$@"); fi
}

stop_pid() {  # pid: TERM, then KILL after 10 s
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# shellcheck disable=SC2317  # invoked by the trap
cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  for pid in "${owned_pids[@]}"; do stop_pid "$pid"; done
  [[ -n $sampler_pid ]] && stop_pid "$sampler_pid"
  if [[ -f $pgdata/postmaster.pid ]]; then
    as_pg "$pg_bindir/pg_ctl" stop -w -t 60 -m immediate -D "$pgdata" >/dev/null 2>&1
  fi
  if [[ ${BENCH_KEEP:-0} == 1 ]]; then log "kept $work"; else rm -rf "$work"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

now() { printf '%s\n' "$EPOCHREALTIME"; }
sleep_until() {
  local delay
  delay=$(awk -v t="$1" -v n="$EPOCHREALTIME" 'BEGIN { d = t - n; printf "%.3f", (d > 0 ? d : 0) }')
  sleep "$delay"
}
port_is_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local port _
  for _ in {1..200}; do
    port=$((20000 + RANDOM % 40000))
    if port_is_free "$port"; then
      echo "$port"
      return 0
    fi
  done
  die "no free loopback port found"
}
secret() { od -An -tx1 -N16 /dev/urandom | tr -d ' \n'; }

sql() {  # as the superuser, over the socket; extra psql arguments follow
  local db=$1
  shift
  "$pg_bindir/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$sock" -p "$pgport" -U postgres -d "$db" \
    --set=application_name=pgpulse_bench "$@"
}

# --- PostgreSQL --------------------------------------------------------------------------------------------------------
mkdir -p "$pgdata" "$sock"
touch "$pglog"
chmod 700 "$pgdata"
if ((EUID == 0)); then chown nobody "$pgdata" "$sock" "$pglog"; fi
log "initdb in $pgdata"
as_pg "$pg_bindir/initdb" -D "$pgdata" -U postgres --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C \
  --no-sync --no-instructions >"$work/initdb.log" 2>&1 || die "initdb failed: $(cat "$work/initdb.log")"
# bench_trust logs in without a password: only to measure, by difference, what a SCRAM login costs the client.
printf 'local all all trust\nhost all bench_trust 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n' \
  >"$pgdata/pg_hba.conf"
printf "\ninclude 'bench.conf'\n" >>"$pgdata/postgresql.conf"

pgport=""
for attempt in 1 2 3 4 5; do
  pgport=$(free_port)
  cat >"$pgdata/bench.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $pgport
unix_socket_directories = '$sock'
max_connections = 400
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = all
pg_stat_statements.max = 20000
pg_stat_statements.track_planning = on
password_encryption = 'scram-sha-256'
fsync = off
synchronous_commit = off
full_page_writes = off
max_wal_size = 4GB
log_connections = on
log_line_prefix = '%n [%p] '
logging_collector = off
EOF
  if ((EUID == 0)); then chown nobody "$pgdata/pg_hba.conf" "$pgdata/bench.conf"; fi
  if as_pg "$pg_bindir/pg_ctl" start -w -t 60 -D "$pgdata" -l "$pglog" >/dev/null 2>&1; then break; fi
  if ((attempt == 5)) || ! grep -q -e 'could not bind' -e 'Address already in use' "$pglog"; then
    die "PostgreSQL did not start: $(tail -20 "$pglog")"
  fi
done
pg_version=$(sql postgres -c 'SHOW server_version')
log "PostgreSQL $pg_version on 127.0.0.1:$pgport"

pw_pgpulse=$(secret)
pw_peer=$(secret)
log "creating roles, template database and $databases service databases of $tables tables ($shape)"
sql postgres <<EOF
CREATE ROLE reporting_pgpulse LOGIN PASSWORD '$pw_pgpulse' IN ROLE pg_monitor;
CREATE ROLE reporting_peer LOGIN PASSWORD '$pw_peer' IN ROLE pg_monitor;
CREATE EXTENSION pg_stat_statements;
CREATE DATABASE tmpl;
EOF
if [[ $shape == toy ]]; then
  # The shape of the first benchmarks: small tables whose catalog entries are all a visit has to read.
  shape_note="integer primary key, 3 more columns, 10 rows; no views"
  sql tmpl <<EOF
DO \$\$
BEGIN
  FOR i IN 1..$tables LOOP
    EXECUTE format('CREATE TABLE public.t%s (id integer PRIMARY KEY, name text NOT NULL, amount numeric(12,2),
                    updated_at timestamptz NOT NULL DEFAULT now())', lpad(i::text, 2, '0'));
    EXECUTE format('INSERT INTO public.t%s (id, name, amount) SELECT g, ''row '' || g, g * 1.5
                    FROM generate_series(1, 10) AS g', lpad(i::text, 2, '0'));
  END LOOP;
END
\$\$;
EOF
else
  # Like a real service's tables: a bigserial key (so a sequence per table), a secondary index, a text column of
  # which every 10th value (3.2 kB of md5 hex, which pglz cannot shrink below the 2 kB TOAST threshold) is stored
  # out of line in the TOAST table, 1,000 rows; and 3 views. Every relation has storage a size function would open.
  shape_note="bigserial key, secondary index, TOASTed text (1 row in 10), 1,000 rows; 3 views"
  sql tmpl <<EOF
DO \$\$
BEGIN
  FOR i IN 1..$tables LOOP
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
  FOR i IN 1..least(3, $tables) LOOP
    EXECUTE format('CREATE VIEW public.v%s AS SELECT account_id, count(*) AS n, sum(amount) AS total
                    FROM public.t%s GROUP BY account_id', lpad(i::text, 2, '0'), lpad(i::text, 2, '0'));
  END LOOP;
END
\$\$;
EOF
fi
# VACUUM ANALYZE once, in the template: every copy starts with the page counts and statistics of a database under
# autovacuum (relpages, which table_sizes reads, counts a TOAST table's pages only after a VACUUM). Autovacuum stays
# on for the run, as on a real server; nothing writes to the copies, so it has nothing to do there.
sql tmpl -c "VACUUM ANALYZE"
# A template is skipped by both exporters (datistemplate), so they see postgres + the service databases.
sql postgres -c "ALTER DATABASE tmpl IS_TEMPLATE true"
setup_start=$(now)
for ((i = 1; i <= databases; i++)); do printf 'CREATE DATABASE svc_%03d TEMPLATE tmpl;\n' "$i"; done | sql postgres
sql postgres -c "CHECKPOINT" -c "SELECT pg_stat_statements_reset()" >/dev/null
visible=$(sql postgres -c "SELECT count(*) FROM pg_database WHERE datallowconn AND NOT datistemplate")
log "$databases databases created in $(awk -v a="$setup_start" -v b="$(now)" 'BEGIN{printf "%.0f", b-a}') s; $visible databases visible to the exporters"

# Connections per role every 100 ms, for the whole run, from one superuser session (never the measured roles).
sampler_file=$work/connections.samples
{
  echo "SELECT round(extract(epoch FROM clock_timestamp())::numeric, 3),
               count(*) FILTER (WHERE usename = 'reporting_pgpulse'),
               count(*) FILTER (WHERE usename = 'reporting_peer')
        FROM pg_stat_activity"
  echo '\watch 0.1'
} | sql postgres -F ' ' >"$sampler_file" 2>"$work/sampler.err" &
sampler_pid=$!

# --- exporters -----------------------------------------------------------------------------------------------------
printf '%s\n' "$pw_pgpulse" >"$work/pgpulse.pw"
chmod 600 "$work/pgpulse.pw"
cat >"$work/pgpulse.yml" <<EOF
targets:
  - name: bench
    dsn: postgresql://reporting_pgpulse@127.0.0.1:$pgport/postgres?sslmode=disable
    password_file: $work/pgpulse.pw
EOF
pgpulse_config_note="default collectors"
if [[ -n ${BENCH_PGPULSE_COLLECTORS:-} ]]; then
  [[ -f $BENCH_PGPULSE_COLLECTORS ]] || die "BENCH_PGPULSE_COLLECTORS=$BENCH_PGPULSE_COLLECTORS does not exist"
  grep -q '^collectors:' "$BENCH_PGPULSE_COLLECTORS" ||
    die "BENCH_PGPULSE_COLLECTORS=$BENCH_PGPULSE_COLLECTORS has no top-level collectors: block"
  cat "$BENCH_PGPULSE_COLLECTORS" >>"$work/pgpulse.yml"
  pgpulse_config_note="collectors overridden:$(grep -v -e '^collectors:' -e '^[[:space:]]*#' \
    "$BENCH_PGPULSE_COLLECTORS" | tr -s ' \n' ' ')"
fi

peer_queries_note=""
if [[ -n ${BENCH_PEER_QUERIES:-} ]]; then
  [[ -f $BENCH_PEER_QUERIES ]] || die "BENCH_PEER_QUERIES=$BENCH_PEER_QUERIES does not exist"
  cp "$BENCH_PEER_QUERIES" "$work/peer-queries.yaml"
  peer_queries_note="--extend.query-path=$BENCH_PEER_QUERIES"
elif [[ -f $debian_queries ]]; then
  # Debian's example, with two fixes without which it does not work here: pg_stat_statements' pre-13 columns
  # (total_time...) do not exist on 15, so those column names (not the metric names) are renamed; and pg_process_idle,
  # a cluster-wide view without a datname label, lacks `master: true`, so in auto-discover mode it yields the same
  # series once per database and the peer answers every scrape with HTTP 500 ("collected before with the same name
  # and label values").
  sed -E -e 's#\b(total|min|max|mean|stddev)_time / 1000#\1_exec_time / 1000#g' \
    -e 's#^pg_process_idle:$#pg_process_idle:\n  master: true#' "$debian_queries" >"$work/peer-queries.yaml"
  grep -q 'total_exec_time / 1000' "$work/peer-queries.yaml" || die "could not adapt $debian_queries"
  grep -A1 '^pg_process_idle:$' "$work/peer-queries.yaml" | grep -q 'master: true' || die "could not adapt $debian_queries"
  peer_queries_note="--extend.query-path=Debian's examples/queries.yaml, adapted (see tests/bench/README.md)"
else
  : >"$work/peer-queries.yaml"
  peer_queries_note="built-in queries only ($debian_queries not found): no per-table statistics"
fi

# start_exporter NAME PORT LOGFILE: sets started_pid; waits until it answers on PORT.
start_exporter() {
  local name=$1 port=$2 logfile=$3 i
  if [[ $name == pgpulse ]]; then
    "$pgpulse_bin" --config.file="$work/pgpulse.yml" --web.listen-address="127.0.0.1:$port" >"$logfile" 2>&1 &
  else
    DATA_SOURCE_NAME="postgresql://reporting_peer:$pw_peer@127.0.0.1:$pgport/postgres?sslmode=disable" \
      "$peer_bin" --web.listen-address="127.0.0.1:$port" --auto-discover-databases \
      --extend.query-path="$work/peer-queries.yaml" >"$logfile" 2>&1 &
  fi
  started_pid=$!
  owned_pids+=("$started_pid")
  local probe=/; [[ $name == pgpulse ]] && probe=/readyz
  for ((i = 0; i < 300; i++)); do
    kill -0 "$started_pid" 2>/dev/null || die "$name exited at start:
$(tail -20 "$logfile")"
    if curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port$probe" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  die "$name did not answer on 127.0.0.1:$port$probe within 30 s:
$(tail -20 "$logfile")"
}

stop_exporter() {
  local pid=$1 kept=() p
  stop_pid "$pid"
  for p in "${owned_pids[@]}"; do [[ $p == "$pid" ]] || kept+=("$p"); done
  owned_pids=("${kept[@]}")
}

role_of() { if [[ $1 == pgpulse ]]; then echo reporting_pgpulse; else echo reporting_peer; fi; }

scrape() {  # url body-file -> "http_code seconds bytes"
  local result
  result=$(curl -sS --max-time "$max_scrape_time" -H "X-Prometheus-Scrape-Timeout-Seconds: $scrape_timeout" \
    -H 'Accept: text/plain;version=0.0.4' -o "$2" -w '%{http_code} %{time_total} %{size_download}' "$1" \
    2>>"$work/curl.err") || true
  [[ $result =~ ^[0-9]{3}\ [0-9.]+\ [0-9]+$ ]] || result="000 0 0"
  echo "$result"
}

# Private memory (clean + dirty) of the server backends the role has open now, in kB.
backend_private_kb() {
  local pid total=0 kb
  for pid in $(sql postgres -c "SELECT pid FROM pg_stat_activity WHERE usename = '$1'"); do
    kb=$(awk '/^Private_(Clean|Dirty):/ { s += $2 } END { print s + 0 }' "/proc/$pid/smaps_rollup" 2>/dev/null || echo 0)
    total=$((total + kb))
  done
  echo "$total"
}

cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

pgss_totals() {  # role -> "exec_ms plan_ms calls"
  sql postgres -F ' ' -c "SELECT round(coalesce(sum(total_exec_time), 0)::numeric, 3),
                                 round(coalesce(sum(total_plan_time), 0)::numeric, 3), coalesce(sum(calls), 0)
                          FROM pg_stat_statements WHERE userid = '$1'::regrole AND toplevel"
}
pgss_reset() { sql postgres -c "SELECT pg_stat_statements_reset('$1'::regrole::oid)" >/dev/null; }

# scrape_loop NAME PORT PID BASE: warmup + scrapes scrapes, one every interval from BASE; the measurement window runs
# from the start of scrape #warmup to BASE + (warmup + scrapes) * interval.
scrape_loop() {
  local name=$1 port=$2 pid=$3 base=$4 role i t0 t1 result total=$((warmup + scrapes))
  role=$(role_of "$name")
  for ((i = 0; i < total; i++)); do
    sleep_until "$(awk -v b="$base" -v i="$i" -v s="$interval" 'BEGIN { printf "%.6f", b + i * s }')"
    if ((i == warmup)); then
      pgss_reset "$role"
      {
        echo "t_start $(now)"
        echo "ticks_start $(cpu_ticks "$pid")"
      } >"$work/$name.window"
    fi
    t0=$(now)
    result=$(scrape "http://127.0.0.1:$port/metrics" "$work/$name.body.$i")
    t1=$(now)
    echo "$i $t0 $t1 $result" >>"$work/$name.scrapes"
    if [[ $name == pgpulse ]] && ((i >= warmup)); then
      # Which databases pgpulse's table statistics query (collectors/statio_user_tables.yaml; pgpulse names the
      # collector in a comment in every collector statement) ran in, so far in the window (independent of its metrics).
      sql postgres -F ' ' -c "SELECT d.datname, s.calls FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
                              WHERE s.userid = '$role'::regrole AND s.toplevel
                                AND s.query LIKE '%/* pgpulse:statio_user_tables */%'" |
        awk -v i="$i" -v t="$t0" '{ print i, t, $1, $2 }' >>"$work/$name.refreshes"
    fi
  done
  sleep_until "$(awk -v b="$base" -v n="$total" -v s="$interval" 'BEGIN { printf "%.6f", b + n * s }')"
  {
    echo "t_end $(now)"
    echo "ticks_end $(cpu_ticks "$pid")"
    echo "rss_kb $(status_kb "$pid" VmRSS)"
    echo "hwm_kb $(status_kb "$pid" VmHWM)"
    echo "pgss $(pgss_totals "$role")"
    echo "backends_kb $(backend_private_kb "$role")"
  } >>"$work/$name.window"
  # Where the database time went, per query across all databases, per scrape of the window.
  sql postgres -F '|' -c "SELECT sum(calls)::float8 / $scrapes, sum(total_exec_time) / $scrapes, sum(total_plan_time) / $scrapes,
                                 left(regexp_replace(min(query), '\s+', ' ', 'g'), 90)
                          FROM pg_stat_statements WHERE userid = '$role'::regrole AND toplevel
                          GROUP BY queryid ORDER BY sum(total_exec_time + total_plan_time) DESC LIMIT 8" \
    >"$work/$name.top"
  if [[ $name == pgpulse ]]; then
    # The same by collector: pgpulse names the collector in a comment in each collector statement,
    # /* pgpulse:<name> */, which pg_stat_statements keeps in its text (the queryid ignores comments). Untagged: session
    # set-up, capability checks, BEGIN/ROLLBACK around each collector statement.
    sql postgres -F '|' -c "SELECT coalesce(substring(query FROM '/\* pgpulse:([a-z0-9_]+) \*/'), '-'),
                                   sum(calls)::float8 / $scrapes, sum(total_exec_time) / $scrapes,
                                   sum(total_plan_time) / $scrapes
                            FROM pg_stat_statements WHERE userid = '$role'::regrole AND toplevel
                            GROUP BY 1 ORDER BY sum(total_exec_time + total_plan_time) DESC" >"$work/$name.collectors"
  fi
}

pgpulse_port=$(free_port)
peer_port=$(free_port)
while [[ $peer_port == "$pgpulse_port" ]]; do peer_port=$(free_port); done

log "starting pgpulse ($("$pgpulse_bin" --version 2>&1 | head -1)) and postgres_exporter"
declare -A fig
fig[pgpulse.started]=$(now)
start_exporter pgpulse "$pgpulse_port" "$work/pgpulse.log"
pgpulse_pid=$started_pid
fig[peer.started]=$(now)
start_exporter peer "$peer_port" "$work/peer.log"
peer_pid=$started_pid

base=$(awk -v n="$(now)" 'BEGIN { printf "%.6f", n + 0.5 }')
offset=$(awk -v s="$interval" 'BEGIN { printf "%.3f", s / 2 }')
run_seconds=$(((warmup + scrapes) * interval))
log "scraping both every $interval s ($warmup warm-up + $scrapes measured scrapes, ${run_seconds} s; peer offset by $offset s)"
scrape_loop pgpulse "$pgpulse_port" "$pgpulse_pid" "$base" &
loop_pgpulse=$!
scrape_loop peer "$peer_port" "$peer_pid" "$(awk -v b="$base" -v o="$offset" 'BEGIN { printf "%.6f", b + o }')" &
loop_peer=$!
owned_pids+=("$loop_pgpulse" "$loop_peer")
wait "$loop_pgpulse" || die "pgpulse's scrape loop failed"
wait "$loop_peer" || die "postgres_exporter's scrape loop failed"
owned_pids=("${owned_pids[@]:0:${#owned_pids[@]}-2}")
for name in pgpulse peer; do
  pid_var=${name}_pid
  kill -0 "${!pid_var}" 2>/dev/null || die "$name died during the run: $(tail -20 "$work/$name.log")"
done
stop_exporter "$pgpulse_pid"
stop_exporter "$peer_pid"

# --- 1 scrape against 4 simultaneous scrapes, each on a fresh process (same empty caches) ---------------------------
log "1 scrape vs 4 simultaneous scrapes, each on a freshly started exporter"
for name in pgpulse peer; do
  role=$(role_of "$name")
  port=$([[ $name == pgpulse ]] && echo "$pgpulse_port" || echo "$peer_port")
  for n in 1 4; do
    start_exporter "$name" "$port" "$work/$name.sf$n.log"
    # pgpulse runs a first refresh at start (deadline 10 s); it must be over before counting starts.
    if [[ $name == pgpulse ]]; then sleep 11; else sleep 2; fi
    pgss_reset "$role"
    t0=$(now)
    declare -a curls=()
    for ((j = 1; j <= n; j++)); do
      scrape "http://127.0.0.1:$port/metrics" "$work/$name.sf$n.body.$j" >"$work/$name.sf$n.result.$j" &
      curls+=($!)
    done
    for c in "${curls[@]}"; do wait "$c"; done
    t1=$(now)
    sleep 1
    totals=$(pgss_totals "$role")
    marker=$(sql postgres -c "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements
                              WHERE userid = '$role'::regrole AND toplevel
                                AND query ILIKE '%FROM pg_stat_database%' AND query NOT ILIKE '%pg_stat_database_conflicts%'")
    stop_exporter "$started_pid"
    codes=$(cat "$work/$name.sf$n.result."* | awk '{ printf "%s%s", sep, $1; sep = "," }')
    echo "$n $t0 $t1 $totals $marker $codes" >>"$work/$name.sf"
  done
done

stop_pid "$sampler_pid"
sampler_pid=""

# --- server CPU of one new connection (fork, SCRAM, backend start), which pg_stat_statements does not see ------------
# Exited backends' CPU lands in the postmaster's cutime + cstime; 200 connections of a third pg_monitor role that run
# one SELECT 1 each, minus the same time idle (autovacuum), give the cost of one.
log "calibrating the server CPU of a new connection"
pw_probe=$(secret)
sql postgres -c "CREATE ROLE bench_probe LOGIN PASSWORD '$pw_probe' IN ROLE pg_monitor" >/dev/null
postmaster_pid=$(head -1 "$pgdata/postmaster.pid")
child_ticks() { sed 's/.*) //' "/proc/$postmaster_pid/stat" | awk '{ print $14 + $15 }'; }
calib_n=200
c0=$(child_ticks)
calib_start=$(now)
for ((j = 0; j < calib_n; j++)); do
  PGPASSWORD=$pw_probe "$pg_bindir/psql" -X -q -At -h 127.0.0.1 -p "$pgport" -U bench_probe -d svc_001 \
    -c 'SELECT 1' >/dev/null || die "calibration connection failed"
done
sleep 0.5
c1=$(child_ticks)
calib_seconds=$(awk -v a="$calib_start" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }')
sleep "$calib_seconds"
c2=$(child_ticks)
conn_cpu_ms=$(awk -v a="$c0" -v b="$c1" -v c="$c2" -v hz="$(getconf CLK_TCK)" -v n="$calib_n" \
  'BEGIN { d = (b - a) - (c - b); if (d < 0) d = 0; printf "%.2f", d * 1000 / hz / n }')

# --- client CPU of one SCRAM login (libpq), which every exporter pays in its own process ----------------------------
# tests/bench/login_cpu.c logs in 200 times in one process (libpq and OpenSSL initialised once, as in a running
# exporter), as a SCRAM role and as a trust role; the difference is what the SCRAM exchange costs libpq: mostly
# PBKDF2 with 4096 HMAC-SHA-256 iterations through OpenSSL.
log "calibrating the client CPU of a SCRAM login"
sql postgres -c "CREATE ROLE bench_trust LOGIN IN ROLE pg_monitor" >/dev/null
# shellcheck disable=SC2046  # pkg-config's flags are several words on purpose
cc -O2 -o "$work/login_cpu" "$repo/tests/bench/login_cpu.c" $(pkg-config --cflags --libs libpq) ||
  die "cannot compile tests/bench/login_cpu.c"
login_ms() {  # role password -> client CPU per login, ms
  PGPASSWORD=$2 "$work/login_cpu" "host=127.0.0.1 port=$pgport user=$1 dbname=svc_001 sslmode=disable" "$calib_n" ||
    die "calibration logins as $1 failed"
}
scram_login_ms=$(login_ms bench_probe "$pw_probe")
trust_login_ms=$(login_ms bench_trust "")
scram_client_ms=$(awk -v s="$scram_login_ms" -v t="$trust_login_ms" 'BEGIN { d = s - t; printf "%.2f", (d < 0 ? 0 : d) }')

# --- analysis ------------------------------------------------------------------------------------------------------
log "analysing"
# The per-table collectors: those that run in every database (scope: database), as built into this tree.
per_table_collectors=$(grep -l '^scope: database' "$repo"/collectors/*.yaml | sed 's#.*/##; s#\.yaml$##' | sort | tr '\n' ' ')
duration_s() {  # 90s, 5m, 1h, 1m30s -> seconds; anything else: empty
  awk -v d="$1" 'BEGIN { t = 0; while (match(d, /^[0-9]+[hms]/)) { n = substr(d, 1, RLENGTH - 1) + 0
    u = substr(d, RLENGTH, 1); t += n * (u == "h" ? 3600 : u == "m" ? 60 : 1); d = substr(d, RLENGTH + 1) }
    if (d == "") print t }'
}
ttl_of() {  # collector -> its TTL in seconds: BENCH_PGPULSE_COLLECTORS' setting, else the built-in file's, else 0
  local name=$1 ttl=""
  if [[ -n ${BENCH_PGPULSE_COLLECTORS:-} ]]; then
    ttl=$(sed -n "s/^[[:space:]]*$name:.*ttl:[[:space:]]*\([0-9hms]*\).*/\1/p" "$BENCH_PGPULSE_COLLECTORS" | tail -1)
  fi
  [[ -n $ttl ]] || ttl=$(sed -n 's/^ttl:[[:space:]]*\([0-9hms]*\).*/\1/p' "$repo/collectors/$name.yaml" 2>/dev/null)
  duration_s "${ttl:-0s}"
}
# Per scrape: series (sample lines), pg_up, services with table statistics, served age of table statistics.
analyse_bodies() {
  local name=$1 cov_metric=$2 i
  for ((i = 0; i < warmup + scrapes; i++)); do
    local body=$work/$name.body.$i
    if [[ ! -f $body ]]; then
      echo "0 - 0 - 0"
      continue
    fi
    awk -v cov="$cov_metric" '
      /^#/ || NF == 0 { next }
      { series++ }
      $1 ~ /^pg_up($|\{)/ { up = $NF }
      index($1, cov "{") == 1 && match($1, /datname="svc_[0-9]+"/) { seen[substr($1, RSTART, RLENGTH)] = 1 }
      index($1, "pgpulse_collector_cache_age_seconds{") == 1 && index($1, "collector=\"statio_user_tables\"") { age = $NF }
      /^pg_stat_statements/ || /^pg_stat_statements_/ { stmts++ }
      END {
        n = 0; for (k in seen) n++
        printf "%d %s %d %s %d\n", series, (up == "" ? "-" : up), n, (age == "" ? "-" : age), stmts
      }' "$body"
  done
}
analyse_bodies pgpulse pg_statio_user_tables_heap_blocks_hit >"$work/pgpulse.bodies"
# The oldest cached result pgpulse served per collector, over the measured scrapes: "collector seconds".
for ((i = warmup; i < warmup + scrapes; i++)); do
  [[ -f $work/pgpulse.body.$i ]] || continue
  sed -n 's/^pgpulse_collector_cache_age_seconds{.*collector="\([a-z0-9_]*\)".*} \([0-9.e+-]*\)$/\1 \2/p' \
    "$work/pgpulse.body.$i"
done | awk '$2 + 0 > m[$1] + 0 || !($1 in m) { m[$1] = $2 } END { for (c in m) print c, m[c] }' >"$work/pgpulse.ages"
analyse_bodies peer pg_statio_user_tables_heap_blks_hit >"$work/peer.bodies"
paste -d ' ' "$work/pgpulse.scrapes" "$work/pgpulse.bodies" >"$work/pgpulse.table"
paste -d ' ' "$work/peer.scrapes" "$work/peer.bodies" >"$work/peer.table"

window_value() { awk -v k="$2" '$1 == k { $1 = ""; sub(/^ /, ""); print }' "$work/$1.window"; }
connections_opened() {  # role t_start t_end (from log_connections)
  awk -v role="user=$1" -v a="$2" -v b="$3" '
    /connection authorized:/ && index($0, role " ") { t = $1 + 0; if (t >= a && t <= b) n++ }
    END { print n + 0 }' "$pglog"
}
# max connections of column COL in the sampler during [t0, t1] of each scrape in FILE (fields 2, 3), and overall
max_conns_during() {  # col scrape-file [first-index]
  awk -v col="$1" -v first="${3:-0}" '
    FNR == NR { if (NF == 3 && $1 ~ /^[0-9.]+$/) { n++; ts[n] = $1; c[n] = $col } next }
    $1 >= first { for (k = 1; k <= n; k++) if (ts[k] >= $2 - 0.05 && ts[k] <= $3 + 0.05 && c[k] > m) m = c[k] }
    END { print m + 0 }' "$sampler_file" "$2"
}
max_conns_all() { awk -v col="$1" 'NF == 3 && $1 ~ /^[0-9.]+$/ && $col > m { m = $col } END { print m + 0 }' "$sampler_file"; }
samples_taken=$(awk 'NF == 3 && $1 ~ /^[0-9.]+$/' "$sampler_file" | wc -l)
((samples_taken > 10)) || die "the connection sampler recorded nothing: $(cat "$work/sampler.err")"

clk_tck=$(getconf CLK_TCK)
for name in pgpulse peer; do
  role=$(role_of "$name")
  col=$([[ $name == pgpulse ]] && echo 2 || echo 3)
  t_start=$(window_value "$name" t_start)
  t_end=$(window_value "$name" t_end)
  read -r exec_ms plan_ms calls <<<"$(window_value "$name" pgss)"
  ticks=$(($(window_value "$name" ticks_end) - $(window_value "$name" ticks_start)))
  fig[$name.cpu_ms]=$(awk -v t="$ticks" -v hz="$clk_tck" -v n="$scrapes" 'BEGIN { printf "%.1f", t * 1000 / hz / n }')
  fig[$name.rss_mib]=$(awk -v k="$(window_value "$name" rss_kb)" 'BEGIN { printf "%.1f", k / 1024 }')
  fig[$name.hwm_mib]=$(awk -v k="$(window_value "$name" hwm_kb)" 'BEGIN { printf "%.1f", k / 1024 }')
  fig[$name.exec_ms]=$(awk -v x="$exec_ms" -v n="$scrapes" 'BEGIN { printf "%.1f", x / n }')
  fig[$name.plan_ms]=$(awk -v x="$plan_ms" -v n="$scrapes" 'BEGIN { printf "%.1f", x / n }')
  fig[$name.dbtime_ms]=$(awk -v x="$exec_ms" -v y="$plan_ms" -v n="$scrapes" 'BEGIN { printf "%.1f", (x + y) / n }')
  fig[$name.backends_mib]=$(awk -v k="$(window_value "$name" backends_kb)" 'BEGIN { printf "%.1f", k / 1024 }')
  fig[$name.calls]=$(awk -v x="$calls" -v n="$scrapes" 'BEGIN { printf "%.0f", x / n }')
  fig[$name.opened]=$(awk -v x="$(connections_opened "$role" "$t_start" "$t_end")" -v n="$scrapes" \
    'BEGIN { printf "%.1f", x / n }')
  fig[$name.conn_cpu_ms]=$(awk -v o="${fig[$name.opened]}" -v c="$conn_cpu_ms" 'BEGIN { printf "%.1f", o * c }')
  fig[$name.logins_min]=$(awk -v o="${fig[$name.opened]}" -v s="$interval" 'BEGIN { printf "%.0f", o * 60 / s }')
  fig[$name.conn_cpu_min]=$(awk -v o="${fig[$name.opened]}" -v c="$conn_cpu_ms" -v s="$interval" \
    'BEGIN { printf "%.0f", o * c * 60 / s }')
  fig[$name.login_cpu_ms]=$(awk -v o="${fig[$name.opened]}" -v c="$scram_client_ms" 'BEGIN { printf "%.1f", o * c }')
  fig[$name.cpu_wo_login_ms]=$(awk -v a="${fig[$name.cpu_ms]}" -v b="${fig[$name.login_cpu_ms]}" \
    'BEGIN { d = a - b; printf "%.1f", (d < 0 ? 0 : d) }')
  fig[$name.window_s]=$(awk -v a="$t_start" -v b="$t_end" 'BEGIN { printf "%.0f", b - a }')
  # window rows: index >= warmup
  fig[$name.series]=$(awk -v w="$warmup" '$1 >= w { print $7 }' "$work/$name.table" | sort -n |
    awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
  fig[$name.stmt_series]=$(awk -v w="$warmup" '$1 >= w { print $11 }' "$work/$name.table" | sort -n |
    awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
  fig[$name.bytes]=$(awk -v w="$warmup" '$1 >= w { print $6 }' "$work/$name.table" | sort -n |
    awk '{ v[NR] = $1 } END { printf "%.1f", v[int((NR + 1) / 2)] / 1048576 }')
  fig[$name.wall_med]=$(awk -v w="$warmup" '$1 >= w { print $5 }' "$work/$name.table" | sort -g |
    awk '{ v[NR] = $1 } END { printf "%.2f", v[int((NR + 1) / 2)] }')
  fig[$name.wall_max]=$(awk -v w="$warmup" '$1 >= w && $5 > m { m = $5 } END { printf "%.2f", m }' "$work/$name.table")
  fig[$name.over_timeout]=$(awk -v w="$warmup" -v t="$scrape_timeout" '$1 >= w && $5 > t { n++ } END { print n + 0 }' \
    "$work/$name.table")
  fig[$name.conn_scrape]=$(max_conns_during "$col" "$work/$name.scrapes" "$warmup")
  fig[$name.conn_all]=$(max_conns_all "$col")
  fig[$name.failed]=$(awk '$4 != 200 || $8 != 1 { n++ } END { print n + 0 }' "$work/$name.table")
  fig[$name.cov_first]=$(awk -v n="$databases" '$9 >= n { print $1; exit }' "$work/$name.table")
  fig[$name.cov_first_s]=$(awk -v n="$databases" -v s="${fig[$name.started]}" \
    '$9 >= n { printf "%.0f", $3 - s; exit }' "$work/$name.table")
  fig[$name.cov_window_min]=$(awk -v w="$warmup" '$1 >= w { if (m == "" || $9 < m) m = $9 } END { print m }' \
    "$work/$name.table")
  read -r _ s1_t0 s1_t1 s1_exec _ s1_calls s1_marker s1_codes <<<"$(awk '$1 == 1' "$work/$name.sf")"
  read -r _ s4_t0 s4_t1 s4_exec _ s4_calls s4_marker s4_codes <<<"$(awk '$1 == 4' "$work/$name.sf")"
  fig[$name.sf_calls1]=$s1_calls
  fig[$name.sf_calls4]=$s4_calls
  fig[$name.sf_marker1]=$s1_marker
  fig[$name.sf_marker4]=$s4_marker
  fig[$name.sf_ratio]=$(awk -v a="$s4_calls" -v b="$s1_calls" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
  fig[$name.sf_wall1]=$(awk -v a="$s1_t0" -v b="$s1_t1" 'BEGIN { printf "%.2f", b - a }')
  fig[$name.sf_wall4]=$(awk -v a="$s4_t0" -v b="$s4_t1" 'BEGIN { printf "%.2f", b - a }')
  fig[$name.sf_exec1]=$s1_exec
  fig[$name.sf_exec4]=$s4_exec
  fig[$name.sf_conn4]=$(awk -v col="$col" -v a="$s4_t0" -v b="$s4_t1" \
    'NF == 3 && $1 ~ /^[0-9.]+$/ && $1 >= a - 0.05 && $1 <= b + 0.05 && $col > m { m = $col } END { print m + 0 }' \
    "$sampler_file")
  if [[ $s1_codes != 200 || $s4_codes != 200,200,200,200 ]]; then
    failed=${fig[$name.failed]}
    fig[$name.failed]=$((failed + 1))
  fi
done
# pgpulse's staleness apart from its own metric (pgpulse.ages): the longest gap between two runs of its table
# statistics query in one database, from pg_stat_statements (sampled after every scrape).
read -r gap_max gap_dbs refreshed_dbs <<<"$(awk -v w="$warmup" '
  { db = $3; if ($4 > last[db]) { if (db in prev) { g = $2 - prev[db]; if (g > gap[db]) gap[db] = g } prev[db] = $2 } last[db] = $4 }
  END { m = 0; n = 0; r = 0
        for (db in prev) { if (db ~ /^svc_/) r++ }
        for (db in gap) { if (db !~ /^svc_/) continue; n++; if (gap[db] > m) m = gap[db] }
        printf "%.0f %d %d\n", m, n, r }' "$work/pgpulse.refreshes" 2>/dev/null || echo "0 0 0")"
fig[pgpulse.gap_max]="$gap_max s"
((gap_dbs > 0)) || fig[pgpulse.gap_max]="- (< 2 refreshes)"
fig[pgpulse.refreshed_dbs]=$refreshed_dbs
# The per-table collectors' share of pgpulse's database time, from the per-collector split.
read -r tables_exec tables_plan <<<"$(awk -F'|' -v list=" $per_table_collectors" \
  'index(list, " " $1 " ") { e += $3; p += $4 } END { printf "%.1f %.1f\n", e, p }' "$work/pgpulse.collectors")"
fig[pgpulse.tables_exec_ms]=$tables_exec
fig[pgpulse.tables_plan_ms]=$tables_plan
fig[pgpulse.sizes_exec_ms]=$(awk -F'|' '$1 == "table_sizes" { printf "%.1f", $3 }' "$work/pgpulse.collectors")
dealloc=$(sql postgres -c "SELECT dealloc FROM pg_stat_statements_info")

# --- report --------------------------------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "n/a" }'; }
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { if (r == "n/a") print "n/a"; else print (r + 0 <= t + 0 ? "PASS" : "MISS") }'; }
first_line() { "$@" 2>&1 | head -1 || true; }

row() { printf '%-44s %18s %18s %8s  %-13s %s\n' "$@"; }
pass_if() {  # awk condition on v -> PASS/MISS
  awk -v v="$1" "BEGIN { print (v != \"\" && v != \"n/a\" && ($2) ? \"PASS\" : \"MISS\") }"
}

report() {
  local cpu_r rss_r db_r name
  cpu_r=$(ratio "${fig[pgpulse.cpu_ms]}" "${fig[peer.cpu_ms]}")
  rss_r=$(ratio "${fig[pgpulse.rss_mib]}" "${fig[peer.rss_mib]}")
  db_r=$(ratio "${fig[pgpulse.exec_ms]}" "${fig[peer.exec_ms]}")
  echo "pgpulse vs postgres_exporter: side-by-side benchmark ($(date -u '+%Y-%m-%d %H:%M UTC'))"
  echo
  echo "machine     $(nproc) CPUs ($(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)), $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM, Linux $(uname -r), Debian $(cat /etc/debian_version 2>/dev/null || echo '?')"
  echo "pgpulse     $(first_line "$pgpulse_bin" --version), $build_type build, built $pgpulse_built, tree $tree at the start"
  echo "            config: one target (DSN to the postgres database), $pgpulse_config_note"
  echo "peer        $(first_line "$peer_bin" --version)"
  echo "            --auto-discover-databases $peer_queries_note"
  echo "PostgreSQL  $pg_version; $databases service databases x $tables tables ($shape: $shape_note) + postgres;"
  echo "            pg_stat_statements.track=all, track_planning=on"
  echo "schedule    both exporters at once, each as its own pg_monitor role, one scrape every $interval s each (the peer $offset s later);"
  echo "            $warmup warm-up scrapes, then $scrapes measured scrapes over ${fig[pgpulse.window_s]} s; text format, no gzip"
  echo
  row "figure, per scrape unless said" "pgpulse" "postgres_exporter" "ratio" "target" "result"
  row "------------------------------" "-------" "-----------------" "-----" "------" "------"
  row "exporter CPU, user+system (ms)" "${fig[pgpulse.cpu_ms]}" "${fig[peer.cpu_ms]}" "$cpu_r" "<= 0.1x" "$(verdict "$cpu_r" 0.1)"
  row "  of it SCRAM logins (est.)" "${fig[pgpulse.login_cpu_ms]}" "${fig[peer.login_cpu_ms]}" "" "" ""
  row "  the rest (est.)" "${fig[pgpulse.cpu_wo_login_ms]}" "${fig[peer.cpu_wo_login_ms]}" "$(ratio "${fig[pgpulse.cpu_wo_login_ms]}" "${fig[peer.cpu_wo_login_ms]}")" "" ""
  row "exporter RSS after the scrapes (MiB)" "${fig[pgpulse.rss_mib]}" "${fig[peer.rss_mib]}" "$rss_r" "<= 0.33x" "$(verdict "$rss_r" 0.33)"
  row "exporter peak RSS, VmHWM (MiB)" "${fig[pgpulse.hwm_mib]}" "${fig[peer.hwm_mib]}" "$(ratio "${fig[pgpulse.hwm_mib]}" "${fig[peer.hwm_mib]}")" "" ""
  row "database execution time (ms)" "${fig[pgpulse.exec_ms]}" "${fig[peer.exec_ms]}" "$db_r" "<= 0.1x" "$(verdict "$db_r" 0.1)"
  row "  of it per-table collectors (ms)" "${fig[pgpulse.tables_exec_ms]}" "" \
    "$(ratio "${fig[pgpulse.tables_exec_ms]}" "${fig[pgpulse.exec_ms]}")" "" "(share)"
  row "  of it table_sizes (ms)" "${fig[pgpulse.sizes_exec_ms]:-0}" "" "" "" ""
  row "database planning time (ms)" "${fig[pgpulse.plan_ms]}" "${fig[peer.plan_ms]}" "$(ratio "${fig[pgpulse.plan_ms]}" "${fig[peer.plan_ms]}")" "" ""
  row "database execution + planning (ms)" "${fig[pgpulse.dbtime_ms]}" "${fig[peer.dbtime_ms]}" "$(ratio "${fig[pgpulse.dbtime_ms]}" "${fig[peer.dbtime_ms]}")" "" ""
  row "statements executed" "${fig[pgpulse.calls]}" "${fig[peer.calls]}" "$(ratio "${fig[pgpulse.calls]}" "${fig[peer.calls]}")" "" ""
  row "connections opened" "${fig[pgpulse.opened]}" "${fig[peer.opened]}" "" "" ""
  row "  server CPU to open them (est., ms)" "${fig[pgpulse.conn_cpu_ms]}" "${fig[peer.conn_cpu_ms]}" "" "" ""
  row "logins per minute" "${fig[pgpulse.logins_min]}" "${fig[peer.logins_min]}" "" "" ""
  row "  their server CPU per minute (est., ms)" "${fig[pgpulse.conn_cpu_min]}" "${fig[peer.conn_cpu_min]}" "" "" ""
  row "max open connections during a scrape" "${fig[pgpulse.conn_scrape]}" "${fig[peer.conn_scrape]}" "" "" ""
  row "their backends' private memory (MiB)" "${fig[pgpulse.backends_mib]}" "${fig[peer.backends_mib]}" "" "" ""
  row "series (sample lines, median)" "${fig[pgpulse.series]}" "${fig[peer.series]}" "$(ratio "${fig[pgpulse.series]}" "${fig[peer.series]}")" "" ""
  row "  of them pg_stat_statements*" "${fig[pgpulse.stmt_series]}" "${fig[peer.stmt_series]}" "" "" ""
  row "exposition size (MiB, median)" "${fig[pgpulse.bytes]}" "${fig[peer.bytes]}" "" "" ""
  row "wall time, median / max (s)" "${fig[pgpulse.wall_med]} / ${fig[pgpulse.wall_max]}" "${fig[peer.wall_med]} / ${fig[peer.wall_max]}" "" "" ""
  row "scrapes longer than ${scrape_timeout} s" "${fig[pgpulse.over_timeout]} of $scrapes" "${fig[peer.over_timeout]} of $scrapes" "" "" ""
  echo
  row "1 scrape vs 4 simultaneous (fresh process)" "pgpulse" "postgres_exporter" "" "target" "result"
  row "statements run: 1 / 4 simultaneous" "${fig[pgpulse.sf_calls1]} / ${fig[pgpulse.sf_calls4]}" "${fig[peer.sf_calls1]} / ${fig[peer.sf_calls4]}" "" "" ""
  row "  4 simultaneous / 1" "${fig[pgpulse.sf_ratio]}" "${fig[peer.sf_ratio]}" "" "= 1 refresh" \
    "$(awk -v r="${fig[pgpulse.sf_ratio]}" -v a="${fig[pgpulse.sf_marker1]}" -v b="${fig[pgpulse.sf_marker4]}" \
      'BEGIN { print (a == b && r + 0 > 0 && r + 0 <= 1.25 ? "PASS" : "MISS") }')"
  row "  pg_stat_database read: 1 / 4 simult." "${fig[pgpulse.sf_marker1]} / ${fig[pgpulse.sf_marker4]}" "${fig[peer.sf_marker1]} / ${fig[peer.sf_marker4]}" "" "" ""
  row "  wall time: 1 / 4 simultaneous (s)" "${fig[pgpulse.sf_wall1]} / ${fig[pgpulse.sf_wall4]}" "${fig[peer.sf_wall1]} / ${fig[peer.sf_wall4]}" "" "" ""
  row "  max open connections, 4 simultaneous" "${fig[pgpulse.sf_conn4]}" "${fig[peer.sf_conn4]}" "" "" ""
  echo
  row "table statistics of all $databases databases" "pgpulse" "postgres_exporter" "" "target" "result"
  row "all served for the first time, after start" "${fig[pgpulse.cov_first_s]:-never} s (#${fig[pgpulse.cov_first]:--})" "${fig[peer.cov_first_s]:-never} s (#${fig[peer.cov_first]:--})" "" "" ""
  row "fewest databases served by one scrape" "${fig[pgpulse.cov_window_min]}" "${fig[peer.cov_window_min]}" "" "$databases" "$(pass_if "${fig[pgpulse.cov_window_min]}" "v + 0 >= $databases")"
  local collector ttl age
  for collector in $per_table_collectors; do
    ttl=$(ttl_of "$collector")
    age=$(awk -v c="$collector" '$1 == c { printf "%.1f", $2 }' "$work/pgpulse.ages")
    row "oldest $collector served (s)" "${age:--}" "0 (no cache)" "" "<= ${ttl} s" \
      "$(if [[ -n $age ]]; then pass_if "$age" "v + 0 <= $ttl"; else echo "n/a"; fi)"
  done
  row "longest gap between 2 refreshes of one DB" "${fig[pgpulse.gap_max]}" "$interval s" "" "" ""
  row "databases refreshed in the window" "${fig[pgpulse.refreshed_dbs]}" "$databases" "" "" ""
  row "max connections held, whole run" "${fig[pgpulse.conn_all]}" "${fig[peer.conn_all]}" "" "<= 4" "$(pass_if "${fig[pgpulse.conn_all]}" 'v + 0 <= 4')"
  echo
  echo "ratio = pgpulse / postgres_exporter; a MISS is reported, it does not fail the run. A new connection costs the server"
  echo "${conn_cpu_ms} ms of CPU (fork, SCRAM, backend start; $calib_n measured); a SCRAM login costs the client (libpq)"
  echo "${scram_client_ms} ms of CPU more than a trust login ($calib_n each). pg_stat_statements deallocations: $dealloc (must be 0)."
  for name in pgpulse peer; do
    echo
    echo "where $([[ $name == pgpulse ]] && echo pgpulse || echo postgres_exporter)'s database time goes (per scrape of the window; each query summed over all databases):"
    awk -F'|' 'BEGIN { printf "  %8s %9s %9s  %s\n", "calls", "exec ms", "plan ms", "query" }
               { printf "  %8.1f %9.1f %9.1f  %s\n", $1, $2, $3, $4 }' "$work/$name.top"
  done
  echo
  echo "pgpulse's database time by collector (per scrape of the window; '-': session set-up, capability checks and the"
  echo "BEGIN/ROLLBACK around each collector statement; * runs in every database, with its TTL):"
  awk -F'|' -v list=" $per_table_collectors" -v total="${fig[pgpulse.dbtime_ms]}" '
    BEGIN { printf "  %-28s %8s %9s %9s %7s\n", "collector", "calls", "exec ms", "plan ms", "share" }
    { printf "  %-28s %8.1f %9.1f %9.1f %6.1f%%\n", $1 (index(list, " " $1 " ") ? " *" : ""), $2, $3, $4,
             (total > 0 ? 100 * ($3 + $4) / total : 0) }' "$work/pgpulse.collectors"
  echo
  echo "How each figure is measured: tests/bench/README.md."
}

mkdir -p "$(dirname "$out")"
report | tee "$out"
echo
echo "results written to $out"

broken=0
for name in pgpulse peer; do
  if ((fig[$name.failed] > 0)); then
    log "ERROR: $name: ${fig[$name.failed]} scrapes failed (HTTP status other than 200, or pg_up != 1)"
    broken=1
  fi
done
[[ $dealloc == 0 ]] || { log "ERROR: pg_stat_statements evicted entries; the database figures are incomplete"; broken=1; }
exit "$broken"
