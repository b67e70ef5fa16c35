#!/usr/bin/env bash
# Issue 10, the build side on its own: hoist-release bundle is reproducible
# (two trees with the same content, made in different orders and at different
# times, give the same bytes) and refuses what hoist validate refuses; the AWS
# credential chain (a profile from ~/.aws, the instance role from IMDS, a
# missing profile); a multipart upload whose part fails is completed by
# sending that part again, and one that keeps failing is aborted with no
# release written.
set -uo pipefail
. "$HOIST_SOURCE_DIR/tests/bed/bed.sh"
REL=$HOIST_BUILD_DIR/agent/hoist-release
FAILS=0
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
ok() { echo "ok: $*"; }
bed_start || exit 1
W=$BED_DIR/w
mkdir -p "$W"
U=s3://$BED_BUCKET/$BED_BUILD_PREFIX
clean_env=(env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_PROFILE -u AWS_REGION
	-u AWS_DEFAULT_REGION -u AWS_ENDPOINT_URL -u AWS_SHARED_CREDENTIALS_FILE -u AWS_CONFIG_FILE)
build() {
	"${clean_env[@]}" AWS_ACCESS_KEY_ID="$BED_BUILD_ACCESS_KEY_ID" AWS_SECRET_ACCESS_KEY="$BED_BUILD_SECRET_ACCESS_KEY" \
		AWS_SESSION_TOKEN="$BED_BUILD_SESSION_TOKEN" AWS_ENDPOINT_URL_S3="$HOIST_TEST_S3_ENDPOINT" \
		AWS_REGION="$BED_REGION" "$REL" "$@"
}

# --- bundle: reproducible ---
mk_tree() { # dir order: the same files, created in the given order
	local d=$1
	mkdir -p "$d"
	for f in $2; do
		case $f in
		appspec) printf 'version: 0.0\nos: linux\nfiles:\n  - source: app\n    destination: /opt/web\n' >"$d/appspec.yml" ;;
		app) mkdir -p "$d/app/sub" && echo one >"$d/app/one.txt" && echo two >"$d/app/sub/two.txt" ;;
		link) mkdir -p "$d/app" && ln -sf one.txt "$d/app/link" ;;
		script) mkdir -p "$d/app/bin" && printf '#!/bin/sh\necho hi\n' >"$d/app/bin/run" && chmod 755 "$d/app/bin/run" ;;
		esac
	done
}
mk_tree "$W/a" "appspec app link script"
sleep 1.1   # other mtimes, another readdir order
mk_tree "$W/b" "script link app appspec"
touch -d '2001-02-03 04:05:06' "$W/b/app/one.txt"
build bundle "$W/a" -o "$W/a.tgz" >"$W/a.out" 2>&1 || fail "bundle a: $(cat "$W/a.out")"
build bundle "$W/b" -o "$W/b.tgz" >"$W/b.out" 2>&1 || fail "bundle b: $(cat "$W/b.out")"
cmp -s "$W/a.tgz" "$W/b.tgz" && ok "two runs over equal trees: byte-identical" || fail "bundles differ"
build bundle "$W/a" -o "$W/a2.tgz" >/dev/null 2>&1
cmp -s "$W/a.tgz" "$W/a2.tgz" && ok "the same tree twice: byte-identical" || fail "same tree differs"
grep -qx "sha256=$(sha256sum "$W/a.tgz" | cut -d' ' -f1)" "$W/a.out" && grep -qx "size=$(stat -c %s "$W/a.tgz")" "$W/a.out" &&
	ok "prints sha256 and size" || fail "output: $(cat "$W/a.out")"
tar tvzf "$W/a.tgz" >"$W/list"
[ "$(awk '{print $2}' "$W/list" | sort -u)" = root/root ] && ! grep -qv ' 1970-01-01 00:00 ' "$W/list" &&
	ok "owner root/root, mtime 0" || fail "entries: $(cat "$W/list")"
[ "$(awk '{print $6}' "$W/list" | tr '\n' ' ')" = "app/ app/bin/ app/bin/run app/link app/one.txt app/sub/ app/sub/two.txt appspec.yml " ] &&
	ok "entries sorted" || fail "order: $(awk '{print $6}' "$W/list" | tr '\n' ' ')"
grep -q '^-rwxr-xr-x .*app/bin/run$' "$W/list" && ok "modes kept" || fail "mode of app/bin/run"
SOURCE_DATE_EPOCH=1700000000 build bundle "$W/a" -o "$W/e.tgz" >/dev/null 2>&1
tar tvzf "$W/e.tgz" --full-time | grep -q ' 2023-11-14 22:13:20 appspec.yml$' && ok "SOURCE_DATE_EPOCH sets the mtime" ||
	fail "SOURCE_DATE_EPOCH"

# --- bundle: what hoist validate refuses ---
mk_tree "$W/bad" "appspec app"
printf 'version: 0.0\nos: linux\nhooks:\n  AfterInstall:\n    - location: scripts/missing.sh\n' >"$W/bad/appspec.yml"
out=$(build bundle "$W/bad" -o "$W/bad.tgz" 2>&1)
rc=$?
[ $rc -eq 12 ] && grep -q "refused (hoist validate)" <<<"$out" && [ ! -e "$W/bad.tgz" ] && [ ! -e "$W/bad.tgz.tmp" ] &&
	ok "a bundle validate refuses: 12, nothing written" || fail "bad bundle: rc $rc $out"
out=$(build bundle "$W/a" -o "$W/a/out.tgz" 2>&1)
[ $? -eq 2 ] && grep -q "inside the bundle directory" <<<"$out" && ok "output inside DIR refused (2)" || fail "inside: $out"
mkfifo "$W/a/app/fifo"
out=$(build bundle "$W/a" -o "$W/f.tgz" 2>&1)
[ $? -ne 0 ] && [ ! -e "$W/f.tgz" ] && ok "a fifo in the tree is refused" || fail "fifo: $out"
rm "$W/a/app/fifo"

# --- credentials: a profile in ~/.aws ---
home=$W/home
mkdir -p "$home/.aws"
printf '[default]\naws_access_key_id = AKIAWRONGWRONGWRONG\naws_secret_access_key = wrong\n[build]\naws_access_key_id = %s\naws_secret_access_key = %s\naws_session_token = %s\n' \
	"$BED_BUILD_ACCESS_KEY_ID" "$BED_BUILD_SECRET_ACCESS_KEY" "$BED_BUILD_SESSION_TOKEN" >"$home/.aws/credentials"
printf '[default]\nregion = us-west-2\n[profile build]\nregion = %s\n' "$BED_REGION" >"$home/.aws/config"
out=$("${clean_env[@]}" HOME="$home" AWS_PROFILE=build AWS_ENDPOINT_URL_S3="$HOIST_TEST_S3_ENDPOINT" \
	"$REL" publish "$W/a.tgz" --to "$U" --app web --version p1 2>&1) &&
	ok "AWS_PROFILE=build from ~/.aws/credentials and config (region too)" || fail "profile: $out"
out=$("${clean_env[@]}" HOME="$home" AWS_PROFILE=nosuch AWS_ENDPOINT_URL_S3="$HOIST_TEST_S3_ENDPOINT" \
	"$REL" channel show "$U/web/channels/prod" 2>&1)
[ $? -eq 3 ] && grep -q "AWS_PROFILE=nosuch" <<<"$out" && ok "a missing profile is an error (3)" || fail "nosuch: $out"
out=$("${clean_env[@]}" HOME="$home" AWS_ENDPOINT_URL_S3="$HOIST_TEST_S3_ENDPOINT" AWS_REGION="$BED_REGION" \
	"$REL" channel show "$U/web/channels/prod" 2>&1)
[ $? -eq 7 ] && ok "the default profile's (wrong) keys are used when AWS_PROFILE is unset (7)" || fail "default: $out"

# --- credentials: the instance role through IMDS (read only) ---
build promote --channel "$U/web/channels/prod" --version p1 >/dev/null 2>&1 || fail "promote p1"
bed_clear_requests
out=$("${clean_env[@]}" HOME=/nonexistent AWS_ENDPOINT_URL_S3="$HOIST_TEST_S3_ENDPOINT" \
	"$REL" channel show "$U/web/channels/prod" --json 2>&1)
grep -q '"version":"p1"' <<<"$out" && ok "no keys, no profile: the instance role from IMDS (region too)" || fail "imds: $out"
[ "$(bed_requests --imds /latest/meta-data/iam/security-credentials/)" -ge 2 ] && ok "credentials came from IMDS" ||
	fail "no IMDS credential requests"
out=$("${clean_env[@]}" HOME=/nonexistent AWS_ENDPOINT_URL_S3="$HOIST_TEST_S3_ENDPOINT" \
	"$REL" publish "$W/a.tgz" --to "$U" --app web --version p2 2>&1)
[ $? -eq 7 ] && ok "the instance role may not publish (7)" || fail "imds publish: $out"

# --- a failed part is sent again, alone ---
head -c $((12 * 1024 * 1024 + 1)) /dev/urandom >"$W/big.tgz"
bed_proxy_start 0 0 || exit 1
curl -fsS -X POST -d '{"put_fail": {"count": 1, "query": "partNumber=2&", "status": 503}}' \
	"$HOIST_TEST_S3_PROXY_ENDPOINT/_faultproxy/config" >/dev/null
out=$(build publish "$W/big.tgz" --to "$U" --app web --version m1 --part-size 5M --endpoint "$HOIST_TEST_S3_PROXY_ENDPOINT" 2>&1)
rc=$?
parts=$("$BED_PYTHON" -c '
import json, sys, re
n = {}
for l in open(sys.argv[1]):
    e = json.loads(l)
    m = re.search(r"partNumber=(\d+)", e.get("query") or "")
    if e["method"] == "PUT" and m:
        n[m.group(1)] = n.get(m.group(1), 0) + 1
print(" ".join(f"{k}:{v}" for k, v in sorted(n.items())))' "$BED_DIR/proxy.log")
[ $rc -eq 0 ] && [ "$parts" = "1:1 2:2 3:1" ] && grep -q "sha256=$(sha256sum "$W/big.tgz" | cut -d' ' -f1) size=12582913 parts=3" <<<"$out" &&
	ok "part 2 failed once (503) and was sent again alone: PUTs per part $parts" || fail "retry: rc $rc parts [$parts] $out"
curl -fsS -X POST -d '{"put_fail": {"count": 50, "query": "partNumber=3&", "status": 503}}' \
	"$HOIST_TEST_S3_PROXY_ENDPOINT/_faultproxy/config" >/dev/null
out=$(build publish "$W/big.tgz" --to "$U" --app web --version m2 --part-size 5M --endpoint "$HOIST_TEST_S3_PROXY_ENDPOINT" 2>&1)
rc=$?
aborts=$(grep -c '"method": "DELETE", "path": "/hoist-releases/releases/web/m2/big.tgz"' "$BED_DIR/proxy.log")
[ $rc -eq 75 ] && grep -q "part 3" <<<"$out" && [ "$aborts" = 1 ] && ok "a part that keeps failing: 75, the upload aborted" ||
	fail "abort: rc $rc aborts $aborts $out"
out=$(build channel show "$U/web/channels/prod" 2>&1)
build promote --channel "$U/web/channels/x" --version m2 >/dev/null 2>&1
[ $? -eq 8 ] && ok "no release manifest was written for the failed upload" || fail "m2 exists"

[ $FAILS -eq 0 ] || { echo "$FAILS failure(s)" >&2; exit 1; }
echo "all ok"
