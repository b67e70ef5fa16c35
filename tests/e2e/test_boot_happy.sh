#!/usr/bin/env bash
# hoist-boot against the bed: happy path (gzip and MIME user data, a key with
# spaces, '~' and unicode), cache hit with zero S3 requests, same_version
# skip, an interrupted deployment handed over, request counts per boot.
set -u
# shellcheck source=/dev/null
source "$HOIST_SOURCE_DIR/tests/e2e/boot_lib.sh"
# shellcheck source=/dev/null
source "$HOIST_SOURCE_DIR/tests/bed/bed.sh"
trap 'bed_stop; rm -rf -- "$T"' EXIT
bed_start || exit 1

# '+', '=' and non-ASCII need the bed's wire-path moto wrapper (plain moto 5.2.1
# mis-verifies them; testbed.md); spaces and '~' work everywhere.
KEY='releases/web 1.0+build=7~ü.tar.gz'
[ "${BED_MOTO_MODE:-wire}" = plain ] && KEY='releases/web 1.0~x.tar.gz'
head -c 3000000 /dev/urandom >"$T/bundle"
SHA=$(sha256sum "$T/bundle" | cut -d' ' -f1)
bed_publish "$T/bundle" "$KEY" >/dev/null || exit 1

# 1. gzip user data, directive with sha256, region from IMDS
directive "version=1.0" "bundle=s3://$BED_BUCKET/$KEY" "sha256=$SHA"
gzip -9 <"$T/ud" >"$T/ud.gz"
bed_set_user_data "$T/ud.gz"
bed_clear_requests
run_boot
expect_rc 0 "happy path, gzip user data"
expect_out "[imds] user data"
expect_out "version=1.0 bundle=s3://$BED_BUCKET/$KEY"
expect_out "sha256 ok (directive, s3-checksum)"
expect_out "handing over to $AGENT deploy"
expect_cache "$SHA"
cmp -s "$T/bundle" "$CACHE/$SHA.bundle" && ok "cached bundle identical" || fail "cached bundle differs"
expect_agent_arg "--bundle"
expect_agent_arg "$CACHE/$SHA.bundle"
expect_agent_arg "--sha256"
expect_agent_arg "$SHA"
expect_agent_arg "--bundle-key"
expect_agent_arg "$KEY"
expect_agent_arg "--deployment-group"
expect_agent_arg "HOIST_ROOT=$ROOT"
n=$(bed_requests)
[ "$n" -le 6 ] && ok "$n requests per boot (<= 6)" || fail "$n requests per boot (> 6)"
[ "$(bed_requests --s3)" -eq 1 ] && ok "one S3 request" || fail "$(bed_requests --s3) S3 requests"
expect_no_out "$BED_ROLE_SECRET_ACCESS_KEY"
expect_no_out "$BED_ROLE_SESSION_TOKEN"

# 2. again, verbose: found in the cache, zero S3 requests; secrets not logged with -v
bed_clear_requests
run_boot -v
expect_rc 0 "cache hit"
expect_out "already in the cache"
[ "$(bed_requests --s3)" -eq 0 ] && ok "zero S3 requests on a cache hit" || fail "$(bed_requests --s3) S3 requests on a cache hit"
expect_no_out "$BED_ROLE_SECRET_ACCESS_KEY"
expect_no_out "$BED_ROLE_SESSION_TOKEN"

# 3. same version already current: skip, no download, no agent
mkdir -p "$STATE"
printf 'version=1.0\nsha256=%s\n' "$SHA" >"$STATE/current"
rm -f "$CACHE/$SHA.bundle"
bed_clear_requests
run_boot
expect_rc 0 "same version skipped"
expect_out "already deployed"
expect_no_agent
expect_cache
[ "$(bed_requests --s3)" -eq 0 ] && ok "no S3 request when skipping" || fail "S3 requested when skipping"

# 4. --same-version redeploy hands over again; 5. a journal means hand over anyway
run_boot --same-version redeploy
expect_rc 0 "redeploy"
expect_agent_arg "deploy"
: >"$STATE/journal"
run_boot
expect_rc 0 "interrupted deployment"
expect_out "interrupted"
expect_agent_arg "deploy"
rm -f "$STATE/journal" "$STATE/current"

# 6. MIME user data, no sha256 in the directive: HEAD learns the S3 checksum
KEY2='releases/web-2.0.tgz'
head -c 100000 /dev/urandom >"$T/bundle2"
SHA2=$(sha256sum "$T/bundle2" | cut -d' ' -f1)
bed_publish "$T/bundle2" "$KEY2" >/dev/null || exit 1
directive "version=2.0" "bundle=s3://$BED_BUCKET/$KEY2"
{
	printf 'Content-Type: multipart/mixed; boundary="XYZ"\nMIME-Version: 1.0\n\n'
	printf -- '--XYZ\nContent-Type: text/x-shellscript\n\n#!/bin/sh\necho hi\n'
	printf -- '--XYZ\nContent-Type: text/x-hoist\n\n'
	cat "$T/ud"
	printf -- '--XYZ--\n'
} >"$T/ud.mime"
bed_set_user_data "$T/ud.mime"
bed_clear_requests
run_boot --region "$BED_REGION"
expect_rc 0 "MIME user data, S3 checksum only"
expect_out "sha256 ok (s3-checksum)"
expect_cache "$SHA" "$SHA2"
n=$(bed_requests)
[ "$n" -le 6 ] && ok "$n requests per boot (<= 6)" || fail "$n requests per boot"

# 7. --download-only prints the path and does not exec
run_boot --download-only
expect_rc 0 "download only"
expect_out "$CACHE/$SHA2.bundle"
expect_no_agent

# 8. no user data at all
bed_clear_user_data
run_boot
expect_rc 5 "no user data"
expect_out "no user data"
finish
