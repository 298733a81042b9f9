#!/usr/bin/env bash
# Builds the pgpulse binary the way a user does with clang: Release, without warnings-as-errors, in a temp build dir,
# and checks that the binary runs. A warning must never fail this build; the project's own test build keeps
# -DPGPULSE_WERROR=ON. The g++ packager's build is the Debian package's (scripts/deb-package.sh: dpkg-buildpackage
# with Debian's flags, no warnings-as-errors).
# Usage: scripts/packager-builds.sh        (run by .ci/run after scripts/test.sh has installed the dependencies)
set -euo pipefail
cd "$(dirname "$0")/.."

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
build="$root/clang++"
echo "packager-builds: Release with clang++"
CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DPGPULSE_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target pgpulse >"$root/build.log" 2>&1 || {
  tail -40 "$root/build.log"
  exit 1
}
"$build/pgpulse" --version
echo "packager-builds: ok"
