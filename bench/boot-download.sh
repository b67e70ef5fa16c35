#!/usr/bin/env bash
# Benchmark: hoist-boot fetch + verify of a 256 MiB object from a local nginx
# (path-style, signature ignored), against `curl -s URL | openssl dgst -sha256`
# in the same run (medians of 5; target ratio <= 1.2); peak RSS of the stub
# at 16 MiB and 1 GiB (target <= 8 MiB, flat); stripped size (target <= 100 KiB).
#
# usage: bench/boot-download.sh [BUILD_DIR]   (default build/rel: a Release build,
#        cmake -B build/rel -DCMAKE_BUILD_TYPE=Release && cmake --build build/rel -j2)
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build/rel}
BOOT=$BUILD/agent/hoist-boot
RUNS=${RUNS:-5}
[ -x "$BOOT" ] || { echo "no $BOOT: build a Release tree first" >&2; exit 1; }
command -v nginx >/dev/null || { echo "nginx not installed (apt-get install nginx-light)" >&2; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/hoist-bench.XXXXXX")
NGINX_PID=""
cleanup() {
	if [ -n "$NGINX_PID" ] && kill -0 "$NGINX_PID" 2>/dev/null; then
		kill -TERM "$NGINX_PID"
		for _ in $(seq 50); do kill -0 "$NGINX_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$NGINX_PID" 2>/dev/null
	fi
	rm -rf -- "$T"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$T/www/bench" "$T/root/etc/hoist" "$T/ng"
chmod 755 "$T" # nginx workers run as an unprivileged user
: >"$T/root/etc/hoist/hoist.conf"
cat >"$T/nginx.conf" <<NG
daemon off;
worker_processes 1;
error_log $T/ng/error.log;
pid $T/ng/nginx.pid;
events { worker_connections 64; }
http {
	access_log off;
	sendfile on;
	client_body_temp_path $T/ng/body;
	proxy_temp_path $T/ng/proxy;
	fastcgi_temp_path $T/ng/fcgi;
	uwsgi_temp_path $T/ng/uwsgi;
	scgi_temp_path $T/ng/scgi;
	server {
		listen 127.0.0.1:$PORT;
		root $T/www;
	}
}
NG
nginx -p "$T/ng" -c "$T/nginx.conf" &
NGINX_PID=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.1; done

# make_object NAME MiB: an incompressible file served at /bench/NAME; prints its sha256
make_object() {
	head -c "$(($2 * 1024 * 1024))" /dev/urandom >"$T/www/bench/$1"
	sha256sum "$T/www/bench/$1" | cut -d' ' -f1
}
# run_stub NAME SHA [prefix command...]: one fetch + verify into an empty cache
# under $ROOTDIR (default $T/root, on disk: the final fsync really writes)
run_stub() {
	local name=$1 sha=$2 root=${ROOTDIR:-$T/root}
	shift 2
	rm -rf "$root/var/lib/hoist/bundles"
	printf '#hoist\napplication=bench\nenvironment=bench\nversion=1\nbundle=s3://bench/%s\nsha256=%s\n' \
		"$name" "$sha" >"$T/ud"
	env -i PATH="$PATH" AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=benchsecret \
		"$@" "$BOOT" --root "$root" --s3-endpoint "http://127.0.0.1:$PORT" --region us-east-1 \
		--user-data-file "$T/ud" --download-only -q >/dev/null
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

SHA256=$(make_object big 256)
# the same with the state directory on tmpfs, to show what the disk (fsync) costs
SHM=$(mktemp -d /dev/shm/hoist-bench.XXXXXX)
trap 'cleanup; rm -rf -- "$SHM"' EXIT
: >"$T/stub.ms"
: >"$T/shm.ms"
: >"$T/curl.ms"
for i in $(seq "$RUNS"); do
	t0=$(now_ms); run_stub big "$SHA256" || { echo "stub failed" >&2; exit 1; }; t1=$(now_ms)
	echo $((t1 - t0)) >>"$T/stub.ms"
	t0=$(now_ms); ROOTDIR=$SHM run_stub big "$SHA256" || { echo "stub failed" >&2; exit 1; }; t1=$(now_ms)
	echo $((t1 - t0)) >>"$T/shm.ms"
	rm -rf "$SHM/var"
	t0=$(now_ms); curl -s "http://127.0.0.1:$PORT/bench/big" | openssl dgst -sha256 >/dev/null; t1=$(now_ms)
	echo $((t1 - t0)) >>"$T/curl.ms"
done
S=$(median <"$T/stub.ms")
M=$(median <"$T/shm.ms")
C=$(median <"$T/curl.ms")
echo "256 MiB fetch+verify, median of $RUNS: hoist-boot ${S} ms [$(tr '\n' ' ' <"$T/stub.ms")]," \
	"curl|openssl ${C} ms [$(tr '\n' ' ' <"$T/curl.ms")], ratio $(awk -v s="$S" -v c="$C" 'BEGIN{printf "%.2f", s/c}') (target <= 1.2)"
echo "  state on tmpfs (no disk write): hoist-boot ${M} ms [$(tr '\n' ' ' <"$T/shm.ms")]," \
	"ratio $(awk -v s="$M" -v c="$C" 'BEGIN{printf "%.2f", s/c}')"
rm -f "$T/www/bench/big"

for mib in 16 1024; do
	sha=$(make_object "o$mib" "$mib")
	run_stub "o$mib" "$sha" /usr/bin/time -v -o "$T/time.$mib" || { echo "stub failed" >&2; exit 1; }
	echo "peak RSS at $mib MiB: $(awk -F': ' '/Maximum resident/ {print $2}' "$T/time.$mib") KiB (target <= 8192, flat)"
	rm -f "$T/www/bench/o$mib"
done

# what loading the shared libraries alone costs (no transfer): the floor of the figures above
/usr/bin/time -f %M -o "$T/time.v" "$BOOT" --version >/dev/null
/usr/bin/time -f %M -o "$T/time.c" curl --version >/dev/null
echo "peak RSS of 'hoist-boot --version' (libraries loaded, nothing done): $(cat "$T/time.v") KiB;" \
	"'curl --version': $(cat "$T/time.c") KiB"

cp "$BOOT" "$T/hoist-boot.stripped"
strip "$T/hoist-boot.stripped"
echo "stripped hoist-boot: $(stat -c %s "$T/hoist-boot.stripped") bytes (target <= 102400)"
echo "dynamic libraries: $(ldd "$BOOT" | awk '{print $1}' | grep -E 'curl|crypto|ssl|libz|yaml' | tr '\n' ' ')"
