#!/usr/bin/env bash
# Regenerates the metric reference in docs/metrics.md from collectors/*.yaml (through the built binary), between the
# markers. A unit test fails when docs/metrics.md and the YAML disagree.
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
' docs/metrics.md >docs/metrics.md.new
mv docs/metrics.md.new docs/metrics.md
echo "docs/metrics.md: metric reference updated"
