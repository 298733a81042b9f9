#!/usr/bin/env bash
# Applies the project's .clang-format check and .clang-tidy to the exporter's sources.
# Usage: scripts/lint.sh [build-dir]   (the build dir must have compile_commands.json; default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
mapfile -t sources < <(git ls-files 'exporter/*.cc' 'exporter/*.h' 'tests/*.cc' 'tests/*.h')
echo "lint: clang-format on ${#sources[@]} files"
clang-format --dry-run --Werror "${sources[@]}"
mapfile -t units < <(git ls-files 'exporter/*.cc')
echo "lint: clang-tidy on ${#units[@]} translation units"
# clang 14 only parses Asio's coroutine support with these two defined (CMakeLists.txt defines them for the build).
# The build's flags are g++'s: a sanitized build adds -Wno-error=maybe-uninitialized, which clang does not know.
if ! output=$(run-clang-tidy -p "$build" -quiet -j "$(nproc)" -extra-arg=-DBOOST_ASIO_HAS_CO_AWAIT=1 \
  -extra-arg=-DBOOST_ASIO_HAS_STD_COROUTINE=1 -extra-arg=-Wno-unknown-warning-option "${units[@]}" 2>&1); then
  echo "$output" | grep -v "warnings generated"
  exit 1
fi
echo "lint: ok"
