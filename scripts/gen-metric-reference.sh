#!/usr/bin/env bash
# Regenerates the metric reference in README.md from collectors/*.yaml (through the built binary), between the
# markers. A unit test fails when the README and the YAML disagree.
# Usage: scripts/gen-metric-reference.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
cmake --build "$build" --target pgpulse >/dev/null
reference=$(mktemp)
trap 'rm -f "$reference"' EXIT
"$build/pgpulse" --metric-reference >"$reference"
awk -v ref="$reference" '
  /^<!-- metric-reference:end -->$/ { skipping = 0 }
  !skipping { print }
  /^<!-- metric-reference:begin -->$/ { while ((getline line < ref) > 0) print line; skipping = 1 }
' README.md >README.md.new
mv README.md.new README.md
echo "README.md: metric reference updated"
