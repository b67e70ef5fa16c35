#!/usr/bin/env bash
# agent-deploy.sh - measures hoist deploy (release build) side by side with tar.
#   1. a 200 MiB / 2,000-file .tgz: hoist deploy vs `tar -xzf` into an empty directory
#      (target: hoist median <= 1.15x tar median);
#   2. a tiny bundle with four no-op hooks: wall time (target <= 25 ms);
#   3. peak RSS of hoist deploy for a 10 MiB and a 1 GiB bundle (target <= 8 MiB, flat).
# Medians of RUNS (default 5) runs, interleaved so both sides see the same machine state.
# Usage: bench/agent-deploy.sh [RUNS]   (BENCH_SKIP_GIB=1 skips the 1 GiB bundle;
#        BENCH_C_FLAGS adds compiler flags)
# Results go to stdout and bench/results/agent-deploy.txt. Not part of ctest.
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

now_ms() { date +%s%N | awk '{ printf "%.3f", $1 / 1e6 }'; }
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# make_bundle DIR FILES BYTES_PER_FILE: a bundle of incompressible files installed to /opt/bench.
make_bundle() {
	local d=$1 n=$2 size=$3
	mkdir -p "$d/data"
	python3 - "$d/data" "$n" "$size" <<'PY'
import os, sys
d, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(n):
    sub = os.path.join(d, "d%02d" % (i % 50))
    os.makedirs(sub, exist_ok=True)
    with open(os.path.join(sub, "f%05d.bin" % i), "wb") as f:
        f.write(os.urandom(size))
PY
	cat >"$d/appspec.yml" <<'YML'
version: 0.0
os: linux
files:
  - source: data
    destination: /opt/bench
YML
}

{
echo "hoist agent benchmark, $(date -u +%FT%TZ), $(nproc) CPUs, runs=$RUNS, $(uname -r), binary $(basename "$H")"
echo "startup (hoist --version): $(/usr/bin/time -f '%M KiB peak RSS' "$H" --version 2>&1 | tail -1)"

# 1. 200 MiB, 2,000 files.
make_bundle "$W/big" 2000 $((200 * 1024 * 1024 / 2000))
tar -czf "$W/big.tgz" -C "$W/big" .
rm -rf "$W/big"
echo "bundle: $(du -m "$W/big.tgz" | cut -f1) MiB compressed, 2000 files"
: >"$W/t-tar"; : >"$W/t-hoist"
for i in $(seq 1 "$RUNS"); do
	rm -rf "$W/x" "$W/root"; mkdir -p "$W/x" "$W/root"; sync
	t0=$(now_ms); tar -xzf "$W/big.tgz" -C "$W/x"; t1=$(now_ms)
	echo "$t1 - $t0" | bc >>"$W/t-tar"
	rm -rf "$W/x"; sync
	t0=$(now_ms); "$H" -q --root "$W/root" deploy --bundle "$W/big.tgz" --version "b$i"; t1=$(now_ms)
	echo "$t1 - $t0" | bc >>"$W/t-hoist"
done
mt=$(median <"$W/t-tar"); mh=$(median <"$W/t-hoist")
echo "200MiB/2000 files: tar -xzf median ${mt} ms; hoist deploy (first deploy into an empty root) median ${mh} ms; ratio $(echo "scale=2; $mh / $mt" | bc)x (target <= 1.15x)"
echo "  tar runs:   $(tr '\n' ' ' <"$W/t-tar")"
echo "  hoist runs: $(tr '\n' ' ' <"$W/t-hoist")"
rm -rf "$W/root"

# 2. Tiny bundle, four no-op hooks.
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
for i in $(seq 1 $((RUNS * 2))); do
	t0=$(now_ms); "$H" -q --root "$W/troot" deploy --bundle "$W/tiny.tgz" --version "t$i"; t1=$(now_ms)
	echo "$t1 - $t0" | bc >>"$W/t-tiny"
done
echo "tiny bundle, 4 no-op hooks: hoist deploy median $(median <"$W/t-tiny") ms (target <= 25 ms)"
echo "  runs: $(tr '\n' ' ' <"$W/t-tiny")"
rm -rf "$W/troot" "$W/tiny"

# 3. Peak RSS, 10 MiB vs 1 GiB.
rss() { # rss NAME FILES BYTES
	make_bundle "$W/$1" "$2" "$3"
	tar -czf "$W/$1.tgz" -C "$W/$1" .
	rm -rf "$W/$1" "$W/rroot"; mkdir -p "$W/rroot"
	/usr/bin/time -f %M -o "$W/rss-$1" "$H" -q --root "$W/rroot" deploy --bundle "$W/$1.tgz" --version r
	echo "peak RSS, $1 bundle ($2 files): $(cat "$W/rss-$1") KiB (target <= 8192 KiB)"
	rm -rf "$W/rroot" "$W/$1.tgz"
}
rss 10MiB 100 $((10 * 1024 * 1024 / 100))
if [ "${BENCH_SKIP_GIB:-0}" != 1 ]; then
	rss 1GiB 1000 $((1024 * 1024 * 1024 / 1000))
fi
} | tee "$OUT"
