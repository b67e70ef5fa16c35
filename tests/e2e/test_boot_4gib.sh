#!/usr/bin/env bash
# hoist-boot past 4 GiB without 4 GiB of disk or memory: the real stub fetches a
# 4,200 MiB bundle from the bed's s3gen emulator (an uncompressed tar generated while
# it is sent: one file of zeros with marker bytes across 2^31 and 2^32 and at its end),
# with role credentials and user data from the IMDS emulator, verifies its sha256
# while streaming, keeps it in the cache with its zero runs as holes, and hands it to
# the real agent, which unpacks it (zero blocks left as holes), installs it linked and
# records it; then a rollback to it from the kept tree. On the way: a first run killed
# while the object stalls past 2^32 (its partial ends at its last written byte, the
# trailing zeros not yet counted) is resumed by the next run from exactly that size,
# and a connection dropped in that run is resumed at the byte reached (holes
# included). Checked: sizes, markers at their offsets, the digests, the requests'
# ranges, disk use (du) of the partial, the cache copy and the installed file, and
# the peak RSS of the stub and of the agent against a 64 MiB bundle's (a baseline
# that fills every fixed-size buffer). Skipped (exit 0) only when the file system
# keeps no holes. About 40 s under ASan on 2 cores.
set -u
# shellcheck source=/dev/null
source "$HOIST_SOURCE_DIR/tests/e2e/boot_lib.sh"
# shellcheck source=/dev/null
source "$HOIST_SOURCE_DIR/tests/bed/bed.sh"
trap 'bed_stop; rm -rf -- "$T"' EXIT
AGENT=$HOIST_BUILD_DIR/agent/hoist
G=$((1024 * 1024 * 1024))
SIZE=$((4200 * 1024 * 1024))
SLACK_KIB=4096 # peak RSS allowed above the 64 MiB bundle's
DU_MAX_KIB=16384
# prints a Python expression over the JSON document on stdin (d), or, with -n, over none
pyq() {
	if [ "$1" = -n ]; then "$BED_PYTHON" -c "import json; print($2)"; else
		"$BED_PYTHON" -c "import json, sys; d = json.load(sys.stdin); print($1)"; fi
}

truncate -s $((64 * 1024 * 1024)) "$T/holes"
printf 'x' | dd of="$T/holes" bs=1 seek=$((32 * 1024 * 1024)) conv=notrunc status=none
[ "$(du -k "$T/holes" | cut -f1)" -lt 1024 ] || { echo "SKIP: $T keeps no holes"; exit 0; }
rm -f "$T/holes"

bed_start || exit 1
bed_s3gen_start || exit 1
APPSPEC='version: 0.0
os: linux
files:
  - source: data
    destination: /opt/big
'
# the generated objects; markers as in test_agent_4gib, offsets within disk.img
JSPEC=$(pyq -n "json.dumps('''$APPSPEC''')")
bed_s3gen_ctl objects "$(printf '{"bucket": "%s", "key": "releases/small.tar", "members": [
	{"name": "appspec.yml", "text": %s}, {"name": "data/", "dir": true},
	{"name": "data/small.txt", "text": "tiny\\n"}, {"name": "data/pad.img", "size": %d, "marks": [[0, "P"]]}]}' \
	"$BED_BUCKET" "$JSPEC" $((64 * 1024 * 1024)))" >/dev/null || exit 1
big=$(bed_s3gen_ctl objects "$(printf '{"bucket": "%s", "key": "releases/big 4200m.tar", "members": [
	{"name": "appspec.yml", "text": %s}, {"name": "data/", "dir": true},
	{"name": "data/disk.img", "size": %d, "marks": [[%d, "A2^31"], [%d, "B2^32"], [%d, "ENDS"]]}]}' \
	"$BED_BUCKET" "$JSPEC" "$SIZE" $((2 * G - 3)) $((4 * G - 2)) $((SIZE - 4)))") || exit 1
OBJ_SIZE=$(pyq 'd["size"]' <<<"$big")
ETAG=$(pyq 'd["etag"]' <<<"$big")
DATA_AT=$(pyq '[m["offset"] for m in d["members"] if m["name"] == "data/disk.img"][0]' <<<"$big")
[ "$OBJ_SIZE" -gt $((4 * G)) ] && ok "generated bundle of $OBJ_SIZE bytes (past 2^32)" || fail "object size $OBJ_SIZE"

echo "== the emulator checks what S3 checks: botocore's own GetObject passes, a wrong secret does not"
if "$BED_PYTHON" - "$BED_S3GEN_ENDPOINT" "$BED_REGION" "$BED_BUCKET" "$BED_ROLE_ACCESS_KEY_ID" \
	"$BED_ROLE_SECRET_ACCESS_KEY" "$BED_ROLE_SESSION_TOKEN" >"$T/out" 2>&1 <<'PY'; then
import sys
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
url, region, bucket, akid, secret, token = sys.argv[1:]
def s3(sec):
    return boto3.client("s3", endpoint_url=url, region_name=region, aws_access_key_id=akid,
                        aws_secret_access_key=sec, aws_session_token=token,
                        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
r = s3(secret).get_object(Bucket=bucket, Key="releases/big 4200m.tar", Range="bytes=0-511")
assert r["Body"].read()[:11] == b"appspec.yml", "first block"
try:
    s3(secret + "x").get_object(Bucket=bucket, Key="releases/big 4200m.tar", Range="bytes=0-511")
    sys.exit("a wrong secret was accepted")
except ClientError as e:
    assert e.response["Error"]["Code"] == "SignatureDoesNotMatch", e.response["Error"]
PY
	ok "botocore's signed GetObject accepted, a wrong secret refused (SignatureDoesNotMatch)"
else
	fail "the emulator's signature check"
fi

printf 'max_bundle_bytes = 5G\nkeep_bytes = 16G\n' >"$ROOT/etc/hoist/hoist.conf"
# the stub with the real agent; sets RC, RSS (the largest process: stub, agent, or the measuring
# Python's own RSS, which its forked child counts until the exec), STUB_RSS and AGENT_RSS (each
# program's own peak, sampled from /proc every 20 ms: exact up to the last 20 ms of each)
boot() {
	local r
	r=$(env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_REGION \
		-u AWS_DEFAULT_REGION -u AWS_ENDPOINT_URL -u HOIST_CONFIG -u HOIST_ROOT \
		AWS_ENDPOINT_URL_S3="$BED_S3GEN_ENDPOINT" \
		"$BED_PYTHON" "$HOIST_SOURCE_DIR/tests/e2e/peakrss.py" hoist-boot,hoist "$T/out" "$T/out" \
		"$BOOT" --root "$ROOT" --agent "$AGENT")
	read -r RC RSS STUB_RSS AGENT_RSS <<<"$r"
}
marks() { # the marker bytes of FILE, read back at their offsets (+ AT: where disk.img starts in FILE)
	local at=${2:-0}
	dd if="$1" bs=1 skip=$((at + 2 * G - 3)) count=5 status=none 2>/dev/null
	dd if="$1" bs=1 skip=$((at + 4 * G - 2)) count=5 status=none 2>/dev/null
	dd if="$1" bs=1 skip=$((at + SIZE - 4)) count=4 status=none 2>/dev/null
}
want_marks='A2^31B2^32ENDS'
kib() { du -k "$1" | cut -f1; }
requests() { curl -sS -f "$BED_S3GEN_ENDPOINT/_s3gen/requests"; }

echo "== a 64 MiB bundle: the memory baseline (every fixed-size buffer used)"
directive "version=t1" "bundle=s3://$BED_BUCKET/releases/small.tar"
bed_set_user_data "$T/ud"
boot
expect_rc 0 "64 MiB bundle deployed through the stub"
base_rss=$RSS base_stub=$STUB_RSS base_agent=$AGENT_RSS
[ "$(cat "$ROOT/opt/big/small.txt" 2>/dev/null)" = tiny ] && ok "small file installed" || fail "small file not installed"
small=("$CACHE"/*.bundle) # the only one so far
[ "$base_stub" -gt 0 ] && [ "$base_agent" -gt 0 ] && ok "stub and agent each sampled" || fail "stub or agent never sampled"

echo "== the 4,200 MiB bundle, first run killed while the object stalls past 2^32"
meta=$(curl -sS -f "$BED_S3GEN_ENDPOINT/_s3gen/object?bucket=$BED_BUCKET&key=releases/big%204200m.tar") || exit 1
SHA=$(pyq 'd["sha256"]' <<<"$meta")
FILE_SHA=$(pyq '[m["sha256"] for m in d["members"] if m["name"] == "data/disk.img"][0]' <<<"$meta")
STALL=$((4 * G + 64 * 1024 * 1024))
bed_s3gen_ctl faults "{\"stall_after\": $STALL}" >/dev/null
directive "version=g1" "bundle=s3://$BED_BUCKET/releases/big 4200m.tar"
bed_set_user_data "$T/ud"
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_REGION -u AWS_DEFAULT_REGION \
	-u AWS_ENDPOINT_URL -u HOIST_CONFIG -u HOIST_ROOT AWS_ENDPOINT_URL_S3="$BED_S3GEN_ENDPOINT" \
	"$BOOT" --root "$ROOT" --agent "$AGENT" >"$T/out" 2>&1 &
pid=$!
for ((i = 0; i < 1200; i++)); do
	grep -q '"stalled"' "$BED_DIR/s3gen.log" && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
grep -q '"stalled"' "$BED_DIR/s3gen.log" && ok "the object stalled after $STALL bytes" || fail "no stall"
sleep 1 # the stub writes what its socket still holds
kill -0 "$pid" 2>/dev/null && ok "the stub waits for more" || fail "the stub ended by itself: $(tail -3 "$T/out")"
kill -KILL "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
part=$(ls "$STATE"/tmp/partial-*.data 2>/dev/null | head -1)
psize=$(stat -c %s "$part" 2>/dev/null || echo 0)
# the last bytes written are B2^32's block; the zeros after it were holes not yet sized
if [ "$psize" -gt $((DATA_AT + 4 * G)) ] && [ "$psize" -lt "$STALL" ]; then
	ok "partial of $psize bytes: ends after B2^32, before the $STALL received (trailing holes unsized)"
else
	fail "partial $part of $psize bytes (want past $((DATA_AT + 4 * G)), below $STALL)"
fi
[ "$(marks "$part" "$DATA_AT" | head -c 10)" = 'A2^31B2^32' ] && ok "partial's markers at their offsets" || fail "partial's markers"
[ "$(kib "$part")" -lt "$DU_MAX_KIB" ] && ok "partial uses $(kib "$part") KiB of disk" || fail "partial uses $(kib "$part") KiB of disk"

echo "== the next run resumes at the partial's size, a dropped connection at the byte reached"
DROP=$((16 * 1024 * 1024))
bed_s3gen_ctl faults "{\"drop_after\": $DROP}" >/dev/null
n0=$(requests | pyq 'len(d)')
boot
expect_rc 0 "4,200 MiB bundle fetched, kept and deployed"
expect_out "an earlier run kept"
expect_out "resuming at byte $((psize + DROP))"
expect_out "sha256 ok (s3-checksum)"
gets=$(requests | pyq "[[r['range'], r['if_match'], r['status'], r['sent']] for r in d[$n0:] if r.get('method') == 'GET']")
a=$psize b=$((psize + DROP))
want="[['bytes=$a-', '$ETAG', 206, $DROP], ['bytes=$b-', '$ETAG', 206, $((OBJ_SIZE - b))]]"
[ "$gets" = "$want" ] && ok "GETs: Range from the partial's size, then from the byte reached, If-Match" ||
	fail "GETs $gets, want $want"
c=$CACHE/$SHA.bundle
[ "$(stat -c %s "$c" 2>/dev/null)" = "$OBJ_SIZE" ] && ok "cache copy named by its sha256, $OBJ_SIZE bytes" || fail "cache copy $c"
[ "$(marks "$c" "$DATA_AT")" = "$want_marks" ] && ok "cache copy's markers past 2^31 and 2^32" || fail "cache copy's markers"
[ "$(kib "$c")" -lt "$DU_MAX_KIB" ] && ok "cache copy uses $(kib "$c") KiB of disk" || fail "cache copy uses $(kib "$c") KiB of disk"
[ -z "$(ls -A "$STATE/tmp" 2>/dev/null)" ] && ok "no partial left" || fail "tmp: $(ls -A "$STATE/tmp")"
inst=$ROOT/opt/big/disk.img
[ "$(stat -c %s "$inst" 2>/dev/null)" = "$SIZE" ] && ok "installed file of $SIZE bytes" || fail "installed size $(stat -c %s "$inst" 2>/dev/null)"
[ "$(marks "$inst")" = "$want_marks" ] && ok "installed markers past 2^31 and 2^32 and at the end" || fail "installed markers"
[ "$(kib "$inst")" -lt "$DU_MAX_KIB" ] && ok "installed file uses $(kib "$inst") KiB of disk" || fail "installed file uses $(kib "$inst") KiB of disk"
grep -q "^F $FILE_SHA 0644 /opt/big/disk.img$" "$STATE/revisions/g1/installed.list" && ok "installed list: the file's sha256" ||
	fail "installed list: $(cat "$STATE/revisions/g1/installed.list")"
grep -qx "sha256=$SHA" "$STATE/revisions/g1/meta" && ok "revision records the bundle's sha256" || fail "meta: $(cat "$STATE/revisions/g1/meta")"
echo "peak RSS (KiB), 64 MiB vs 4,200 MiB: stub $base_stub vs $STUB_RSS, agent $base_agent vs $AGENT_RSS, largest process $base_rss vs $RSS"
[ "$STUB_RSS" -le $((base_stub + SLACK_KIB)) ] && ok "stub memory flat" || fail "stub memory grew: $STUB_RSS KiB vs $base_stub KiB"
[ "$AGENT_RSS" -le $((base_agent + SLACK_KIB)) ] && ok "agent memory flat" || fail "agent memory grew: $AGENT_RSS KiB vs $base_agent KiB"
[ "$RSS" -le $((base_rss + SLACK_KIB)) ] && ok "largest process flat" || fail "memory grew: $RSS KiB vs $base_rss KiB"

echo "== another revision, then rollback to the big one from the kept tree"
"$AGENT" --root "$ROOT" deploy --bundle "${small[0]}" --version t2 >"$T/out" 2>&1 ||
	fail "deploy t2: $(tail -3 "$T/out")"
[ ! -e "$inst" ] && ok "t2 replaced the big file" || fail "the big file is left after t2"
r=$("$BED_PYTHON" "$HOIST_SOURCE_DIR/tests/e2e/peakrss.py" hoist "$T/out" "$T/out" "$AGENT" --root "$ROOT" rollback --to g1)
read -r RC RSS AGENT_RSS <<<"$r"
expect_rc 0 "rollback to g1"
[ "$(stat -c %s "$inst" 2>/dev/null)" = "$SIZE" ] && [ "$(marks "$inst")" = "$want_marks" ] &&
	ok "rolled back: size and markers" || fail "after rollback: size or markers"
[ "$(kib "$inst")" -lt "$DU_MAX_KIB" ] && ok "rolled-back file uses $(kib "$inst") KiB of disk" || fail "rolled-back file uses $(kib "$inst") KiB"
echo "rollback peak RSS (KiB): agent $AGENT_RSS, largest process $RSS"
[ "$AGENT_RSS" -le $((base_agent + SLACK_KIB)) ] && [ "$RSS" -le $((base_rss + SLACK_KIB)) ] && ok "rollback memory flat" ||
	fail "rollback memory grew: $AGENT_RSS KiB (agent), $RSS KiB vs $base_agent, $base_rss KiB"
finish
