#!/usr/bin/env bash
# agent/net/s3put against moto with IAM enforced, as the build role:
# a PUT with its SHA-256 checksum, conditional writes (If-None-Match: *,
# If-Match on the ETag; a lost race is 412 and exit 15), multipart with
# per-part checksums, and the instance role refused (403, exit 7).
set -uo pipefail
. "$HOIST_SOURCE_DIR/tests/bed/bed.sh"
PROBE=$HOIST_BUILD_DIR/tests/s3put_probe
FAILS=0
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
ok() { echo "ok: $*"; }
bed_start || exit 1

as_build() {
	env AWS_ACCESS_KEY_ID="$BED_BUILD_ACCESS_KEY_ID" AWS_SECRET_ACCESS_KEY="$BED_BUILD_SECRET_ACCESS_KEY" \
		AWS_SESSION_TOKEN="$BED_BUILD_SESSION_TOKEN" AWS_ENDPOINT_URL_S3="$HOIST_TEST_S3_ENDPOINT" \
		AWS_REGION="$BED_REGION" "$PROBE" "$@"
}
as_instance() {
	env AWS_ACCESS_KEY_ID="$BED_ROLE_ACCESS_KEY_ID" AWS_SECRET_ACCESS_KEY="$BED_ROLE_SECRET_ACCESS_KEY" \
		AWS_SESSION_TOKEN="$BED_ROLE_SESSION_TOKEN" AWS_ENDPOINT_URL_S3="$HOIST_TEST_S3_ENDPOINT" \
		AWS_REGION="$BED_REGION" "$PROBE" "$@"
}
# Reads an object back with the admin key: prints "size sha256 checksum-header".
head_obj() {
	"$BED_PYTHON" - "$1" <<'PY'
import hashlib, os, sys, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["HOIST_TEST_S3_ENDPOINT"], region_name="us-east-1",
                  aws_access_key_id=os.environ["BED_ADMIN_ACCESS_KEY_ID"],
                  aws_secret_access_key=os.environ["BED_ADMIN_SECRET_ACCESS_KEY"])
r = s3.get_object(Bucket="hoist-releases", Key=sys.argv[1], ChecksumMode="ENABLED")
b = r["Body"].read()
print(len(b), hashlib.sha256(b).hexdigest(), r.get("ChecksumSHA256", "-"))
PY
}

printf 'app=web\nversion=1\n' >"$BED_DIR/m1"
printf 'app=web\nversion=2\n' >"$BED_DIR/m2"
K=releases/web/channels/prod

out=$(as_build buffer "$BED_BUCKET" "$K" "$BED_DIR/m1" --if-none-match) && ok "create with If-None-Match: *" ||
	fail "create: $out"
etag1=$(sed -n 's/.*etag=//p' <<<"$out")
[ -n "$etag1" ] && ok "ETag returned ($etag1)" || fail "no ETag"
want=$(sha256sum "$BED_DIR/m1" | cut -d' ' -f1)
got=$(head_obj "$K")
case "$got" in "$(wc -c <"$BED_DIR/m1") $want "*) ok "object stored as sent" ;; *) fail "stored: $got" ;; esac
[ "${got##* }" = "$(openssl dgst -sha256 -binary "$BED_DIR/m1" | base64)" ] && ok "x-amz-checksum-sha256 stored" ||
	fail "checksum header: $got"

out=$(as_build buffer "$BED_BUCKET" "$K" "$BED_DIR/m2" --if-none-match 2>&1)
rc=$?
[ $rc -eq 15 ] && grep -q 'status=412' <<<"$out" && ok "second create refused: 412, exit 15" || fail "second create: rc $rc $out"

out=$(as_build buffer "$BED_BUCKET" "$K" "$BED_DIR/m2" --if-match "$etag1") && ok "replace with If-Match on the read ETag" ||
	fail "If-Match: $out"
out=$(as_build buffer "$BED_BUCKET" "$K" "$BED_DIR/m1" --if-match "$etag1" 2>&1)
rc=$?
[ $rc -eq 15 ] && grep -q 'status=412' <<<"$out" && grep -q 'another writer won' <<<"$out" &&
	ok "stale If-Match refused: 412, exit 15" || fail "stale If-Match: rc $rc $out"
case "$(head_obj "$K")" in "$(wc -c <"$BED_DIR/m2") $(sha256sum "$BED_DIR/m2" | cut -d' ' -f1) "*) ok "the winner's bytes kept" ;;
*) fail "object changed by the loser" ;; esac

# multipart: 5 MiB parts (S3's minimum), 12 MiB + 1 byte -> 3 parts
head -c $((12 * 1024 * 1024 + 1)) /dev/urandom >"$BED_DIR/big"
out=$(as_build file "$BED_BUCKET" releases/web/1/big.tgz "$BED_DIR/big" $((5 * 1024 * 1024)) $((5 * 1024 * 1024))) ||
	fail "multipart: $out"
grep -q 'parts=3 ' <<<"$out" && ok "multipart in 3 parts" || fail "multipart parts: $out"
want=$(sha256sum "$BED_DIR/big" | cut -d' ' -f1)
grep -q "sha256=$want" <<<"$out" && ok "digest computed while uploading" || fail "digest: $out"
got=$(head_obj releases/web/1/big.tgz)
case "$got" in "$(wc -c <"$BED_DIR/big") $want "*-3) ok "stored whole, composite checksum of 3 parts" ;;
*) fail "multipart stored: $got" ;; esac
n=$(bed_requests --s3 --method PUT /hoist-releases/releases/web/1/big.tgz)
[ "$n" = 3 ] && ok "3 part PUTs" || fail "$n part PUTs"

out=$(as_build file "$BED_BUCKET" releases/web/1/small.tgz "$BED_DIR/m1" 0 0) && grep -q 'parts=0 ' <<<"$out" &&
	ok "small file: one PUT" || fail "small file: $out"

out=$(as_build buffer "$BED_BUCKET" elsewhere/x "$BED_DIR/m1" 2>&1)
[ $? -eq 7 ] && ok "build role outside PREFIX: denied (7)" || fail "outside prefix: $out"
out=$(as_instance buffer "$BED_BUCKET" "$K" "$BED_DIR/m1" 2>&1)
[ $? -eq 7 ] && grep -q 's3:PutObject' <<<"$out" && ok "instance role may not write (7)" || fail "instance write: $out"

[ $FAILS -eq 0 ] || { echo "$FAILS failure(s)" >&2; exit 1; }
echo "all ok"
