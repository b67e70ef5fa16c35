#!/usr/bin/env bash
# The pure logic of fleet/filter_plugins (waves, allowances, halt rule, verdicts, dashboard model)
# against vectors; no root, no fleet.
set -euo pipefail
exec python3 "$HOIST_SOURCE_DIR/tests/fleet/test_fleet_plan.py"
