#!/usr/bin/env bash
# hoist-boot against the bed: the metadata deadline and the messages of
# faults (issue 9, items 19 and 22). A stalled credentials request ends the
# run within imds_deadline_s (one deadline for all metadata work, no retry
# loop inside another); IMDS's own Code and Message when it cannot get the
# role's credentials; a 403 on the token request says the endpoint may be
# disabled; retries and an IMDSv1 fallback are logged; a request signed for
# the wrong region names the bucket's region (x-amz-bucket-region).
set -u
# shellcheck source=/dev/null
source "$HOIST_SOURCE_DIR/tests/e2e/boot_lib.sh"
# shellcheck source=/dev/null
source "$HOIST_SOURCE_DIR/tests/bed/bed.sh"
boot_bed_start

# How many requests a counted emulator fault has met so far (a stalled request
# is logged only when it ends; the count drops when it arrives).
fault_met() {
	curl -s "$BED_IMDS_ENDPOINT/_emulator/state" |
		"$BED_PYTHON" -c 'import json,sys; f=json.load(sys.stdin)["faults"].get(sys.argv[1]) or {}; print(1000 - f.get("count", 1000))' "$1"
}
CREDS_PATH=/latest/meta-data/iam/security-credentials/$BED_ROLE_NAME

# 1. a stalled credentials request: one deadline (imds_deadline_s) bounds all metadata work,
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

# 2. IMDS cannot get the role's credentials: its Code and Message, not "missing field"
fresh
bed_fault '{"credentials_error": {"Code": "AssumeRoleUnauthorizedAccess", "Message": "EC2 cannot assume the role '"$BED_ROLE_NAME"'."}}'
run_boot
expect_rc 6 "credentials document with Code AssumeRoleUnauthorizedAccess"
expect_out "Code AssumeRoleUnauthorizedAccess: EC2 cannot assume the role $BED_ROLE_NAME."
expect_no_out "missing field"
expect_cache

# 3. metadata access disabled (403 to everything, the token PUT included): said so, not retried
fresh
bed_fault '{"disabled": true}'
run_boot
expect_rc 75 "metadata endpoint disabled"
expect_out "PUT $BED_IMDS_ENDPOINT/latest/api/token: 403 Forbidden"
expect_out "endpoint may be disabled on this instance"
expect_no_out "no IMDSv2 token service"
[ "$(bed_requests --imds)" -eq 1 ] && ok "403 not retried" || fail "$(bed_requests --imds) metadata requests"

# 4. retries are logged at the default level; so is a fallback to IMDSv1
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

# 5. a region other than the bucket's: S3's answer names the bucket's region, and so does hoist
fresh
run_boot --region eu-west-1
expect_rc 7 "wrong region"
expect_out "the bucket is in region $BED_REGION (S3's x-amz-bucket-region)"
expect_out "set region=$BED_REGION in the directive"
expect_out "(AuthorizationHeaderMalformed)"
expect_cache
finish
