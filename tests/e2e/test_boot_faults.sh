#!/usr/bin/env bash
# hoist-boot against the bed, failure paths: IMDS 503 x3 then success, a
# token expiring mid-run, IMDS stalled past the deadline, no metadata
# service, no role, 404, 403 on another bucket, a planted wrong checksum, a
# digest mismatch with the directive, no digest source, a sidecar, a
# connection dropped mid-body and resumed. Each failure: documented exit
# code, clear message, no partial file.
set -u
# shellcheck source=/dev/null
source "$HOIST_SOURCE_DIR/tests/e2e/boot_lib.sh"
# shellcheck source=/dev/null
source "$HOIST_SOURCE_DIR/tests/bed/bed.sh"
trap 'bed_stop; rm -rf -- "$T"' EXIT
bed_start || exit 1

KEY=releases/app-1.tgz
head -c 400000 /dev/urandom >"$T/b1"
SHA=$(sha256sum "$T/b1" | cut -d' ' -f1)
bed_publish "$T/b1" "$KEY" >/dev/null || exit 1
use_directive() {
	directive "$@"
	bed_set_user_data "$T/ud"
}
fresh() {
	bed_reset_faults
	rm -rf "$CACHE" "$STATE/tmp"
	bed_set_user_data "$T/ud"
	bed_clear_requests
}

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
bed_proxy_stop

# How many requests a counted emulator fault has met so far (a stalled request
# is logged only when it ends; the count drops when it arrives).
fault_met() {
	curl -s "$BED_IMDS_ENDPOINT/_emulator/state" |
		"$BED_PYTHON" -c 'import json,sys; f=json.load(sys.stdin)["faults"].get(sys.argv[1]) or {}; print(1000 - f.get("count", 1000))' "$1"
}
CREDS_PATH=/latest/meta-data/iam/security-credentials/$BED_ROLE_NAME

# 13. a stalled credentials request: one deadline (imds_deadline_s) bounds all metadata work,
# the user data's included, and the download's retry loop does not run the metadata one again
use_directive "version=1" "bundle=s3://$BED_BUCKET/$KEY" "sha256=$SHA"
for timeout_ms in 1000 60000; do
	fresh
	printf 'imds_deadline_s = 4\nimds_timeout_ms = %s\n' "$timeout_ms" >"$ROOT/etc/hoist/hoist.conf"
	bed_fault '{"stall": {"seconds": 60, "count": 1000, "path_prefix": "'"$CREDS_PATH"'"}}'
	t0=$(date +%s%N)
	run_boot
	t1=$(date +%s%N)
	el=$(((t1 - t0) / 1000000))
	expect_rc 75 "credentials stalled (imds_timeout_ms=$timeout_ms)"
	[ "$el" -le 7000 ] && ok "gave up in $el ms (deadline 4 s)" || fail "took $el ms with imds_deadline_s=4"
	met=$(fault_met stall)
	[ "$met" -ge 1 ] && [ "$met" -le 6 ] && ok "$met credentials requests (at most imds_retries+1)" ||
		fail "$met credentials requests"
	expect_out "metadata service"
	# the download loop does not run the metadata loop again
	n=$(grep -c "unavailable after" "$T/out")
	[ "$n" -eq 1 ] && ok "metadata given up once" || fail "metadata given up $n times"
	expect_cache
done
# the same deadline covers the user data: a slow user data leaves less for the credentials
fresh
printf 'imds_deadline_s = 4\n' >"$ROOT/etc/hoist/hoist.conf"
bed_fault '{"stall": {"seconds": 2.5, "count": 1, "path_prefix": "/latest/user-data"}}'
bed_fault '{"fail": {"count": 1000, "status": 503, "path_prefix": "'"$CREDS_PATH"'"}}'
t0=$(date +%s%N)
run_boot
t1=$(date +%s%N)
el=$(((t1 - t0) / 1000000))
expect_rc 75 "slow user data, failing credentials"
[ "$el" -le 6500 ] && ok "all metadata work within one deadline ($el ms)" || fail "took $el ms with imds_deadline_s=4"
: >"$ROOT/etc/hoist/hoist.conf"

# 14. IMDS cannot get the role's credentials: its Code and Message, not "missing field"
fresh
bed_fault '{"credentials_error": {"Code": "AssumeRoleUnauthorizedAccess", "Message": "EC2 cannot assume the role '"$BED_ROLE_NAME"'."}}'
run_boot
expect_rc 6 "credentials document with Code AssumeRoleUnauthorizedAccess"
expect_out "Code AssumeRoleUnauthorizedAccess: EC2 cannot assume the role $BED_ROLE_NAME."
expect_no_out "missing field"
expect_cache

# 15. metadata access disabled (403 to everything, the token PUT included): said so, not retried
fresh
bed_fault '{"disabled": true}'
run_boot
expect_rc 75 "metadata endpoint disabled"
expect_out "PUT $BED_IMDS_ENDPOINT/latest/api/token: 403 Forbidden"
expect_out "endpoint may be disabled on this instance"
expect_no_out "no IMDSv2 token service"
[ "$(bed_requests --imds)" -eq 1 ] && ok "403 not retried" || fail "$(bed_requests --imds) metadata requests"

# 16. retries are logged at the default level; so is a fallback to IMDSv1
fresh
bed_fault '{"fail": {"count": 2, "status": 503, "path_prefix": "/latest/user-data"}}'
run_boot
expect_rc 0 "user data 503 twice"
expect_out "GET $BED_IMDS_ENDPOINT/latest/user-data: HTTP 503; retry 1 of 5 in"
expect_out "retry 2 of 5 in"
fresh
curl -s "$BED_IMDS_ENDPOINT/_emulator/state" |
	"$BED_PYTHON" -c 'import json,sys; s=json.load(sys.stdin)["scenario"]; s["v1_allowed"]=True; print(json.dumps(s))' >"$T/scenario"
curl -s -o /dev/null -X POST --data-binary @"$T/scenario" "$BED_IMDS_ENDPOINT/_emulator/scenario"
bed_set_user_data "$T/ud"
bed_fault '{"fail": {"count": 1000, "status": 404, "path_prefix": "/latest/api/token"}}'
printf 'imds_v1_disabled = false\n' >"$ROOT/etc/hoist/hoist.conf"
run_boot
expect_rc 0 "no token service, IMDSv1 allowed"
expect_out "no IMDSv2 token service at $BED_IMDS_ENDPOINT (HTTP 404); falling back to IMDSv1"
[ "$(bed_requests --imds --method PUT)" -eq 1 ] && ok "one token PUT" || fail "token PUTs: $(bed_requests --imds --method PUT --list)"
sed 's/"v1_allowed": true/"v1_allowed": false/' "$T/scenario" >"$T/scenario.v2"
curl -s -o /dev/null -X POST --data-binary @"$T/scenario.v2" "$BED_IMDS_ENDPOINT/_emulator/scenario"
: >"$ROOT/etc/hoist/hoist.conf"

# 17. a region other than the bucket's: S3's answer names the bucket's region, and so does hoist
fresh
run_boot --region eu-west-1
expect_rc 7 "wrong region"
expect_out "the bucket is in region $BED_REGION (S3's x-amz-bucket-region)"
expect_out "set region=$BED_REGION in the directive"
expect_out "(AuthorizationHeaderMalformed)"
expect_cache
finish
