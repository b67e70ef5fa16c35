#!/usr/bin/env bash
# Benchmark: hoist-boot fetch + verify of a 256 MiB object, beside baselines in the
# same run (medians of RUNS, interleaved):
#   1. from a local nginx (path-style, signature ignored): `curl | openssl dgst`
#      (writes nothing), and the fair one, `curl | tee FILE | openssl dgst` then
#      `sync FILE` (the stub's work: fetch, hash, keep, make durable);
#   2. from moto (the test bed: SigV4 and IAM enforced) with the instance role's
#      credentials from the IMDS emulator: hoist-boot; `curl --aws-sigv4 | tee FILE |
#      openssl dgst` + `sync FILE`; Debian's `aws s3 cp` + `sha256sum` (the way people
#      script it), all with the same role credentials (BENCH_SKIP_MOTO=1 skips);
# peak RSS of the stub at 16 MiB and 1 GiB (target <= 8 MiB, flat); stripped size
# (target <= 100 KiB). Output: a table, also written to bench/results/boot-download.txt.
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

mkdir -p "$SRC/bench/results"
OUT=${BENCH_OUT:-$SRC/bench/results/boot-download.txt}
exec > >(tee "$OUT")
echo "hoist-boot download benchmark, $(date -u +%FT%TZ), runs=$RUNS"
echo "machine: $(nproc) CPUs ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)), $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo) RAM, kernel $(uname -r), ${TMPDIR:-/tmp} on $(df -T "${TMPDIR:-/tmp}" | awk 'NR == 2 {print $2}'), load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
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

ROWS=()
SHA256=$(make_object big 256)
# the same with the state directory on tmpfs, to show what the disk (fsync) costs
SHM=$(mktemp -d /dev/shm/hoist-bench.XXXXXX)
trap 'cleanup; rm -rf -- "$SHM"' EXIT
: >"$T/stub.ms"
: >"$T/shm.ms"
: >"$T/curl.ms"
: >"$T/tee.ms"
for i in $(seq "$RUNS"); do
	t0=$(now_ms); run_stub big "$SHA256" || { echo "stub failed" >&2; exit 1; }; t1=$(now_ms)
	echo $((t1 - t0)) >>"$T/stub.ms"
	t0=$(now_ms); ROOTDIR=$SHM run_stub big "$SHA256" || { echo "stub failed" >&2; exit 1; }; t1=$(now_ms)
	echo $((t1 - t0)) >>"$T/shm.ms"
	rm -rf "$SHM/var"
	t0=$(now_ms); curl -s "http://127.0.0.1:$PORT/bench/big" | openssl dgst -sha256 >/dev/null; t1=$(now_ms)
	echo $((t1 - t0)) >>"$T/curl.ms"
	rm -f "$T/tee.out"
	t0=$(now_ms)
	curl -s "http://127.0.0.1:$PORT/bench/big" | tee "$T/tee.out" | openssl dgst -sha256 >/dev/null
	sync "$T/tee.out"
	t1=$(now_ms)
	echo $((t1 - t0)) >>"$T/tee.ms"
	rm -f "$T/tee.out"
done
S=$(median <"$T/stub.ms")
M=$(median <"$T/shm.ms")
C=$(median <"$T/curl.ms")
echo "256 MiB fetch+verify, median of $RUNS: hoist-boot ${S} ms [$(tr '\n' ' ' <"$T/stub.ms")]," \
	"curl|openssl ${C} ms [$(tr '\n' ' ' <"$T/curl.ms")], ratio $(awk -v s="$S" -v c="$C" 'BEGIN{printf "%.2f", s/c}') (target <= 1.2)"
echo "  state on tmpfs (no disk write): hoist-boot ${M} ms [$(tr '\n' ' ' <"$T/shm.ms")]," \
	"ratio $(awk -v s="$M" -v c="$C" 'BEGIN{printf "%.2f", s/c}')"
E=$(median <"$T/tee.ms")
echo "  fair baseline (curl | tee FILE | openssl dgst; sync FILE): ${E} ms [$(tr '\n' ' ' <"$T/tee.ms")]," \
	"hoist-boot / it: $(awk -v s="$S" -v c="$E" 'BEGIN{printf "%.2f", s/c}') (target <= 1.1)"
ROWS+=("| nginx | hoist-boot (state on disk) | $S | $(awk -v s="$S" -v c="$E" 'BEGIN{printf "%.2f", s/c}') |")
ROWS+=("| nginx | hoist-boot (state on tmpfs) | $M | $(awk -v s="$M" -v c="$E" 'BEGIN{printf "%.2f", s/c}') |")
ROWS+=("| nginx | curl \\| openssl dgst (writes nothing) | $C | $(awk -v s="$C" -v c="$E" 'BEGIN{printf "%.2f", s/c}') |")
ROWS+=("| nginx | **curl \\| tee FILE \\| openssl dgst; sync FILE** (baseline) | $E | 1.00 |")
rm -f "$T/www/bench/big"

# 2. The same object from moto with the role's credentials (SigV4 verified, IAM enforced).
if [ "${BENCH_SKIP_MOTO:-0}" != 1 ]; then
	export HOIST_SOURCE_DIR=$SRC
	# shellcheck source=/dev/null
	. "$SRC/tests/bed/bed.sh"
	bed_start >/dev/null || { echo "the test bed did not start" >&2; exit 1; }
	AWSCLI=${AWSCLI:-/usr/bin/aws} # Debian's awscli (apt-get install awscli), not a pip one
	head -c $((256 * 1024 * 1024)) /dev/urandom >"$T/mobj"
	MSHA=$(sha256sum "$T/mobj" | cut -d' ' -f1)
	bed_publish "$T/mobj" bench/big.bin >/dev/null || { echo "publish failed" >&2; exit 1; }
	rm -f "$T/mobj"
	MROOT=$T/mroot
	mkdir -p "$MROOT/etc/hoist"
	: >"$MROOT/etc/hoist/hoist.conf"
	printf '#hoist\napplication=bench\nenvironment=bench\nversion=1\nbundle=s3://%s/bench/big.bin\nsha256=%s\n' \
		"$BED_BUCKET" "$MSHA" >"$T/mud"
	ROLE_ENV=(AWS_ACCESS_KEY_ID="$BED_ROLE_ACCESS_KEY_ID" AWS_SECRET_ACCESS_KEY="$BED_ROLE_SECRET_ACCESS_KEY"
		AWS_SESSION_TOKEN="$BED_ROLE_SESSION_TOKEN" AWS_DEFAULT_REGION="$BED_REGION")
	: >"$T/m-stub.ms"; : >"$T/m-tee.ms"; : >"$T/m-aws.ms"
	for i in $(seq "$RUNS"); do
		rm -rf "$MROOT/var/lib/hoist"
		t0=$(now_ms)
		env -i PATH="$PATH" AWS_EC2_METADATA_SERVICE_ENDPOINT="$AWS_EC2_METADATA_SERVICE_ENDPOINT" \
			"$BOOT" --root "$MROOT" --s3-endpoint "$HOIST_TEST_S3_ENDPOINT" --region "$BED_REGION" \
			--user-data-file "$T/mud" --download-only -q >/dev/null || { echo "stub failed (moto)" >&2; exit 1; }
		t1=$(now_ms); echo $((t1 - t0)) >>"$T/m-stub.ms"
		rm -f "$T/m.out"
		t0=$(now_ms)
		got=$(curl -sf --aws-sigv4 "aws:amz:$BED_REGION:s3" \
			--user "$BED_ROLE_ACCESS_KEY_ID:$BED_ROLE_SECRET_ACCESS_KEY" \
			-H "x-amz-security-token: $BED_ROLE_SESSION_TOKEN" \
			-H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
			"$HOIST_TEST_S3_ENDPOINT/$BED_BUCKET/bench/big.bin" | tee "$T/m.out" | openssl dgst -sha256)
		sync "$T/m.out"
		t1=$(now_ms); echo $((t1 - t0)) >>"$T/m-tee.ms"
		[ "${got##* }" = "$MSHA" ] || { echo "curl baseline: wrong digest" >&2; exit 1; }
		rm -f "$T/m.out"
		t0=$(now_ms)
		env "${ROLE_ENV[@]}" "$AWSCLI" --endpoint-url "$HOIST_TEST_S3_ENDPOINT" s3 cp \
			"s3://$BED_BUCKET/bench/big.bin" "$T/m.out" --only-show-errors
		got=$(sha256sum "$T/m.out" | cut -d' ' -f1)
		t1=$(now_ms); echo $((t1 - t0)) >>"$T/m-aws.ms"
		[ "$got" = "$MSHA" ] || { echo "aws s3 cp baseline: wrong digest" >&2; exit 1; }
		rm -f "$T/m.out"
	done
	MS=$(median <"$T/m-stub.ms"); MT=$(median <"$T/m-tee.ms"); MA=$(median <"$T/m-aws.ms")
	echo "moto, 256 MiB, role credentials, median of $RUNS: hoist-boot ${MS} ms [$(tr '\n' ' ' <"$T/m-stub.ms")];" \
		"curl --aws-sigv4 | tee | openssl; sync ${MT} ms [$(tr '\n' ' ' <"$T/m-tee.ms")];" \
		"aws s3 cp + sha256sum ${MA} ms [$(tr '\n' ' ' <"$T/m-aws.ms")]"
	ROWS+=("| moto | hoist-boot (IMDS role credentials, state on disk) | $MS | $(awk -v s="$MS" -v c="$MT" 'BEGIN{printf "%.2f", s/c}') |")
	ROWS+=("| moto | **curl --aws-sigv4 \\| tee FILE \\| openssl dgst; sync FILE** (baseline) | $MT | 1.00 |")
	ROWS+=("| moto | aws s3 cp (Debian awscli $("$AWSCLI" --version 2>&1 | cut -d' ' -f1 | cut -d/ -f2)) + sha256sum | $MA | $(awk -v s="$MA" -v c="$MT" 'BEGIN{printf "%.2f", s/c}') |")
	bed_stop
fi

echo
echo "| source | 256 MiB fetch + verify + keep | median ms | / baseline |"
echo "|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
echo

# BENCH_BIG_MIB (e.g. 4600): one more RSS point past 2^32, from a sparse file nginx serves
# (no disk for the source, nor for the stub's cache copy: it keeps blocks of zeros as holes)
BIG=${BENCH_BIG_MIB:-}
if [ -n "$BIG" ]; then
	printf 'max_bundle_bytes = %s\n' "$(((BIG + 1) * 1024 * 1024))" >"$T/root/etc/hoist/hoist.conf"
fi
for mib in 16 1024 $BIG; do
	if [ "$mib" = "$BIG" ]; then
		truncate -s "${mib}M" "$T/www/bench/o$mib"
		sha=$(sha256sum "$T/www/bench/o$mib" | cut -d' ' -f1)
	else
		sha=$(make_object "o$mib" "$mib")
	fi
	run_stub "o$mib" "$sha" /usr/bin/time -v -o "$T/time.$mib" || { echo "stub failed" >&2; exit 1; }
	echo "peak RSS at $mib MiB: $(awk -F': ' '/Maximum resident/ {print $2}' "$T/time.$mib") KiB (target <= 8192, flat)"
	[ "$(stat -c %s "$T/root/var/lib/hoist/bundles/$sha.bundle" 2>/dev/null)" = "$((mib * 1024 * 1024))" ] ||
		echo "  cached size differs from $((mib * 1024 * 1024)) bytes" >&2
	rm -f "$T/www/bench/o$mib"
	rm -rf "$T/root/var/lib/hoist/bundles"
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
