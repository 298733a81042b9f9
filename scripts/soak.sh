#!/usr/bin/env bash
# The soak: pgpulse scraped once a second for a long stretch while the world it watches misbehaves as it does in
# production, to show that it neither leaks (memory, file descriptors) nor stops answering. In a temp dir removed on
# exit (Ctrl-C too), it starts:
#   - a throwaway PostgreSQL 15 (pg_stat_statements preloaded) with three service databases shaped like real ones:
#     erp (pgbench's tables), cafe (orders with TOAST-sized rows, indexes, a sequence) and treasury (a ledger with
#     sequences and indexes), each with pgbench traffic from start to end (restarted after each server restart);
#   - the reporting role from deploy/sql/reporting-role.sql, its password in a file;
#   - pgpulse, with a config whose target reads that password_file.
# Then, for the duration: one scrape of /metrics a second (with X-Prometheus-Scrape-Timeout-Seconds, as Prometheus
# sends it); every --every seconds, a password rotation (ALTER ROLE, then the file replaced atomically) and, a minute
# later, a server restart (pg_ctl restart -m fast), which makes pgpulse log in again with the rotated password; and
# every minute, pgpulse's RSS (VmRSS) and open file descriptors into a CSV.
# At the end it prints start / warm-up / end / max RSS and fds and a verdict. It exits non-zero when a scrape did not
# answer 200, when pg_up was 0 outside a restart window (the restart until 15 s after the server is back), when RSS
# grew from the warm-up sample (the 5th minute) to the end by more than --rss-margin-kb, or when the fds at the end
# differ from the fds at warm-up.
# Usage: scripts/soak.sh [--minutes N (30)] [--every SECONDS (300)] [--pgpulse PATH (build/pgpulse)]
#                        [--csv PATH (/tmp/pgpulse-soak-<time>.csv)] [--rss-margin-kb KB (4096)]
# Next to the CSV: <csv>-scrapes.csv (one line per scrape) and <csv>-pgpulse.log (pgpulse's log).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

minutes=30
every=300
pgpulse=$repo/build/pgpulse
csv=/tmp/pgpulse-soak-$(date -u +%Y%m%dT%H%M%SZ).csv
rss_margin_kb=4096
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes=$2; shift 2 ;;
    --every) every=$2; shift 2 ;;
    --pgpulse) pgpulse=$(realpath "$2"); shift 2 ;;
    --csv) csv=$(realpath -m "$2"); shift 2 ;;
    --rss-margin-kb) rss_margin_kb=$2; shift 2 ;;
    *)
      echo "usage: $0 [--minutes N] [--every SECONDS] [--pgpulse PATH] [--csv PATH] [--rss-margin-kb KB]" >&2
      exit 2
      ;;
  esac
done
[ -x "$pgpulse" ] || { echo "soak: no pgpulse binary at $pgpulse (cmake --build build --target pgpulse)" >&2; exit 2; }
duration=$((minutes * 60))
# The warm-up sample: the 5th minute, or a third of a short run (caches filled, every database visited).
warmup_min=5
[ "$minutes" -ge 10 ] || warmup_min=$(( minutes / 3 > 0 ? minutes / 3 : 1 ))
scrapes_csv=${csv%.csv}-scrapes.csv

pg_bin=/usr/lib/postgresql/15/bin
work=$(mktemp -d /tmp/pgpulse-soak-XXXXXX)
pids=()        # background jobs, each of which stops its own children on TERM
pgpulse_pid=
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  [ -n "$pgpulse_pid" ] && kill "$pgpulse_pid" 2>/dev/null || true
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -f "$work/pgpulse.log" ] && cp "$work/pgpulse.log" "${csv%.csv}-pgpulse.log" 2>/dev/null || true
  [ -d "$work/data" ] && as_pg "$pg_bin/pg_ctl" -D "$work/data" stop -m immediate >/dev/null 2>&1 || true
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# PostgreSQL refuses to run as root: use an unprivileged account for the server when needed.
if [ "$(id -u)" -eq 0 ]; then
  chown nobody "$work"
  as_pg() { runuser -u nobody -- "$@"; }
else
  as_pg() { "$@"; }
fi

port_is_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 40000))
    if port_is_free "$port"; then echo "$port"; return; fi
  done
  echo "soak: no free port found" >&2
  exit 1
}
new_password() { head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9'; }
secret_file() {  # path, content: a file only its owner (and the server's account) can read
  printf '%s\n' "$2" >"$1"
  chmod 600 "$1"
  [ "$(id -u)" -ne 0 ] || chown nobody "$1"
}
log() { echo "soak: [$(date -u +%H:%M:%S)] $*"; }

# The server: SCRAM over TCP, pg_stat_statements loaded.
superuser_password=$(new_password)
secret_file "$work/superuser.pw" "$superuser_password"
as_pg "$pg_bin/initdb" -D "$work/data" -U postgres --pwfile="$work/superuser.pw" --auth-local=trust \
  --auth-host=scram-sha-256 >/dev/null
pg_port=$(free_port)
cat >>"$work/data/postgresql.conf" <<CONF
port = $pg_port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$work'
shared_preload_libraries = 'pg_stat_statements'
CONF
pg_ctl() { as_pg "$pg_bin/pg_ctl" -D "$work/data" -l "$work/postgresql.log" -w "$@" >/dev/null; }
pg_ctl start || {  # the temp dir and its log go on exit: say why here
  echo "soak: PostgreSQL did not start; its log:" >&2
  tail "$work/postgresql.log" >&2
  exit 1
}
psql_su() { psql -q -X -h "$work" -p "$pg_port" -U postgres -v ON_ERROR_STOP=1 "$@"; }

# The service databases, each with its own role and pg_stat_statements.
app_password=$(new_password)
for service in erp cafe treasury; do
  psql_su -d postgres -c "CREATE ROLE ${service}_app LOGIN PASSWORD '$app_password'" \
    -c "CREATE DATABASE $service OWNER ${service}_app"
  psql_su -d "$service" -c "CREATE EXTENSION pg_stat_statements"
done
psql_su -d postgres -c "CREATE EXTENSION pg_stat_statements"
app_psql() { PGPASSWORD=$app_password psql -q -X -h 127.0.0.1 -p "$pg_port" -U "${1}_app" -d "$1" -v ON_ERROR_STOP=1; }
PGPASSWORD=$app_password pgbench -q -i -s 2 -h 127.0.0.1 -p "$pg_port" -U erp_app erp >/dev/null 2>&1
# cafe: orders whose notes are out-of-line TOAST values (STORAGE EXTERNAL, about 4 kB of random hex each).
app_psql cafe <<'SQL'
CREATE TABLE customers (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, created_at timestamptz DEFAULT now());
CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers,
                     status text NOT NULL, total numeric(12, 2) NOT NULL, notes text,
                     created_at timestamptz NOT NULL DEFAULT now());
ALTER TABLE orders ALTER COLUMN notes SET STORAGE EXTERNAL;
CREATE INDEX orders_customer_idx ON orders (customer_id);
CREATE INDEX orders_status_created_idx ON orders (status, created_at);
INSERT INTO customers (email) SELECT 'c' || i || '@example.invalid' FROM generate_series(1, 2000) i;
INSERT INTO orders (customer_id, status, total, notes)
SELECT 1 + i % 2000, 'open', i % 500,
       (SELECT string_agg(md5(random()::text || g), '') FROM generate_series(1, 128) g WHERE i > 0)  -- one per row
FROM generate_series(1, 3000) i;
SQL
cat >"$work/cafe.sql" <<'SQL'
\set customer random(1, 2000)
INSERT INTO orders (customer_id, status, total, notes)
  VALUES (:customer, 'open', random() * 100, (SELECT string_agg(md5(random()::text), '') FROM generate_series(1, 128)));
UPDATE orders SET status = 'paid' WHERE id = (SELECT max(id) FROM orders WHERE customer_id = :customer);
SELECT count(*), sum(total) FROM orders WHERE customer_id = :customer;
DELETE FROM orders WHERE id IN (SELECT id FROM orders WHERE status = 'paid' ORDER BY created_at LIMIT 1);
SQL
# treasury: a ledger with a sequence of its own for references, and indexes on accounts and time.
app_psql treasury <<'SQL'
CREATE SEQUENCE payment_ref_seq;
CREATE TABLE accounts (id serial PRIMARY KEY, iban text NOT NULL UNIQUE, balance numeric(14, 2) NOT NULL DEFAULT 0);
CREATE TABLE ledger (id bigserial PRIMARY KEY, ref bigint NOT NULL DEFAULT nextval('payment_ref_seq'),
                     account_id int NOT NULL REFERENCES accounts, amount numeric(14, 2) NOT NULL,
                     booked_at timestamptz NOT NULL DEFAULT now(), memo text);
CREATE INDEX ledger_account_booked_idx ON ledger (account_id, booked_at);
CREATE UNIQUE INDEX ledger_ref_idx ON ledger (ref);
INSERT INTO accounts (iban) SELECT 'XX' || lpad(i::text, 20, '0') FROM generate_series(1, 500) i;
SQL
cat >"$work/treasury.sql" <<'SQL'
\set account random(1, 500)
BEGIN;
INSERT INTO ledger (account_id, amount, memo) VALUES (:account, random() * 1000 - 500, repeat('memo ', 20));
UPDATE accounts SET balance = balance + 1 WHERE id = :account;
COMMIT;
SELECT sum(amount) FROM ledger WHERE account_id = :account AND booked_at > now() - interval '1 hour';
SQL
chmod 644 "$work"/*.sql

reporting_password=$(new_password)
secret_file "$work/reporting.pw" "$reporting_password"
psql_su -d postgres -v reporting_password_file="$work/reporting.pw" -f deploy/sql/reporting-role.sql >/dev/null

# Traffic: a light, steady load in each database for the whole run. pgbench ends when the server goes away, so each
# runs in a loop; the loop stops its pgbench on TERM.
traffic() {  # database, pgbench arguments...
  local database=$1 child=
  shift
  trap '[ -n "$child" ] && kill "$child" 2>/dev/null; exit 0' TERM
  while :; do
    PGPASSWORD=$app_password pgbench -n -c 2 -R 10 -T 86400 -h 127.0.0.1 -p "$pg_port" -U "${database}_app" "$@" \
      "$database" >>"$work/pgbench-$database.log" 2>&1 &
    child=$!
    wait "$child" || true
    child=
    sleep 1
  done
}
traffic erp & pids+=($!)
traffic cafe -f "$work/cafe.sql" & pids+=($!)
traffic treasury -f "$work/treasury.sql" & pids+=($!)

cat >"$work/pgpulse.yml" <<YAML
targets:
  - name: soak
    dsn: postgresql://pgpulse_reporting@127.0.0.1:$pg_port/postgres?sslmode=disable
    password_file: $work/reporting.pw
    labels: {cluster: soak}
YAML
exporter_port=$(free_port)
"$pgpulse" --config.file="$work/pgpulse.yml" --web.listen-address="127.0.0.1:$exporter_port" \
  2>"$work/pgpulse.log" &
pgpulse_pid=$!
metrics_url=http://127.0.0.1:$exporter_port/metrics
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$exporter_port/readyz" >/dev/null 2>&1 && break
  kill -0 "$pgpulse_pid" 2>/dev/null || {
    echo "soak: pgpulse exited; its log:" >&2
    cat "$work/pgpulse.log" >&2
    exit 1
  }
  sleep 0.2
done

rotate_password() {  # ALTER ROLE through the shipped script, then the file replaced in one rename
  local password
  password=$(new_password)
  secret_file "$work/reporting.pw.new" "$password"
  psql_su -d postgres -v reporting_password_file="$work/reporting.pw.new" -f deploy/sql/reporting-role.sql >/dev/null
  mv "$work/reporting.pw.new" "$work/reporting.pw"
}
sample() {  # elapsed seconds: one CSV line of pgpulse's RSS (kB) and open fds
  local rss fds
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pgpulse_pid/status")
  fds=$(find "/proc/$pgpulse_pid/fd" -mindepth 1 -maxdepth 1 | wc -l)
  echo "$1,$(date -u +%FT%TZ),$rss,$fds,$scrapes,$failed,$down_outside" >>"$csv"
  log "t=${1}s rss=${rss}kB fds=$fds scrapes=$scrapes non-200=$failed pg_up0-outside-restarts=$down_outside"
}

echo "elapsed_s,time_utc,rss_kb,fds,scrapes,non_200,pg_up_0_outside_restarts" >"$csv"
echo "elapsed_s,http_code,pg_up,seconds,in_restart_window" >"$scrapes_csv"
log "PostgreSQL 15 on 127.0.0.1:$pg_port, pgpulse (pid $pgpulse_pid) on $metrics_url; $minutes min, rotation every" \
  "${every}s at +$((every * 3 / 10))s, restart at +$((every / 2))s; CSV $csv"
scrapes=0 failed=0 down_outside=0 down_inside=0 restarts=0 rotations=0
restart_pid= window_until=0 last=false  # a restart in flight; the end of the last restart window (epoch seconds)
start=$(date +%s)
next_tick=$start next_sample=0 next_rotation=$((every * 3 / 10)) next_restart=$((every / 2))
while :; do
  # One scrape a second on the wall clock; a scrape slower than a second makes the next one start at once (on a
  # loaded machine the run has fewer scrapes, never a longer duration), and events are due by elapsed time.
  now=$(date +%s.%N)
  pause=$(echo "$next_tick - $now" | bc)
  [[ "$pause" == -* || "$pause" == 0 ]] || sleep "$pause"
  next_tick=$((next_tick + 1))
  [ "$next_tick" -gt "${now%.*}" ] || next_tick=$((${now%.*} + 1))
  elapsed=$(($(date +%s) - start))
  [ "$elapsed" -lt "$duration" ] || elapsed=$duration last=true
  kill -0 "$pgpulse_pid" 2>/dev/null || { echo "soak: pgpulse exited at t=${elapsed}s" >&2; exit 1; }
  if [ "$elapsed" -ge "$next_rotation" ] && ! $last; then
    rotate_password
    rotations=$((rotations + 1)) next_rotation=$((next_rotation + every))
    log "rotated the reporting password (rotation $rotations)"
  fi
  if [ "$elapsed" -ge "$next_restart" ] && [ -z "$restart_pid" ] && ! $last; then
    rm -f "$work/restarted"
    (pg_ctl restart -m fast && date +%s >"$work/restarted") &
    restart_pid=$!
    restarts=$((restarts + 1)) next_restart=$((next_restart + every))
    log "restarting the server (restart $restarts)"
  fi
  if [ -n "$restart_pid" ] && ! kill -0 "$restart_pid" 2>/dev/null; then
    wait "$restart_pid" || {
      echo "soak: pg_ctl restart failed; its log:" >&2
      tail "$work/postgresql.log" >&2
      exit 1
    }
    restart_pid=
    window_until=$(($(cat "$work/restarted") + 15))
    log "the server is back"
  fi
  in_window=0
  [ -n "$restart_pid" ] || [ "$(date +%s)" -le "$window_until" ] && in_window=1

  t0=$(date +%s.%N)
  code=$(curl -s -o "$work/scrape.txt" -w '%{http_code}' -m 10 -H 'X-Prometheus-Scrape-Timeout-Seconds: 5' \
    "$metrics_url" || true)
  seconds=$(echo "$(date +%s.%N) - $t0" | bc)
  scrapes=$((scrapes + 1))
  up=$(awk '/^pg_up\{/ {print $2; exit}' "$work/scrape.txt" 2>/dev/null || true)
  if [ "$code" != 200 ]; then
    failed=$((failed + 1))
    log "scrape at t=${elapsed}s answered '$code'"
  elif [ "$up" != 1 ]; then
    if [ "$in_window" = 1 ]; then
      down_inside=$((down_inside + 1))
    else
      down_outside=$((down_outside + 1))
      log "pg_up was '$up' at t=${elapsed}s, outside a restart window"
    fi
  fi
  echo "$elapsed,$code,$up,$seconds,$in_window" >>"$scrapes_csv"
  if [ "$elapsed" -ge "$next_sample" ] || $last; then
    sample "$elapsed"
    next_sample=$((next_sample + 60))
  fi
  ! $last || break
done
[ -z "$restart_pid" ] || wait "$restart_pid" || true

# The figures: rows of the CSV at the start, the warm-up minute and the end, and the maxima.
row() { awk -F, -v t="$1" 'NR > 1 && $1 >= t {print; exit}' "$csv"; }
field() { cut -d, -f"$2" <<<"$1"; }
first=$(row 0) warm=$(row $((warmup_min * 60))) last=$(tail -1 "$csv")
max_rss=$(awk -F, 'NR > 1 && $3 > m {m = $3} END {print m}' "$csv")
max_fds=$(awk -F, 'NR > 1 && $4 > m {m = $4} END {print m}' "$csv")
slowest=$(awk -F, 'NR > 1 && $4 > m {m = $4} END {print m}' "$scrapes_csv")
echo
echo "soak: $minutes min, $scrapes scrapes (slowest ${slowest}s), $restarts restarts, $rotations rotations"
printf 'soak: %-14s %10s %6s\n' "" "RSS (kB)" "fds"
printf 'soak: %-14s %10s %6s\n' "start" "$(field "$first" 3)" "$(field "$first" 4)"
printf 'soak: %-14s %10s %6s\n' "warm-up ${warmup_min} min" "$(field "$warm" 3)" "$(field "$warm" 4)"
printf 'soak: %-14s %10s %6s\n' "end" "$(field "$last" 3)" "$(field "$last" 4)"
printf 'soak: %-14s %10s %6s\n' "max" "$max_rss" "$max_fds"
echo "soak: non-200 answers: $failed; pg_up 0 outside restart windows: $down_outside (inside: $down_inside)"
echo "soak: CSV $csv, scrapes $scrapes_csv, pgpulse's log ${csv%.csv}-pgpulse.log"
verdict=0
growth=$(($(field "$last" 3) - $(field "$warm" 3)))
if [ "$growth" -gt "$rss_margin_kb" ]; then
  echo "soak: FAIL: RSS grew by ${growth} kB from the warm-up sample to the end (margin ${rss_margin_kb} kB)"
  verdict=1
fi
if [ "$(field "$last" 4)" != "$(field "$warm" 4)" ]; then
  echo "soak: FAIL: open fds went from $(field "$warm" 4) at warm-up to $(field "$last" 4) at the end"
  verdict=1
fi
if [ "$failed" -gt 0 ] || [ "$down_outside" -gt 0 ]; then
  echo "soak: FAIL: $failed scrapes did not answer 200, $down_outside had pg_up 0 outside a restart window"
  verdict=1
fi
[ "$verdict" -ne 0 ] || echo "soak: PASS (RSS growth after warm-up ${growth} kB, margin ${rss_margin_kb} kB)"
exit "$verdict"
