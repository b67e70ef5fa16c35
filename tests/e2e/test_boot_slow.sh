#!/usr/bin/env bash
# hoist-boot against a server that trickles (the bed's fault proxy sends the
# rest of the body at a few bytes per second): the stall floor
# (low_speed_bytes_s over low_speed_timeout_s) abandons a trickle, the
# whole-download deadline (download_deadline_s) bounds every attempt
# together, and the bytes received are kept after the last retry: the next
# run resumes them with Range + If-Match, and the sha256 still decides
# (a damaged kept file is fetched again from byte 0).
set -u
# shellcheck source=/dev/null
source "$HOIST_SOURCE_DIR/tests/e2e/boot_lib.sh"
# shellcheck source=/dev/null
source "$HOIST_SOURCE_DIR/tests/bed/bed.sh"
boot_bed_start releases/slow-1.tgz
directive "version=1" "bundle=s3://$BED_BUCKET/$KEY" "sha256=$SHA"
bed_set_user_data "$T/ud"
bed_proxy_start 0 0 || exit 1
S3_ENDPOINT=$HOIST_TEST_S3_PROXY_ENDPOINT
export S3_ENDPOINT
# proxy MODE BPS DROP_AFTER COUNT: the next COUNT object GETs (with or without Range)
# send DROP_AFTER bytes, then the rest at BPS bytes/s
proxy() {
	curl -s -o /dev/null -X POST "$HOIST_TEST_S3_PROXY_ENDPOINT/_faultproxy/config" --data-binary \
		"{\"mode\": \"$1\", \"trickle_bps\": $2, \"drop_after\": $3, \"count\": $4, \"faults_on\": \"all\"}"
}
timed_run() {
	local t0 t1
	t0=$(date +%s%N)
	run_boot "$@"
	t1=$(date +%s%N)
	EL=$(((t1 - t0) / 1000000))
}
kept() { find "$STATE/tmp" -name 'partial-*.data' -printf '%s\n' 2>/dev/null | head -n 1; }

# 1. a trickle of 4 bytes/s is a stall: below low_speed_bytes_s for low_speed_timeout_s, each
# attempt is abandoned (curl's "Operation too slow"), and the run fails temporarily. (libcurl's
# speed is its average over the last 5 s, so an attempt ends 2-7 s into the trickle.)
proxy trickle 4 20000 100
printf 'low_speed_bytes_s = 1024\nlow_speed_timeout_s = 2\ndownload_retries = 1\ndownload_deadline_s = 0\n' \
	>"$ROOT/etc/hoist/hoist.conf"
timed_run
expect_rc 75 "trickle at 4 B/s abandoned"
expect_out "Operation too slow. Less than 1024 bytes/sec transferred the last 2 seconds"
expect_out "retry 1 of 1"
[ "$EL" -le 25000 ] && ok "gave up in $EL ms (two attempts)" || fail "took $EL ms"
expect_no_agent

# 2. above the floor but too slow overall: download_deadline_s bounds every attempt together
rm -rf "$STATE/tmp" "$CACHE"
proxy trickle 2000 100000 100
printf 'low_speed_bytes_s = 1024\nlow_speed_timeout_s = 2\ndownload_retries = 5\ndownload_deadline_s = 4\n' \
	>"$ROOT/etc/hoist/hoist.conf"
timed_run
expect_rc 75 "2000 B/s for 400 KB with download_deadline_s=4"
expect_out "not done within download_deadline_s=4"
[ "$EL" -le 8000 ] && ok "gave up in $EL ms (deadline 4 s)" || fail "took $EL ms with download_deadline_s=4"

# 3. the bytes received are kept (in the state's tmp, with their facts), the next run resumes them
k=$(kept)
[ -n "$k" ] && [ "$k" -ge 100000 ] && ok "kept $k bytes after the last retry" || fail "nothing kept: $(ls -la "$STATE/tmp" 2>&1)"
expect_out "the next run resumes there"
[ "$(find "$STATE/tmp" -name 'partial-*.meta' | wc -l)" -eq 1 ] && ok "one kept download" || fail "$(ls "$STATE/tmp")"
proxy trickle 2000 0 0
: >"$ROOT/etc/hoist/hoist.conf"
bed_clear_requests
run_boot
expect_rc 0 "the next run completes"
expect_out "an earlier run kept"
expect_out ", resumed"
ranges=$(bed_requests --s3 --method GET --list | "$BED_PYTHON" -c 'import json,sys; print(" ".join(str(json.loads(l).get("range")) for l in sys.stdin if l.strip()))')
[ "$ranges" = "bytes=$k-" ] && ok "one GET, with Range: bytes=$k-" || fail "GETs with ranges [$ranges], want [bytes=$k-]"
expect_cache "$SHA"
cmp -s "$T/b1" "$CACHE/$SHA.bundle" && ok "resumed bundle identical" || fail "resumed bundle differs"
expect_agent_arg "$CACHE/$SHA.bundle"

# 4. the sha256 still decides: a kept file damaged while it waited is fetched again from byte 0
rm -rf "$STATE/tmp" "$CACHE"
proxy trickle 2000 100000 100
printf 'download_retries = 0\ndownload_deadline_s = 2\n' >"$ROOT/etc/hoist/hoist.conf"
run_boot
expect_rc 75 "interrupted by the deadline again"
data=$(find "$STATE/tmp" -name 'partial-*.data' | head -n 1)
printf 'X' | dd of="$data" bs=1 seek=1000 conv=notrunc status=none
proxy trickle 2000 0 0
: >"$ROOT/etc/hoist/hoist.conf"
bed_clear_requests
run_boot
expect_rc 0 "a damaged kept download is not used"
expect_out "may be damaged"
[ "$(bed_requests --s3 --method GET)" -eq 2 ] && ok "resumed, refused, fetched again from byte 0" ||
	fail "$(bed_requests --s3 --method GET) GETs"
expect_cache "$SHA"
cmp -s "$T/b1" "$CACHE/$SHA.bundle" && ok "bundle identical" || fail "bundle differs"

# 5. a run killed (SIGKILL) mid-download leaves a download the next run resumes: its facts were
# recorded when the first response arrived
rm -rf "$STATE/tmp" "$CACHE"
proxy trickle 2000 100000 100
printf 'download_deadline_s = 0\n' >"$ROOT/etc/hoist/hoist.conf"
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_REGION -u AWS_DEFAULT_REGION \
	-u AWS_ENDPOINT_URL -u HOIST_CONFIG -u HOIST_ROOT AWS_ENDPOINT_URL_S3="$S3_ENDPOINT" \
	"$BOOT" --root "$ROOT" --agent "$AGENT" >"$T/out.bg" 2>&1 &
bg=$!
for _ in $(seq 300); do
	k=$(kept)
	[ -n "$k" ] && [ "$k" -ge 100000 ] && [ -n "$(find "$STATE/tmp" -name 'partial-*.meta')" ] && break
	sleep 0.1
done
kill -KILL "$bg" 2>/dev/null
wait "$bg" 2>/dev/null
k=$(kept)
[ -n "$k" ] && [ "$k" -ge 100000 ] && ok "killed with $k bytes on disk" || fail "killed run left [$k] bytes"
proxy trickle 2000 0 0
: >"$ROOT/etc/hoist/hoist.conf"
bed_clear_requests
run_boot
expect_rc 0 "the run after a SIGKILL completes"
expect_out "an earlier run kept"
ranges=$(bed_requests --s3 --method GET --list | "$BED_PYTHON" -c 'import json,sys; print(" ".join(str(json.loads(l).get("range")) for l in sys.stdin if l.strip()))')
case $ranges in "bytes="[1-9]*-) ok "one GET, with $ranges" ;; *) fail "GETs with ranges [$ranges]" ;; esac
expect_cache "$SHA"
cmp -s "$T/b1" "$CACHE/$SHA.bundle" && ok "bundle identical" || fail "bundle differs"

# 6. a kept download of another object is not resumed for this one, and is removed (one at a time)
rm -rf "$STATE/tmp" "$CACHE"
proxy trickle 2000 100000 100
printf 'download_retries = 0\ndownload_deadline_s = 2\n' >"$ROOT/etc/hoist/hoist.conf"
run_boot
expect_rc 75 "interrupted"
KEY2=releases/slow-2.tgz
bed_publish "$T/b1" "$KEY2" >/dev/null || exit 1
directive "version=2" "bundle=s3://$BED_BUCKET/$KEY2" "sha256=$SHA"
bed_set_user_data "$T/ud"
proxy trickle 2000 0 0
: >"$ROOT/etc/hoist/hoist.conf"
bed_clear_requests
run_boot
expect_rc 0 "another object"
expect_no_out "an earlier run kept"
expect_cache "$SHA"
finish
