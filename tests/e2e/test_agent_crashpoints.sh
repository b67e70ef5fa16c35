#!/usr/bin/env bash
# Systematic crash testing (issue 9, item 18): hoist killed at a sample of its write, rename,
# unlink, mkdir, link, chmod and sync boundaries during a deployment over a previous revision,
# during a recovery and during an automatic rollback; after `hoist recover` the host must hold
# exactly one revision's tree and the records must agree (tests/e2e/crashpoints.py).
# CRASHPOINTS_SAMPLE sets how many points (default 120); bench/crashpoints.sh runs them all.
. "$(dirname "$0")/agent_lib.sh"
command -v strace >/dev/null || fail "strace is needed (scripts/setup.sh installs it)"
python3 "$SRC/tests/e2e/crashpoints.py" "$H" "$WORK/points" --sample "${CRASHPOINTS_SAMPLE:-120}"
echo "ok"
