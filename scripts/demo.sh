#!/usr/bin/env bash
# Installs what is missing, builds pgpulse, and runs it against a throwaway PostgreSQL 15 (and a Prometheus that
# scrapes it, when Prometheus is installed). Everything lives in a temp dir that is removed on exit.
# Usage: scripts/demo.sh           run until Ctrl-C
#        scripts/demo.sh --once    scrape once, print the result, stop (exit 0 only if pg_up is 1)
set -euo pipefail
cd "$(dirname "$0")/.."
once=false
[ "${1:-}" = "--once" ] && once=true

bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target pgpulse

pg_bin=/usr/lib/postgresql/15/bin
work=$(mktemp -d /tmp/pgpulse-demo-XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  as_pg "$pg_bin/pg_ctl" -D "$work/data" stop -m immediate >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# PostgreSQL refuses to run as root: use an unprivileged account for the server when needed.
if [ "$(id -u)" -eq 0 ]; then
  chown nobody "$work"
  as_pg() { runuser -u nobody -- "$@"; }
else
  as_pg() { "$@"; }
fi

free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
  done
  echo "demo: no free port found" >&2
  exit 1
}

password=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
echo "$password" >"$work/superuser.pw"
chmod 600 "$work/superuser.pw"
[ "$(id -u)" -eq 0 ] && chown nobody "$work/superuser.pw"
as_pg "$pg_bin/initdb" -D "$work/data" -U postgres --pwfile="$work/superuser.pw" --auth-local=trust \
  --auth-host=scram-sha-256 >/dev/null
pg_port=$(free_port)
cat >>"$work/data/postgresql.conf" <<CONF
port = $pg_port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$work'
shared_preload_libraries = 'pg_stat_statements'
CONF
as_pg "$pg_bin/pg_ctl" -D "$work/data" -l "$work/postgres.log" -w start >/dev/null

# The world pgpulse watches: service databases with their own role, and a read-only reporting role in pg_monitor.
reporting_password=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
psql -q -h "$work" -p "$pg_port" -U postgres -d postgres -v ON_ERROR_STOP=1 <<SQL
CREATE ROLE app_user LOGIN PASSWORD '$password';
CREATE ROLE reporting LOGIN PASSWORD '$reporting_password';
GRANT pg_monitor TO reporting;
CREATE DATABASE cafe OWNER app_user;
CREATE DATABASE erp OWNER app_user;
CREATE EXTENSION pg_stat_statements;
SQL
echo "$reporting_password" >"$work/reporting.pw"
chmod 600 "$work/reporting.pw"
cat >"$work/pgpulse.yml" <<YAML
targets:
  - name: demo
    dsn: postgresql://reporting@127.0.0.1:$pg_port/postgres?sslmode=disable
    password_file: $work/reporting.pw
    labels: {env: demo}
YAML

exporter_port=$(free_port)
./build/pgpulse --config.file="$work/pgpulse.yml" --web.listen-address="127.0.0.1:$exporter_port" &
pids+=($!)
for _ in $(seq 1 50); do
  curl -fs "http://127.0.0.1:$exporter_port/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done

echo
echo "PostgreSQL 15 : 127.0.0.1:$pg_port (data in $work)"
echo "pgpulse       : http://127.0.0.1:$exporter_port/  (metrics at /metrics)"
if command -v prometheus >/dev/null 2>&1 && ! $once; then
  prom_port=$(free_port)
  cat >"$work/prometheus.yml" <<YAML
global: {scrape_interval: 5s, scrape_timeout: 4s}
scrape_configs:
  - job_name: pgpulse
    static_configs: [{targets: ['127.0.0.1:$exporter_port']}]
YAML
  prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/prometheus" \
    --web.listen-address="127.0.0.1:$prom_port" >"$work/prometheus.log" 2>&1 &
  pids+=($!)
  echo "Prometheus    : http://127.0.0.1:$prom_port/graph?g0.expr=pg_up"
fi
echo
curl -fs "http://127.0.0.1:$exporter_port/metrics" | grep -E '^(pg_up|pg_static|pgpulse_build_info)'
if $once; then
  # The body is read whole first: `curl | grep -q` fails under pipefail when grep stops reading at its match and
  # curl, still writing, gets a broken pipe (exit 23).
  body=$(curl -fs "http://127.0.0.1:$exporter_port/metrics")
  grep -q '^pg_up{env="demo",target="demo"} 1$' <<<"$body"
  exit
fi
echo
echo "Press Ctrl-C to stop; everything above is removed on exit."
wait "${pids[0]}"
