#!/usr/bin/env bash
# The README's demo, run as a user runs it: it starts, prints its addresses, and Ctrl-C (SIGINT to its process group)
# stops it and removes everything it started: no server, exporter, pgbench, Prometheus or Alertmanager process is
# left, and its temp dir is gone. Run by .ci/run after `scripts/demo.sh --once` (which has built pgpulse).
set -euo pipefail
cd "$(dirname "$0")/.."
set -m  # job control: the demo gets its own process group, which does not ignore SIGINT as a plain `&` job would
log=$(mktemp)
trap 'rm -f "$log"' EXIT
bash scripts/demo.sh >"$log" 2>&1 &
demo=$!
for _ in $(seq 1 240); do
  grep -q "Press Ctrl-C" "$log" && break
  kill -0 "$demo" 2>/dev/null || break
  sleep 0.5
done
work=$(sed -n 's/.*(data in \(\/tmp\/pgpulse-demo-[A-Za-z0-9]*\)).*/\1/p' "$log" | head -1)
if ! grep -q "Press Ctrl-C" "$log" || [ -z "$work" ]; then
  echo "demo-interrupt-test: the demo did not come up; its output:" >&2
  cat "$log" >&2
  kill -INT -- "-$demo" 2>/dev/null || true
  exit 1
fi
kill -INT -- "-$demo"
status=0
wait "$demo" || status=$?
pg_port=$(sed -n 's/.*primary 127\.0\.0\.1:\([0-9]*\),.*/\1/p' "$log" | head -1)
# Every process the demo starts names its temp dir on its command line, except pgbench, which names the port.
left=$(pgrep -a -f "$work|pgbench .*-p $pg_port " || true)
if [ -e "$work" ] || [ -n "$left" ]; then
  echo "demo-interrupt-test: after Ctrl-C (exit $status), left behind:" >&2
  [ -e "$work" ] && echo "  the directory $work" >&2
  [ -n "$left" ] && echo "$left" >&2
  exit 1
fi
echo "demo-interrupt-test: Ctrl-C stopped the demo (exit $status) and removed $work and every process it started"
