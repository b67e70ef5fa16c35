#!/usr/bin/env bash
# agent-verify.sh - measures hoist verify (release build) on 100,000 installed files.
#   A bundle of FILES (default 100,000) files of BYTES (default 1 KiB) each is deployed
#   under a private root prefix; then `hoist verify` runs RUNS times (default 5) with the
#   files in the page cache, side by side with `sha256sum` over the same files (the
#   hashing alone, as a floor), and once more after one byte of one file was changed
#   (it must exit 20 and name that file). Medians are reported.
# Usage: bench/agent-verify.sh [RUNS]   (FILES=N BYTES=N to change the tree)
# Results go to stdout and bench/results/agent-verify.txt. Not part of ctest.
set -euo pipefail
RUNS=${1:-5}
FILES=${FILES:-100000}
BYTES=${BYTES:-1024}
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD="$SRC/build/rel"
W=$(mktemp -d /tmp/hoist-bench-verify-XXXXXX)
trap 'rm -rf "$W"' EXIT
mkdir -p "$SRC/bench/results"
OUT="$SRC/bench/results/agent-verify.txt"

cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS="${BENCH_C_FLAGS:-}" >/dev/null
cmake --build "$BUILD" -j2 --target hoist >/dev/null
H="$BUILD/agent/hoist"
ROOT="$W/root"
mkdir -p "$ROOT/etc/hoist"
printf 'max_entries = %d\n' $((FILES * 2 + 1000)) >"$W/hoist.conf"
hoist() { "$H" --config "$W/hoist.conf" --root "$ROOT" "$@"; }

. "$SRC/bench/lib.sh"

make_bundle "$W/bundle" "$FILES" "$BYTES" 500
{
	echo "# hoist verify, $FILES files of $BYTES bytes, $(date -u +%FT%TZ), $(nproc) cores, $(uname -r)"
	t0=$(now_ms)
	hoist -q deploy --bundle "$W/bundle" --version v1
	t1=$(now_ms)
	echo "deploy (with the manifest written at the end of Install): $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", b - a }') ms"
	echo "manifest: $(wc -l <"$ROOT/var/lib/hoist/revisions/v1/installed.manifest") lines, $(stat -c %s "$ROOT/var/lib/hoist/revisions/v1/installed.manifest") bytes"
	: >"$W/v.txt"
	: >"$W/s.txt"
	for _ in $(seq "$RUNS"); do
		t0=$(now_ms)
		hoist -q verify >/dev/null
		t1=$(now_ms)
		(cd "$ROOT/opt/bench" && find . -type f -print0 | xargs -0 -n 2000 sha256sum >/dev/null)
		t2=$(now_ms)
		awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }' >>"$W/v.txt"
		awk -v a="$t1" -v b="$t2" 'BEGIN { print b - a }' >>"$W/s.txt"
	done
	echo "hoist verify (clean, exit 0): median $(median <"$W/v.txt") ms of $RUNS"
	echo "find | xargs sha256sum (floor): median $(median <"$W/s.txt") ms of $RUNS"
	f=$(find "$ROOT/opt/bench" -type f -print -quit)
	printf '\001' | dd of="$f" bs=1 seek=7 conv=notrunc status=none
	rc=0
	t0=$(now_ms)
	hoist -q verify >"$W/drift.txt" || rc=$?
	t1=$(now_ms)
	echo "hoist verify (one byte changed): exit $rc in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", b - a }') ms: $(cat "$W/drift.txt")"
	[ "$rc" = 20 ] || { echo "verify did not report the change" >&2; exit 1; }
} | tee "$OUT"
