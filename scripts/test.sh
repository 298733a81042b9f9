#!/usr/bin/env bash
# Installs what is missing, builds pgpulse, and runs the whole test suite (unit, pg, e2e) with ctest, on Debian's
# PostgreSQL 15 and then the version-dependent suites on PostgreSQL 13 to 18 (scripts/test-matrix.sh).
# Usage: scripts/test.sh            (build dir: build/; set PGPULSE_SANITIZE=ON for an ASan+UBSan build)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
build=${PGPULSE_BUILD_DIR:-build}
# The project's own runs treat warnings as errors; users' and packagers' builds do not (PGPULSE_WERROR).
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPGPULSE_WERROR=ON -DPGPULSE_SANITIZE="${PGPULSE_SANITIZE:-OFF}"
cmake --build "$build" -j"$(nproc)"
bash scripts/lint.sh "$build"
# Suites run one at a time: the pg and e2e suites each start their own PostgreSQL servers.
ctest --test-dir "$build" --output-on-failure --timeout 900
# The other PostgreSQL majors of the matrix (13 to 18; npm registry): collectors on each, pg/rotation/tenant on the
# oldest and the newest.
PGPULSE_BUILD_DIR="$build" bash scripts/test-matrix.sh
