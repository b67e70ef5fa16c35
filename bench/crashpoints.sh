#!/usr/bin/env bash
# Every crash point (issue 9, item 18): hoist killed at each of its write, rename, unlink, mkdir,
# link, chmod and sync boundaries of a deployment over a previous revision, of a recovery and of
# an automatic rollback (some 8000 points; hours with the ASan build). The test suite runs a
# sample (e2e/test_agent_crashpoints). Usage: bench/crashpoints.sh [BUILD_DIR]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build/asan}
work=$(mktemp -d /tmp/hoist-crashpoints-XXXXXX)
trap 'rm -rf "$work"' EXIT
python3 "$top/tests/e2e/crashpoints.py" "$build/agent/hoist" "$work" --points all
