#!/usr/bin/env bash
# Builds and runs the test suites under sanitizers, each in a build dir of its own:
#   asan: AddressSanitizer with LeakSanitizer, and UndefinedBehaviorSanitizer: the unit, pg and e2e suites (ctest);
#         the e2e suites run the sanitized pgpulse, and the harness fails a test whose child printed a report.
#   tsan: ThreadSanitizer: the unit and pg suites. pgpulse has one event-loop thread, but Asio's resolver runs
#         getaddrinfo on a thread of its own and basic auth runs bcrypt on a one-thread pool.
# Exits non-zero on any failed test or sanitizer report, and prints how long each build and each run took.
# Needs what scripts/install-deps.sh installs.
# Usage: scripts/sanitizers.sh [asan] [tsan]      (default: both)
#   PGPULSE_ASAN_BUILD_DIR (default build-asan), PGPULSE_TSAN_BUILD_DIR (default build-tsan)
set -euo pipefail
cd "$(dirname "$0")/.."

phases=("$@")
[[ ${#phases[@]} -eq 0 ]] && phases=(asan tsan)
jobs=$(nproc)
failed=()
summary=()

# The runtimes' defaults stay, with these appended (the last setting of a flag wins), so a caller's environment
# cannot turn leak checking off. Reports go to stderr, which ctest shows for a failed suite.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1"
export TSAN_OPTIONS="${TSAN_OPTIONS:+$TSAN_OPTIONS:}second_deadlock_stack=1"

# phase <name> <build dir> <PGPULSE_SANITIZE> <ctest label regex> <targets...>
phase() {
  local name=$1 build=$2 sanitize=$3 labels=$4
  shift 4
  local start=$SECONDS
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPGPULSE_WERROR=ON -DPGPULSE_SANITIZE="$sanitize" \
    >/dev/null
  if ! cmake --build "$build" -j"$jobs" --target "$@"; then
    summary+=("$name: build FAILED after $((SECONDS - start)) s")
    failed+=("$name build")
    return
  fi
  local built=$SECONDS
  summary+=("$name: build $((built - start)) s")
  # The suites one at a time: the pg and e2e suites each start their own PostgreSQL servers.
  if ctest --test-dir "$build" --output-on-failure --timeout 1800 -L "$labels"; then
    summary+=("$name: run $((SECONDS - built)) s, passed")
  else
    summary+=("$name: run $((SECONDS - built)) s, FAILED")
    failed+=("$name run")
  fi
}

for name in "${phases[@]}"; do
  case $name in
    asan) phase asan "${PGPULSE_ASAN_BUILD_DIR:-build-asan}" ON '^(unit|pg|e2e)$' unit_tests pg_tests e2e_tests ;;
    tsan) phase tsan "${PGPULSE_TSAN_BUILD_DIR:-build-tsan}" thread '^(unit|pg)$' unit_tests pg_tests ;;
    *)
      echo "sanitizers: unknown phase '$name' (asan, tsan)" >&2
      exit 2
      ;;
  esac
done

printf 'sanitizers: %s\n' "${summary[@]}"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "sanitizers: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "sanitizers: ok"
