#!/usr/bin/env bash
# Builds the pgpulse binary the way a user or packager does: Release, without warnings-as-errors, with g++ and with
# clang, each in its own temp build dir, and checks that the binary runs. A warning must never fail these builds
# (g++ 12 warns -Wrestrict inside libstdc++ at -O2/-O3); the project's own test build keeps -DPGPULSE_WERROR=ON.
# Usage: scripts/packager-builds.sh        (run by .ci/run after scripts/test.sh has installed the dependencies)
set -euo pipefail
cd "$(dirname "$0")/.."

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
for compiler in g++ clang++; do
  build="$root/$compiler"
  echo "packager-builds: Release with $compiler"
  CXX=$compiler cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DPGPULSE_BUILD_TESTS=OFF >/dev/null
  cmake --build "$build" -j"$(nproc)" --target pgpulse >"$root/$compiler.log" 2>&1 || {
    tail -40 "$root/$compiler.log"
    exit 1
  }
  "$build/pgpulse" --version
done
echo "packager-builds: ok"
