#!/usr/bin/env bash
# Side-by-side benchmark of pgpulse against Debian's prometheus-postgres-exporter (0.11.1), in one run.
#
#   tests/bench/run.sh [build-dir]        # default build-dir: <repo>/build
#
# Builds the pgpulse and pgpulse_bench targets (unless BENCH_SKIP_BUILD=1) and runs pgpulse_bench, the C++ program in
# tests/bench/ that does the rest through the test harness. Knobs (BENCH_*, PG_BINDIR, PEER_BIN) and how every figure
# is measured: tests/bench/README.md.
set -Eeuo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${1:-$repo/build}

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
  command -v cmake >/dev/null || die "cmake is missing"
  if [[ ! -f $build/CMakeCache.txt ]]; then
    log "configuring $build (RelWithDebInfo)"
    cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >&2
  fi
  log "building pgpulse and pgpulse_bench in $build"
  cmake --build "$build" --target pgpulse pgpulse_bench -j"$(nproc)" >&2 ||
    die "cmake --build $build --target pgpulse pgpulse_bench failed"
fi
bench=$build/tests/pgpulse_bench
[[ -x $bench ]] || die "$bench does not exist (build the pgpulse_bench target)"
exec "$bench" "$build"
