#!/usr/bin/env bash
# hoist-boot against the bed, failure paths: IMDS 503 x3 then success (each
# retry logged), a token expiring mid-run, IMDS stalled past the deadline, no metadata
# service, no role, 404, 403 on another bucket, a planted wrong checksum, a
# digest mismatch with the directive, no digest source, a sidecar, a
# connection dropped mid-body and resumed. Each failure: documented exit
# code, clear message, no partial file.
set -u
# shellcheck source=/dev/null
source "$HOIST_SOURCE_DIR/tests/e2e/boot_lib.sh"
# shellcheck source=/dev/null
source "$HOIST_SOURCE_DIR/tests/bed/bed.sh"
boot_bed_start

# 1. IMDS answers 503 three times, then works
use_directive "version=1" "bundle=s3://$BED_BUCKET/$KEY" "sha256=$SHA"
fresh
bed_fault '{"fail": {"count": 3, "status": 503, "path_prefix": "/latest/"}}'
run_boot -v
expect_rc 0 "IMDS 503 x3 then success"
expect_out "retry 1 of 5 in"
expect_cache "$SHA"

# 2. the session token expires mid-run: a 401 gets one fresh token
fresh
printf 'imds_timeout_ms = 4000\n' >"$ROOT/etc/hoist/hoist.conf"
bed_fault '{"token_ttl": 1, "stall": {"seconds": 1.5, "count": 1, "path_prefix": "/latest/meta-data/iam/security-credentials/"}}'
run_boot -v
expect_rc 0 "token expired mid-run"
expect_out "token refused, getting a new one"
[ "$(bed_requests --imds --method PUT)" -eq 2 ] && ok "two token PUTs" || fail "$(bed_requests --imds --method PUT) token PUTs"
: >"$ROOT/etc/hoist/hoist.conf"

# 3. IMDS stalls past the deadline: fails in seconds, one clear line, code 75
fresh
printf 'imds_deadline_s = 3\n' >"$ROOT/etc/hoist/hoist.conf"
bed_fault '{"stall": {"seconds": 20, "path_prefix": "/latest/"}}'
t0=$(date +%s)
run_boot
t1=$(date +%s)
expect_rc 75 "IMDS stalled"
[ $((t1 - t0)) -le 6 ] && ok "gave up in $((t1 - t0)) s" || fail "took $((t1 - t0)) s"
expect_out "metadata service"
[ "$(wc -l <"$T/out")" -le 3 ] && ok "short report" || fail "$(wc -l <"$T/out") lines"
bed_reset_faults
: >"$ROOT/etc/hoist/hoist.conf"

# 4. no metadata service at all (nothing listens): 75 within seconds
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
t0=$(date +%s)
IMDS_ENDPOINT="http://127.0.0.1:$port" run_boot
t1=$(date +%s)
expect_rc 75 "no metadata service"
[ $((t1 - t0)) -le 10 ] && ok "gave up in $((t1 - t0)) s" || fail "took $((t1 - t0)) s"

# 5. no role attached
fresh
bed_fault '{"no_role": true}'
run_boot
expect_rc 6 "no role"
expect_out "no instance role"
expect_cache

# 5b. the role's credentials are already expired, or not JSON
fresh
bed_fault '{"expired_credentials": true}'
run_boot
expect_rc 6 "expired credentials"
expect_out "have already expired"
fresh
bed_fault '{"malformed_credentials": true}'
run_boot
expect_rc 6 "malformed credentials"
expect_out "credentials of role $BED_ROLE_NAME"
expect_cache

# 6. object missing
fresh
use_directive "version=1" "bundle=s3://$BED_BUCKET/releases/missing.tgz" "sha256=$SHA"
run_boot
expect_rc 8 "missing object"
expect_out "s3://$BED_BUCKET/releases/missing.tgz"
expect_out "NoSuchKey"
expect_cache
expect_no_agent

# 7. another bucket: 403 naming bucket and key
fresh
use_directive "version=1" "bundle=s3://$BED_OTHER_BUCKET/$KEY" "sha256=$SHA"
run_boot
expect_rc 7 "other bucket"
expect_out "s3://$BED_OTHER_BUCKET/$KEY"
expect_out "AccessDenied"
expect_cache
[ "$(bed_requests --s3)" -eq 1 ] && ok "403 not retried" || fail "$(bed_requests --s3) S3 requests on 403"

# 8. a wrong checksum planted on the object
KEYBAD=releases/bad.tgz
bed_publish "$T/b1" "$KEYBAD" --bad-checksum >/dev/null || exit 1
fresh
use_directive "version=1" "bundle=s3://$BED_BUCKET/$KEYBAD" "sha256=$SHA"
run_boot
expect_rc 9 "planted wrong checksum"
expect_out "s3-checksum says"
expect_cache
[ "$(bed_requests --s3)" -eq 1 ] && ok "mismatch not retried" || fail "$(bed_requests --s3) S3 requests"

# 9. digest mismatch with the directive
fresh
use_directive "version=1" "bundle=s3://$BED_BUCKET/$KEY" "sha256=$(printf '%064d' 0)"
run_boot
expect_rc 9 "directive digest mismatch"
expect_out "directive says"
expect_cache
expect_no_agent

# 10. no digest source at all: refused; 11. a sidecar is one
KEYNS=releases/nosum.tgz
bed_publish "$T/b1" "$KEYNS" --no-checksum >/dev/null || exit 1
fresh
use_directive "version=1" "bundle=s3://$BED_BUCKET/$KEYNS"
run_boot
expect_rc 9 "no digest source"
expect_out "refusing an unverifiable bundle"
expect_cache
KEYSC=releases/side.tgz
bed_publish "$T/b1" "$KEYSC" --no-checksum --sidecar >/dev/null || exit 1
fresh
use_directive "version=1" "bundle=s3://$BED_BUCKET/$KEYSC"
run_boot
expect_rc 0 "sidecar digest"
expect_out "sha256 ok (sidecar)"
expect_cache "$SHA"

# 12. the connection drops mid-body: resumed with Range + If-Match
bed_proxy_start 1 150000 || exit 1
fresh
use_directive "version=1" "bundle=s3://$BED_BUCKET/$KEY" "sha256=$SHA"
S3_ENDPOINT=$HOIST_TEST_S3_PROXY_ENDPOINT run_boot
expect_rc 0 "dropped connection resumed"
expect_out "resuming at byte"
expect_out ", resumed"
expect_cache "$SHA"
cmp -s "$T/b1" "$CACHE/$SHA.bundle" && ok "resumed bundle identical" || fail "resumed bundle differs"
[ "$(bed_requests --proxy)" -eq 2 ] && ok "two GETs through the proxy" || fail "$(bed_requests --proxy) proxied requests"
finish
