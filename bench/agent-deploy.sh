#!/usr/bin/env bash
# agent-deploy.sh - measures hoist deploy (release build) side by side with tar.
#   1. a 200 MiB / 2,000-file .tgz: hoist's first deploy vs `tar -xzf` into an empty directory
#      (target: hoist median <= 1.15x tar median), vs `tar -xzf` + `sync -f` (tar made as durable
#      as hoist makes its install), and hoist with install_links = false (copies, the old path);
#      then the rollback to that release from the local cache (another release of the same size
#      installed in between; target <= 1.2x the first deploy);
#   2. a tiny bundle with four no-op hooks: wall time (target <= 25 ms), its rollback beside the
#      hooks' own time, and every fsync and process of one deploy (strace -f: counts and paths);
#   3. peak RSS of hoist deploy for a 10 MiB and a 1 GiB bundle (target: flat, <= 2 MiB above
#      `hoist --version`'s), and with
#      BENCH_BIG_MIB (e.g. 4700) a sparse bundle past 2^32 (deploy + rollback, time and RSS).
# Medians of RUNS (default 5) runs, interleaved so every side sees the same machine state;
# section 2 runs first (its comment says why).
# Usage: bench/agent-deploy.sh [RUNS]   (BENCH_SKIP_GIB=1 skips the 1 GiB bundle;
#        BENCH_C_FLAGS adds compiler flags)
# Results go to stdout and bench/results/agent-deploy.txt (a table at the end). Not part of ctest.
set -euo pipefail
RUNS=${1:-5}
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD="$SRC/build/rel"
W=$(mktemp -d /tmp/hoist-bench-XXXXXX)
trap 'rm -rf "$W"' EXIT
mkdir -p "$SRC/bench/results"
OUT="$SRC/bench/results/agent-deploy.txt"

# BENCH_C_FLAGS (e.g. -Wno-error=format-truncation) is passed through when -O2 warnings break the build.
cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS="${BENCH_C_FLAGS:-}" >/dev/null
cmake --build "$BUILD" -j2 --target hoist >/dev/null
H="$BUILD/agent/hoist"
# BENCH_STATIC_ARCHIVE=1: relink with libarchive and libyaml static, so libxml2, ICU and
# libstdc++ (pulled in by the shared libarchive) are not loaded (a candidate build change).
if [ "${BENCH_STATIC_ARCHIVE:-0}" = 1 ]; then
	L=/lib/x86_64-linux-gnu
	(cd "$BUILD/agent" && cc -O2 CMakeFiles/hoist.dir/deploy/hoist_main.c.o -o hoist-static \
		libhoist_deploy.a libhoist_core.a -Wl,--as-needed -Wl,-Bstatic -larchive -lyaml -Wl,-Bdynamic \
		-lcrypto $L/libz.so.1 $L/libbz2.so.1.0 $L/liblzma.so.5 $L/libzstd.so.1 $L/liblz4.so.1 \
		$L/libacl.so.1 $L/libnettle.so.8)
	H="$BUILD/agent/hoist-static"
fi

. "$SRC/bench/lib.sh"
# timed FILE CMD...: runs CMD and appends its wall time (ms) to FILE. $EPOCHREALTIME is read
# without a fork, so the figure holds no `date` start-up (about a millisecond: much of the
# tiny deploy's budget).
timed() {
	local f=$1 t0 t1
	shift
	t0=$EPOCHREALTIME
	"$@"
	t1=$EPOCHREALTIME
	echo "scale=3; ($t1 - $t0) * 1000 / 1" | bc >>"$f"
}
tar_sync() { tar -xzf "$1" -C "$2" && sync -f "$2"; }

{
echo "hoist agent benchmark, $(date -u +%FT%TZ), runs=$RUNS, binary $(basename "$H")"
echo "machine: $(nproc) CPUs ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)), $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo) RAM, kernel $(uname -r), $W on $(df -T "$W" | awk 'NR == 2 {print $2}'), load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
ROWS=()
row() { ROWS+=("| $1 | $2 | $3 | $4 |"); }
ratio() { echo "scale=2; $1 / $2" | bc; }
printf 'install_links = false\n' >"$W/nolinks.conf"
vrss=$(/usr/bin/time -f '%M' "$H" --version 2>&1 >/dev/null | tail -1)
echo "startup (hoist --version): $vrss KiB peak RSS"

# 2. Tiny bundle, four no-op hooks, measured first: on ext4 without a journal (this machine's
# root) the inode allocator scans recently deleted inodes (ext4's recently_deleted()), so the
# thousands of files the 200 MiB runs delete would slow every file the tiny deploys create
# for minutes after (measured: median 21.9 ms in a fresh directory, 24.6-32.8 ms after them).
mkdir -p "$W/tiny/scripts" "$W/tiny/app"
echo hello >"$W/tiny/app/index.txt"
printf '#!/bin/sh\nexit 0\n' >"$W/tiny/scripts/noop.sh"
chmod 755 "$W/tiny/scripts/noop.sh"
cat >"$W/tiny/appspec.yml" <<'YML'
version: 0.0
os: linux
files:
  - source: app
    destination: /opt/tiny
file_exists_behavior: OVERWRITE
hooks:
  BeforeInstall:
    - location: scripts/noop.sh
  AfterInstall:
    - location: scripts/noop.sh
  ApplicationStart:
    - location: scripts/noop.sh
  ValidateService:
    - location: scripts/noop.sh
YML
tar -czf "$W/tiny.tgz" -C "$W/tiny" .
mkdir -p "$W/troot"
: >"$W/t-tiny"
sync
"$H" -q --root "$W/troot" deploy --bundle "$W/tiny.tgz" --version t0 # warm: a revision to replace
for i in $(seq 1 $((RUNS * 2))); do
	timed "$W/t-tiny" "$H" -q --root "$W/troot" deploy --bundle "$W/tiny.tgz" --version "t$i"
done
mtiny=$(median <"$W/t-tiny")
tiny_steps=$("$H" --root "$W/troot" status --json | python3 -c 'import json, sys
s = json.load(sys.stdin)
print(", ".join("%s %.1f ms" % (x["event"], 1000 * x["duration_s"]) for x in s["steps"]) + "; whole %.1f ms inside hoist" % (1000 * s["duration_s"]))')
echo "tiny bundle, 4 no-op hooks: hoist deploy median ${mtiny} ms (target <= 25 ms)"
echo "  runs: $(tr '\n' ' ' <"$W/t-tiny")"
echo "  steps of the last run (status.json): $tiny_steps"
# rollback of the tiny release, beside the hooks' own time (from status --json)
: >"$W/t-tinyrb"; : >"$W/t-hooks"
for i in $(seq 1 $((RUNS * 2))); do
	timed "$W/t-tinyrb" "$H" -q --root "$W/troot" rollback
	"$H" --root "$W/troot" status --json | python3 -c 'import json, sys
s = json.load(sys.stdin)
print("%.3f" % (1000 * sum(x["duration_s"] for x in s["steps"] if x["event"] not in ("Install", "DownloadBundle"))))' >>"$W/t-hooks"
	"$H" -q --root "$W/troot" deploy --bundle "$W/tiny.tgz" --version "r$i"
done
mtrb=$(median <"$W/t-tinyrb"); mhk=$(median <"$W/t-hooks")
echo "tiny rollback median ${mtrb} ms; the four hooks' own time in it (status.json) median ${mhk} ms"
row "tiny, 4 no-op hooks" "hoist deploy" "$mtiny" "target 25 ms"
row "" "hoist rollback" "$mtrb" "hooks alone ${mhk} ms"
# every fsync and every process of one deploy (strace -f), then the syscall summary
if command -v strace >/dev/null; then
	strace -f -y -e trace=fsync,fdatasync,syncfs,sync_file_range,execve,clone,clone3,vfork -o "$W/strace" \
		"$H" -q --root "$W/troot" deploy --bundle "$W/tiny.tgz" --version s1
	nsync=$(grep -cE '(fsync|fdatasync|syncfs)\(' "$W/strace")
	nproc_=$(grep -cE ' (clone|clone3|vfork)\(' "$W/strace")
	echo "one tiny deploy: $nsync fsync/fdatasync/syncfs calls, $nproc_ processes started (strace -f):"
	grep -E '(fsync|fdatasync|syncfs|execve)\(' "$W/strace" | sed -E "s#$W/troot/var/lib/hoist#STATE#g; s#$W/troot#ROOT#g; s/^[0-9]+ +//; s/, \[.*//" |
		cut -c1-110 | sed 's/^/    /'
	strace -c -f -o "$W/strace-c" "$H" -q --root "$W/troot" deploy --bundle "$W/tiny.tgz" --version s2
	echo "  strace -c -f (one tiny deploy, top 12 by time):"
	sed -n '1,2p;3,14p' "$W/strace-c" | sed 's/^/    /'
	row "" "fsyncs / processes per deploy (strace -f)" "$nsync / $nproc_" ""
fi
rm -rf "$W/troot" "$W/tiny"

# 1. 200 MiB, 2,000 files.
make_bundle "$W/big" 2000 $((200 * 1024 * 1024 / 2000))
tar -czf "$W/big.tgz" -C "$W/big" .
rm -rf "$W/big"
echo "bundle: $(du -m "$W/big.tgz" | cut -f1) MiB compressed, 2000 files"
cp "$W/big.tgz" "$W/big2.tgz" # the release installed between the first deploy and the rollback
: >"$W/t-tar"; : >"$W/t-tarsync"; : >"$W/t-hoist"; : >"$W/t-copy"; : >"$W/t-rb"
for i in $(seq 1 "$RUNS"); do
	rm -rf "$W/x" "$W/root" "$W/croot"; mkdir -p "$W/x" "$W/root" "$W/croot"; sync
	timed "$W/t-tar" tar -xzf "$W/big.tgz" -C "$W/x"
	rm -rf "$W/x"; mkdir -p "$W/x"; sync
	timed "$W/t-tarsync" tar_sync "$W/big.tgz" "$W/x"
	rm -rf "$W/x"; sync
	timed "$W/t-hoist" "$H" -q --root "$W/root" deploy --bundle "$W/big.tgz" --version "b$i"
	sync
	timed "$W/t-copy" "$H" -q --config "$W/nolinks.conf" --root "$W/croot" deploy --bundle "$W/big.tgz" --version "b$i"
	rm -rf "$W/croot"
	"$H" -q --root "$W/root" deploy --bundle "$W/big2.tgz" --version "c$i"
	sync
	timed "$W/t-rb" "$H" -q --root "$W/root" rollback --to "b$i"
done
mt=$(median <"$W/t-tar"); ms=$(median <"$W/t-tarsync"); mh=$(median <"$W/t-hoist"); mc=$(median <"$W/t-copy")
mr=$(median <"$W/t-rb")
echo "200MiB/2000 files: tar -xzf median ${mt} ms; hoist deploy (first deploy into an empty root) median ${mh} ms; ratio $(ratio "$mh" "$mt")x (target <= 1.15x)"
echo "  tar -xzf + sync -f median ${ms} ms (hoist / it: $(ratio "$mh" "$ms")x); hoist with install_links = false (copies) ${mc} ms ($(ratio "$mc" "$mt")x tar)"
echo "  rollback to it from the local cache (another 200 MiB release installed in between) median ${mr} ms: $(ratio "$mr" "$mh")x its first deploy (target <= 1.2x)"
echo "  tar runs:          $(tr '\n' ' ' <"$W/t-tar")"
echo "  tar + sync runs:   $(tr '\n' ' ' <"$W/t-tarsync")"
echo "  hoist runs:        $(tr '\n' ' ' <"$W/t-hoist")"
echo "  hoist copy runs:   $(tr '\n' ' ' <"$W/t-copy")"
echo "  rollback runs:     $(tr '\n' ' ' <"$W/t-rb")"
row "200 MiB / 2,000 files" "**tar -xzf** (baseline)" "$mt" "1.00"
row "" "tar -xzf; sync -f" "$ms" "$(ratio "$ms" "$mt")"
row "" "hoist deploy, first (linked install)" "$mh" "$(ratio "$mh" "$mt")"
row "" "hoist deploy, first, install_links = false (copies)" "$mc" "$(ratio "$mc" "$mt")"
row "" "hoist rollback to it (kept tree)" "$mr" "$(ratio "$mr" "$mt") ($(ratio "$mr" "$mh")x first deploy)"
rm -rf "$W/root" "$W/big2.tgz"

# 3. Peak RSS, 10 MiB vs 1 GiB.
rss() { # rss NAME FILES BYTES
	make_bundle "$W/$1" "$2" "$3"
	tar -czf "$W/$1.tgz" -C "$W/$1" .
	rm -rf "$W/$1" "$W/rroot"; mkdir -p "$W/rroot"
	/usr/bin/time -f %M -o "$W/rss-$1" "$H" -q --root "$W/rroot" deploy --bundle "$W/$1.tgz" --version r
	echo "peak RSS, $1 bundle ($2 files): $(cat "$W/rss-$1") KiB: $(($(cat "$W/rss-$1") - vrss)) KiB above hoist --version (target <= 2048)"
	row "peak RSS" "hoist deploy, $1 bundle" "" "$(cat "$W/rss-$1") KiB: +$(($(cat "$W/rss-$1") - vrss)) KiB over --version ($vrss)"
	rm -rf "$W/rroot" "$W/$1.tgz"
}
rss 10MiB 100 $((10 * 1024 * 1024 / 100))
if [ "${BENCH_SKIP_GIB:-0}" != 1 ]; then
	rss 1GiB 1000 $((1024 * 1024 * 1024 / 1000))
fi

# 4. Past 2^32: one sparse file of BENCH_BIG_MIB MiB (markers across 2^31 and 2^32), GNU tar -S.
if [ -n "${BENCH_BIG_MIB:-}" ]; then
	sz=$((BENCH_BIG_MIB * 1024 * 1024))
	mkdir -p "$W/g/data" "$W/groot/etc/hoist"
	printf 'version: 0.0\nos: linux\nfiles:\n  - source: data\n    destination: /opt/big\n' >"$W/g/appspec.yml"
	truncate -s "$sz" "$W/g/data/disk.img"
	printf 'A2^31' | dd of="$W/g/data/disk.img" bs=1 seek=$((2147483648 - 3)) conv=notrunc status=none
	printf 'B2^32' | dd of="$W/g/data/disk.img" bs=1 seek=$((4294967296 - 2)) conv=notrunc status=none
	tar -S --format=pax -cf "$W/g.tar" -C "$W/g" .
	rm -rf "$W/g"
	printf 'extract_floor_bytes = %sM\n' "$((BENCH_BIG_MIB + 64))" >"$W/groot/etc/hoist/policy.conf"
	printf 'keep_bytes = %sM\n' "$((BENCH_BIG_MIB * 3))" >"$W/groot/etc/hoist/hoist.conf"
	t0=$(now_ms)
	/usr/bin/time -f %M -o "$W/rss-g" "$H" -q --root "$W/groot" deploy --bundle "$W/g.tar" --version g1
	t1=$(now_ms); gd=$(echo "$t1 - $t0" | bc)
	mkdir -p "$W/o/x"; echo other >"$W/o/x/o.txt"
	printf 'version: 0.0\nos: linux\nfiles:\n  - source: x\n    destination: /opt/other\n' >"$W/o/appspec.yml"
	tar -czf "$W/o.tgz" -C "$W/o" .
	"$H" -q --root "$W/groot" deploy --bundle "$W/o.tgz" --version g2
	t0=$(now_ms)
	/usr/bin/time -f %M -o "$W/rss-gr" "$H" -q --root "$W/groot" rollback --to g1
	t1=$(now_ms); gr=$(echo "$t1 - $t0" | bc)
	echo "sparse ${BENCH_BIG_MIB} MiB bundle ($(stat -c %s "$W/g.tar") bytes of tar): deploy ${gd} ms, peak RSS $(cat "$W/rss-g") KiB;" \
		"rollback ${gr} ms, peak RSS $(cat "$W/rss-gr") KiB; installed size $(stat -c %s "$W/groot/opt/big/disk.img") (expected $sz)"
	row "${BENCH_BIG_MIB} MiB sparse" "deploy / rollback, peak RSS" "$gd / $gr" "$(cat "$W/rss-g") / $(cat "$W/rss-gr") KiB"
	rm -rf "$W/groot" "$W/g.tar"
fi

echo
echo "| work | hoist or baseline | median ms | ratio / note |"
echo "|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
} | tee "$OUT"
