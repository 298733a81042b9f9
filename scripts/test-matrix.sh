#!/usr/bin/env bash
# Runs the suites that depend on the server's version against every PostgreSQL major of the matrix
# (scripts/pg-versions.sh): the collectors' ground truth (each family equal to what psql reads, primary and standby)
# on every major, and the pg suite plus the rotation, hostile-tenant and reporting-role (deploy/sql) e2e suites on the
# oldest and the newest.
# PostgreSQL 15 (Debian's) runs everything in scripts/test.sh already. Needs a build (scripts/test.sh makes one).
# Usage: scripts/test-matrix.sh       (build dir: build/, or PGPULSE_BUILD_DIR)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${PGPULSE_BUILD_DIR:-build}

read -r -a majors <<<"$(bash scripts/pg-versions.sh list)"
oldest=${majors[0]}
newest=${majors[${#majors[@]} - 1]}
failed=()

run() {
  local major=$1 name=$2
  shift 2
  local start=$SECONDS
  if PGPULSE_TEST_PG=$major "$@" --gtest_color=no >"$build/matrix-$name-$major.log" 2>&1; then
    echo "test-matrix: PostgreSQL $major $name passed ($((SECONDS - start)) s)"
  else
    echo "test-matrix: PostgreSQL $major $name FAILED ($((SECONDS - start)) s); its log:"
    grep -a -E "FAILED|Failure" -A12 "$build/matrix-$name-$major.log" | head -80
    failed+=("$major $name")
  fi
}

for major in "${majors[@]}"; do
  # Fetch first, so that a download problem reads as one, not as a failed suite.
  bash scripts/pg-versions.sh bindir "$major" >/dev/null
  [ "$major" = 15 ] && continue
  if [ "$major" = "$oldest" ] || [ "$major" = "$newest" ]; then
    run "$major" collectors "$build/tests/e2e_tests" --gtest_filter='CollectorsTest.*'
  else
    # The dashboards' live test (about 40 s) runs on the oldest, on Debian's 15 (ctest) and on the newest only, to
    # keep CI under 30 minutes; the majors in between are not checked for it.
    run "$major" collectors "$build/tests/e2e_tests" \
      --gtest_filter='CollectorsTest.*:-CollectorsTest.DashboardPanelsShowLiveData'
  fi
  if [ "$major" = "$oldest" ] || [ "$major" = "$newest" ]; then
    run "$major" pg "$build/tests/pg_tests"
    run "$major" rotation-tenant "$build/tests/e2e_tests" --gtest_filter='RotationTest.*:TenantTest.*'
    run "$major" reporting-role "$build/tests/e2e_tests" --gtest_filter='ReportingRoleTest.*'
  fi
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "test-matrix: failed: ${failed[*]}"
  exit 1
fi
echo "test-matrix: ok (${majors[*]})"
