# bench/lib.sh - what the agent benchmarks share: clocks, medians, a generated bundle.
# Sourced; not a benchmark itself.

now_ms() { date +%s%N | awk '{ printf "%.3f", $1 / 1e6 }'; }
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# make_bundle DIR FILES BYTES_PER_FILE [SUBDIRS]: a bundle of incompressible files spread over
# SUBDIRS directories (default 50), installed to /opt/bench.
make_bundle() {
	local d=$1 n=$2 size=$3 subdirs=${4:-50}
	mkdir -p "$d/data"
	python3 - "$d/data" "$n" "$size" "$subdirs" <<'PY'
import os, sys
d, n, size, subdirs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
for i in range(n):
    sub = os.path.join(d, "d%03d" % (i % subdirs))
    os.makedirs(sub, exist_ok=True)
    with open(os.path.join(sub, "f%06d.bin" % i), "wb") as f:
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
