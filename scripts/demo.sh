#!/usr/bin/env bash
# The README's first command. Installs what is missing, builds pgpulse, and runs the world it watches, all in a temp
# dir that is removed on exit (Ctrl-C):
#   - a throwaway PostgreSQL 15 primary with three service databases (cafe, erp, treasury), each with its own role,
#     the reporting role made by deploy/sql/reporting-role.sql, and pgbench traffic in erp;
#   - a streaming standby of it;
#   - pgpulse on :9187 (another free port if 9187 is taken), watching both as cluster "demo";
#   - Prometheus with the shipped rules (alerts/) and Alertmanager with the example routing, when installed (the
#     install step installs them).
# It prints the addresses and the `pgpulse check` table.
# Usage: scripts/demo.sh           run until Ctrl-C
#        scripts/demo.sh --once    check once and stop: exit 0 only if both targets are up and `pgpulse check` passes
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
once=false
[ "${1:-}" = "--once" ] && once=true

bash scripts/install-deps.sh
# A build dir that scripts/test.sh configured is used as it is: configuring it again with other options would
# rebuild every object (CI runs the demo right after the tests).
[ -f build/CMakeCache.txt ] || cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target pgpulse
pgpulse=$repo/build/pgpulse

pg_bin=/usr/lib/postgresql/15/bin
work=$(mktemp -d /tmp/pgpulse-demo-XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for data in standby primary; do
    [ -d "$work/$data" ] && as_pg "$pg_bin/pg_ctl" -D "$work/$data" stop -m immediate >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# PostgreSQL refuses to run as root: use an unprivileged account for the servers when needed.
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
  echo "demo: no free port found" >&2
  exit 1
}
new_password() { head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9'; }
secret_file() {  # name, content: a file only its owner (and the servers' account) can read
  printf '%s\n' "$2" >"$work/$1"
  chmod 600 "$work/$1"
  [ "$(id -u)" -ne 0 ] || chown nobody "$work/$1"
}
wait_for() {  # url: until it answers 200, at most 10 s
  for _ in $(seq 1 50); do
    curl -fs "$1" >/dev/null 2>&1 && return
    sleep 0.2
  done
  echo "demo: $1 did not answer" >&2
  exit 1
}

# The primary: SCRAM over TCP, pg_stat_statements loaded, WAL for a standby (initdb's pg_hba allows replication
# connections from 127.0.0.1).
superuser_password=$(new_password)
secret_file superuser.pw "$superuser_password"
as_pg "$pg_bin/initdb" -D "$work/primary" -U postgres --pwfile="$work/superuser.pw" --auth-local=trust \
  --auth-host=scram-sha-256 >/dev/null
pg_port=$(free_port)
cat >>"$work/primary/postgresql.conf" <<CONF
port = $pg_port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$work'
shared_preload_libraries = 'pg_stat_statements'
CONF
as_pg "$pg_bin/pg_ctl" -D "$work/primary" -l "$work/primary.log" -w start >/dev/null
psql_su() { psql -q -h "$work" -p "$pg_port" -U postgres -v ON_ERROR_STOP=1 "$@"; }

# The world pgpulse watches: a database per service with its own role, and the read-only reporting role.
app_password=$(new_password)
for service in cafe erp treasury; do
  psql_su -d postgres -c "CREATE ROLE ${service}_app LOGIN PASSWORD '$app_password'" \
    -c "CREATE DATABASE $service OWNER ${service}_app"
  psql_su -d "$service" -c "CREATE EXTENSION pg_stat_statements"
done
psql_su -d postgres -c "CREATE EXTENSION pg_stat_statements"  # in the database pgpulse logs in to, for the statements
reporting_password=$(new_password)
secret_file reporting.pw "$reporting_password"
psql_su -d postgres -v reporting_password_file="$work/reporting.pw" -f deploy/sql/reporting-role.sql >/dev/null

# Traffic: pgbench's tables in erp, and a light, steady load (10 transactions a second) until the demo stops.
PGPASSWORD=$app_password pgbench -q -i -s 2 -h 127.0.0.1 -p "$pg_port" -U erp_app erp >/dev/null 2>&1
PGPASSWORD=$app_password pgbench -n -c 2 -R 10 -T 86400 -h 127.0.0.1 -p "$pg_port" -U erp_app erp \
  >"$work/pgbench.log" 2>&1 &
pids+=($!)

# The standby: a base backup of the primary that streams from it.
standby_port=$(free_port)
as_pg env PGPASSWORD="$superuser_password" "$pg_bin/pg_basebackup" -h 127.0.0.1 -p "$pg_port" -U postgres \
  -D "$work/standby" -R -X stream --checkpoint=fast  # a spread checkpoint would keep the user waiting minutes
cat >>"$work/standby/postgresql.conf" <<CONF
port = $standby_port
CONF
as_pg "$pg_bin/pg_ctl" -D "$work/standby" -l "$work/standby.log" -w start >/dev/null

cat >"$work/pgpulse.yml" <<YAML
targets:
  - name: demo-primary
    dsn: postgresql://pgpulse_reporting@127.0.0.1:$pg_port/postgres?sslmode=disable
    password_file: $work/reporting.pw
    labels: {cluster: demo}
  - name: demo-standby
    dsn: postgresql://pgpulse_reporting@127.0.0.1:$standby_port/postgres?sslmode=disable
    password_file: $work/reporting.pw
    labels: {cluster: demo}
YAML

exporter_port=9187
if ! port_is_free "$exporter_port"; then
  exporter_port=$(free_port)
  echo "demo: port 9187 is taken; pgpulse listens on $exporter_port instead"
fi
"$pgpulse" --config.file="$work/pgpulse.yml" --web.listen-address="127.0.0.1:$exporter_port" \
  2>"$work/pgpulse.log" &
pgpulse_pid=$!
pids+=($pgpulse_pid)
wait_for "http://127.0.0.1:$exporter_port/readyz"

addresses=(
  "PostgreSQL 15 : primary 127.0.0.1:$pg_port, standby 127.0.0.1:$standby_port (data in $work)"
  "pgpulse       : http://127.0.0.1:$exporter_port/  (status page; metrics at /metrics, log in $work/pgpulse.log)"
)
if command -v prometheus >/dev/null 2>&1 && command -v prometheus-alertmanager >/dev/null 2>&1 && ! $once; then
  # The example routing, with its placeholder webhooks pointed at a port nothing listens on: the alerts show in
  # Alertmanager's UI, and nothing leaves the machine.
  am_port=$(free_port)
  sed "s|https://[a-z]*\.example\.invalid/REPLACE-ME|http://127.0.0.1:9/|" alerts/alertmanager.example.yml \
    >"$work/alertmanager.yml"
  prometheus-alertmanager --config.file="$work/alertmanager.yml" --storage.path="$work/alertmanager" \
    --web.listen-address="127.0.0.1:$am_port" --cluster.listen-address= >"$work/alertmanager.log" 2>&1 &
  pids+=($!)
  prom_port=$(free_port)
  cat >"$work/prometheus.yml" <<YAML
global: {scrape_interval: 15s, scrape_timeout: 10s, evaluation_interval: 15s}
rule_files: ['$repo/alerts/*.yml']
alerting:
  alertmanagers: [{static_configs: [{targets: ['127.0.0.1:$am_port']}]}]
scrape_configs:
  - job_name: pgpulse
    static_configs: [{targets: ['127.0.0.1:$exporter_port']}]
YAML
  prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/prometheus" \
    --web.listen-address="127.0.0.1:$prom_port" >"$work/prometheus.log" 2>&1 &
  pids+=($!)
  addresses+=("Prometheus    : http://127.0.0.1:$prom_port/alerts  (the shipped rules)")
  addresses+=("Alertmanager  : http://127.0.0.1:$am_port/")
fi

echo
printf '%s\n' "${addresses[@]}"
echo
check_status=0
"$pgpulse" check --config.file="$work/pgpulse.yml" 2>>"$work/pgpulse-check.log" || check_status=$?
if $once; then
  # The body is read whole first: `curl | grep -q` fails under pipefail when grep stops reading at its match and
  # curl, still writing, gets a broken pipe (exit 23).
  body=$(curl -fs "http://127.0.0.1:$exporter_port/metrics")
  grep -E '^pg_up\{' <<<"$body"
  for target in demo-primary demo-standby; do
    grep -q "^pg_up{cluster=\"demo\",target=\"$target\"} 1\$" <<<"$body" || {
      echo "demo: $target is not up" >&2
      exit 1
    }
  done
  [ "$check_status" -eq 0 ] || {
    echo "demo: pgpulse check exited $check_status" >&2
    exit 1
  }
  exit 0
fi
echo
echo "Press Ctrl-C to stop; everything above is removed on exit."
wait "$pgpulse_pid"
