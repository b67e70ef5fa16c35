#!/usr/bin/env bash
# hoist-boot against a scripted fake S3 (fake_s3.py), no metadata service:
# the CLI (--help, --version, usage and config errors), SlowDown/5xx retried
# then success or exit 75, size limit, resume when the server ignores Range,
# when the object changed (412) or Content-Range is wrong, a multipart
# composite checksum, the signed headers on every request.
set -u
# shellcheck source=/dev/null
source "$HOIST_SOURCE_DIR/tests/e2e/boot_lib.sh"
FAKE_PID=""
stop_fake() {
	if [ -n "$FAKE_PID" ]; then
		kill -TERM "$FAKE_PID" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$FAKE_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$FAKE_PID" 2>/dev/null
		wait "$FAKE_PID" 2>/dev/null
		FAKE_PID=""
	fi
}
trap 'stop_fake; rm -rf -- "$T"' EXIT

head -c 700000 /dev/urandom >"$T/obj"
SHA=$(sha256sum "$T/obj" | cut -d' ' -f1)
# start_fake [--sidecar HEX]
start_fake() {
	stop_fake
	rm -f "$T/port" "$T/s3.log"
	python3 "$HOIST_SOURCE_DIR/tests/e2e/fake_s3.py" --file "$T/obj" --port-file "$T/port" \
		--log "$T/s3.log" "$@" &
	FAKE_PID=$!
	for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
	[ -s "$T/port" ] || { echo "fake S3 did not start" >&2; exit 1; }
	EP="http://127.0.0.1:$(cat "$T/port")"
}
plan() { curl -sS -f --max-time 5 -o /dev/null -X POST --data-binary "$1" "$EP/_plan"; }
count() { if [ -f "$T/s3.log" ]; then grep -c "${1:-.}" "$T/s3.log"; else echo 0; fi; }
# Static credentials, region on the command line, nothing listening for IMDS.
run_s3() {
	rm -f "$T/agent.argv" "$T/s3.log"
	[ -n "${KEEP_CACHE:-}" ] || rm -rf "$CACHE"
	env -i PATH="$PATH" AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=s3cr3tS3cr3t \
		AWS_SESSION_TOKEN=T0KENt0ken AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:9 \
		timeout 60 "$BOOT" --root "$ROOT" --agent "$AGENT" --s3-endpoint "$EP" --region eu-west-1 \
		--user-data-file "$T/ud" "$@" >"$T/out" 2>&1
	RC=$?
}
printf 'download_retries = 2\n' >"$ROOT/etc/hoist/hoist.conf"

# CLI
RC=0; "$BOOT" --help >"$T/out" 2>&1 || RC=$?
expect_rc 0 "--help"
expect_out "Exit codes"
expect_out "75 temporary"
expect_out "--same-version"
RC=0; "$BOOT" --version >"$T/out" 2>&1 || RC=$?
expect_rc 0 "--version"
expect_out "libcurl/"
expect_out "OpenSSL/"
RC=0; "$BOOT" --bogus >"$T/out" 2>&1 || RC=$?
expect_rc 2 "unknown flag"
RC=0; "$BOOT" --root "$ROOT" --same-version sometimes --user-data-file /dev/null >"$T/out" 2>&1 || RC=$?
expect_rc 3 "bad --same-version"
head -c 20000 /dev/zero >"$T/big-ud"
RC=0; "$BOOT" --root "$ROOT" --user-data-file "$T/big-ud" >"$T/out" 2>&1 || RC=$?
expect_rc 4 "user data over 16 KiB"
expect_out "larger than 16384 bytes"

start_fake
directive "version=3" "bundle=s3://bkt/rel/app 3.tgz" "sha256=$SHA"

# 1. SlowDown twice, then success; every request signed with the empty-body hash and the token
plan '[{"status": 503, "code": "SlowDown"}, {"status": 500}]'
run_s3 --download-only
expect_rc 0 "SlowDown, 500, then success"
expect_out "SlowDown"
expect_cache "$SHA"
[ "$(count '"GET"')" -eq 3 ] && ok "3 GETs" || fail "$(count '"GET"') GETs"
[ "$(count 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')" -eq 3 ] &&
	ok "x-amz-content-sha256 = empty-body hash on every request" || fail "x-amz-content-sha256 missing"
[ "$(count '"has_auth": true, "has_token": true, "checksum_mode": "ENABLED"')" -eq 3 ] &&
	ok "Authorization, session token, checksum mode on every request" || fail "headers missing"
grep -q '"path": "/bkt/rel/app%203.tgz"' "$T/s3.log" && ok "path-style, encoded once" || fail "wrong path"
expect_no_out "s3cr3tS3cr3t"
expect_no_out "T0KENt0ken"

# 2. 5xx beyond the retries: temporary failure, no partial file
plan '[{"status": 500}, {"status": 502}, {"status": 503, "code": "SlowDown"}, {"status": 500}]'
run_s3 --download-only
expect_rc 75 "5xx exhausted"
expect_cache
[ "$(count '"GET"')" -eq 3 ] && ok "1 + 2 retries" || fail "$(count '"GET"') GETs"

# 3. larger than max_bundle_bytes: refused from Content-Length, not retried
printf 'max_bundle_bytes = 1000\n' >>"$ROOT/etc/hoist/hoist.conf"
plan '[]'
run_s3 --download-only
expect_rc 10 "too large"
expect_out "max_bundle_bytes"
expect_cache
[ "$(count '"GET"')" -eq 1 ] && ok "too large not retried" || fail "$(count '"GET"') GETs"
printf 'download_retries = 2\n' >"$ROOT/etc/hoist/hoist.conf"

# 3b. no Content-Length: the limit is enforced on the bytes as they arrive
printf 'max_bundle_bytes = 300000\n' >>"$ROOT/etc/hoist/hoist.conf"
plan '[{"no_length": true}]'
run_s3 --download-only
expect_rc 10 "too large while streaming"
expect_out "larger than max_bundle_bytes 300000"
expect_cache
printf 'download_retries = 2\n' >"$ROOT/etc/hoist/hoist.conf"

# 4. dropped mid-body, and the server ignores Range: start over from byte 0
plan '[{"drop_after": 100000}, {"ignore_range": true}]'
run_s3 --download-only
expect_rc 0 "resume ignored by the server"
expect_cache "$SHA"
cmp -s "$T/obj" "$CACHE/$SHA.bundle" && ok "content right after restart" || fail "content wrong"
grep -q '"range": "bytes=100000-", "if_match": "\\"v1\\""' "$T/s3.log" && ok "Range + If-Match sent" || fail "no Range/If-Match"

# 5. dropped, and the object changed (If-Match fails: 412): start over
plan '[{"drop_after": 50000}, {"etag": "\"v2\""}, {}]'
run_s3 --download-only
expect_rc 0 "object changed during download"
expect_cache "$SHA"
[ "$(count '"GET"')" -eq 3 ] && ok "3 GETs (drop, 412, full)" || fail "$(count '"GET"') GETs"

# 6. dropped, and the 206 starts at the wrong byte: refused, then resumed right
plan '[{"drop_after": 50000}, {"bad_range_start": true}, {}]'
run_s3 --download-only
expect_rc 0 "wrong Content-Range start"
expect_out "Content-Range does not start at byte 50000"
expect_cache "$SHA"
cmp -s "$T/obj" "$CACHE/$SHA.bundle" && ok "content right" || fail "content wrong"

# 7. a multipart composite checksum is not a whole-object digest: directive only
plan '[{"checksum": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=-4"}]'
run_s3 --download-only
expect_rc 0 "composite checksum ignored"
expect_out "multipart composite"
expect_out "sha256 ok (directive)"

# 8. no directive digest, composite checksum, no sidecar: refused (HEAD, GET, sidecar GET)
directive "version=3" "bundle=s3://bkt/rel/app.tgz"
plan '[{"checksum": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=-4"}, {"checksum": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=-4"}, {"checksum": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=-4"}]'
run_s3 --download-only
expect_rc 9 "no usable digest"
expect_cache
[ "$(count '"HEAD"')" -eq 0 ] && ok "no HEAD on an empty cache" || fail "$(count '"HEAD"') HEADs"

# 9. a sidecar that disagrees with the S3 checksum... and one that agrees
start_fake --sidecar "$(printf '%064d' 1)"
plan '[{"checksum": ""}, {"checksum": ""}, {"checksum": ""}]'
run_s3 --download-only
expect_rc 9 "sidecar mismatch"
expect_out "sidecar says 0000"
expect_cache
start_fake --sidecar "$SHA"
plan '[{"checksum": ""}, {"checksum": ""}, {"checksum": ""}]'
run_s3 --download-only
expect_rc 0 "sidecar agrees"
expect_out "sha256 ok (sidecar)"
[ "$(count .)" -eq 2 ] && ok "GET, sidecar GET" || fail "$(count .) requests"

# 9b. no directive digest, a non-empty cache: one HEAD learns the digest, a hit needs no GET
start_fake
plan '[]'
KEEP_CACHE=1 run_s3 --download-only
expect_rc 0 "cache hit found by HEAD"
expect_out "already in the cache, sha256 ok (s3-checksum)"
[ "$(count '"HEAD"')" -eq 1 ] && [ "$(count '"GET"')" -eq 0 ] && ok "one HEAD, no GET" ||
	fail "$(count '"HEAD"') HEADs, $(count '"GET"') GETs"
# a cached copy that was damaged is not used: removed and downloaded again
printf 'x' >>"$CACHE/$SHA.bundle"
KEEP_CACHE=1 run_s3 --download-only
expect_rc 0 "damaged cache entry replaced"
expect_out "is damaged"
cmp -s "$T/obj" "$CACHE/$SHA.bundle" && ok "cache entry repaired" || fail "cache entry still damaged"

# 10a. TLS is always verified: a self-signed server fails without its CA, works with --ca-bundle
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
	-keyout "$T/key.pem" -out "$T/cert.pem" >/dev/null 2>&1 || fail "openssl req"
start_fake --tls "$T/cert.pem" "$T/key.pem"
EP=${EP/http:/https:}
directive "version=3" "bundle=s3://bkt/rel/app.tgz" "sha256=$SHA"
run_s3 --download-only
expect_rc 3 "untrusted certificate refused"
expect_out "TLS is always verified"
expect_cache
run_s3 --download-only --ca-bundle "$T/cert.pem"
expect_rc 0 "trusted with --ca-bundle"
expect_cache "$SHA"
start_fake

# 10b. the hand-over: the agent is exec'd with the contract's argv; a missing agent is a config error
plan '[]'
run_s3
expect_rc 0 "handed over"
expect_agent_arg "--bundle-bucket"
expect_agent_arg "bkt"
expect_agent_arg "rel/app.tgz"
head -1 "$T/agent.argv" | grep -qx deploy && ok "argv starts with deploy" || fail "argv: $(head -1 "$T/agent.argv")"
run_s3 --agent "$T/no-such-agent"
expect_rc 3 "missing agent"
expect_out "cannot exec the agent $T/no-such-agent"

# 10. 403 names bucket and key and is not retried
plan '[{"status": 403, "code": "AccessDenied"}]'
run_s3 --download-only
expect_rc 7 "403"
expect_out "s3://bkt/rel/app.tgz"
[ "$(count .)" -eq 1 ] && ok "403 not retried" || fail "$(count .) requests"
finish
