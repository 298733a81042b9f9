#!/usr/bin/env bash
# Regenerates the alert table in docs/alerts.md from alerts/*.yml (through the alert rules test), between the markers.
# The same test fails when docs/alerts.md and the rule files disagree.
# Usage: scripts/gen-alert-reference.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
cmake --build "$build" --target e2e_tests >/dev/null
PGPULSE_WRITE_ALERT_TABLE=1 "$build/tests/e2e_tests" --gtest_filter='AlertRulesTest.DocsAlertTableIsCurrent' >/dev/null
echo "docs/alerts.md: alert table updated"
