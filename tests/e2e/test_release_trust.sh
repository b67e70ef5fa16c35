#!/usr/bin/env bash
# Issue 10, the host's trust policy: every refusal (unsigned, unknown key, bad
# signature, wrong app, wrong channel, pinned directive, expired, replayed
# older seq, a bundle larger than its manifest says) leaves the current
# revision and the cache as they were and fetches no bundle; key rotation;
# signify interop both ways with the real signify-openbsd binary; a
# passphrase-protected key is refused.
set -uo pipefail
SIGNIFY=$(command -v signify-openbsd) || { echo "signify-openbsd missing (scripts/setup.sh)" >&2; exit 1; }
# shellcheck source=/dev/null
. "$HOIST_SOURCE_DIR/tests/e2e/release_lib.sh"
KEYS=$ROOT/etc/hoist/trusted-keys
C=$U/web/channels
s3_get() { # KEY FILE: read an object back with the admin key
	"$BED_PYTHON" - "$1" "$2" <<'PY'
import os, sys, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["HOIST_TEST_S3_ENDPOINT"], region_name="us-east-1",
                  aws_access_key_id=os.environ["BED_ADMIN_ACCESS_KEY_ID"],
                  aws_secret_access_key=os.environ["BED_ADMIN_SECRET_ACCESS_KEY"])
open(sys.argv[2], "wb").write(s3.get_object(Bucket="hoist-releases", Key=sys.argv[1])["Body"].read())
PY
}
s3_put() { bed_publish "$1" "$2" >/dev/null; } # FILE KEY (admin: an attacker with bucket access)
snapshot() { (cd "$STATE/bundles" && ls -A | sort) >"$W/cache.before"; cat "$STATE/current" >"$W/current.before"; }
# A refusal: the exit code, the message, no bundle fetched, nothing changed.
expect_refused() { # rc message what
	if [ "$RC" -eq "$1" ] && grep -qF -- "$2" "$W/out"; then ok "$3: refused ($RC)"; else fail "$3: rc $RC, want $1 and '$2'"; fi
	[ "$(bed_requests --s3 --method GET /hoist-releases/releases/web/2.0/)" = 0 ] &&
	[ "$(bed_requests --s3 --method GET /hoist-releases/releases/web/1.0/web)" = 0 ] || fail "$3: a bundle was fetched"
	(cd "$STATE/bundles" && ls -A | sort) | cmp -s - "$W/cache.before" || fail "$3: the cache changed"
	cmp -s "$STATE/current" "$W/current.before" || fail "$3: the current revision changed"
	[ -z "$(ls -A "$STATE/tmp" 2>/dev/null)" ] || fail "$3: files left in tmp"
}

build key generate "$W/rel" >/dev/null
cp "$W/rel.pub" "$KEYS/"
for v in 1.0 2.0; do
	build bundle "$(make_src $v)" -o "$W/web-$v.tgz" >/dev/null 2>&1
	build publish "$W/web-$v.tgz" --to "$U" --app web --version $v --sign-key "$W/rel.sec" >/dev/null 2>&1 ||
		fail "publish $v"
done
build promote --channel "$C/prod" --version 1.0 --sign-key "$W/rel.sec" >/dev/null
directive "channel=$C/prod"
boot
[ $RC -eq 0 ] && [ "$(served)" = 1.0 ] && ok "prod: 1.0 deployed (seq 1)" || fail "initial deploy: rc $RC"
s3_get releases/web/channels/prod "$W/prod-seq1"
snapshot

# --- hoist -> signify: what hoist-release signed verifies with signify-openbsd ---
"$SIGNIFY" -V -e -p "$W/rel.pub" -x "$W/prod-seq1" -m "$W/prod-seq1.msg" >/dev/null &&
	grep -qx "seq=1" "$W/prod-seq1.msg" && ok "signify-openbsd verifies hoist's channel manifest" ||
	fail "signify rejects hoist's signature"
s3_get releases/web/1.0/release "$W/rel-1.0"
"$SIGNIFY" -V -e -p "$W/rel.pub" -x "$W/rel-1.0" -m /dev/null >/dev/null && ok "... and its release manifest" ||
	fail "signify rejects the release manifest"

# --- refusals ---
out=$(build promote --channel "$C/unsigned" --version 2.0 2>&1) && grep -q "this promotion is not (no --sign-key)" <<<"$out" &&
	ok "an unsigned promotion of a signed release: allowed, with a warning" || fail "unsigned promote: $out"
directive "channel=$C/unsigned"; boot
expect_refused 18 "it is not signed, and this host requires signatures (1 trusted key" "unsigned channel"

build key generate "$W/stranger" >/dev/null
build promote --channel "$C/stranger" --version 2.0 --sign-key "$W/stranger.sec" --trusted-keys "$KEYS" >/dev/null 2>&1
directive "channel=$C/stranger"; boot
expect_refused 18 "which is not a trusted key" "signed by an unknown key"
out=$(build channel show "$C/stranger" --trusted-keys "$KEYS" 2>&1)
[ $? -eq 18 ] && grep -q "not a trusted key" <<<"$out" && ok "channel show --trusted-keys refuses it too (18)" ||
	fail "show stranger: $out"
build channel show "$C/prod" --json --trusted-keys "$KEYS" | grep -q '"verified_by":"rel.pub"' &&
	ok "channel show --trusted-keys: verified_by rel.pub" || fail "show verified"

build promote --channel "$C/tampered" --version 2.0 --sign-key "$W/rel.sec" >/dev/null
s3_get releases/web/channels/tampered "$W/t"
sed -i 's/^seq=1$/seq=9/' "$W/t"
s3_put "$W/t" releases/web/channels/tampered
directive "channel=$C/tampered"; boot
expect_refused 18 "does not verify with trusted key rel.pub" "a changed manifest (bad signature)"

APP=shop directive "channel=$C/prod"; boot
expect_refused 18 "it is a release of application 'web', this host runs 'shop'" "another application's release"

s3_put "$W/prod-seq1" releases/web/channels/evil   # prod's valid manifest under another channel
directive "channel=$C/evil"; boot
expect_refused 18 "holds the manifest of channel 'prod'" "a manifest copied to another channel"

directive "release=$C/prod"; boot
expect_refused 18 "holds a channel manifest" "a channel given as release="

directive "$(printf 'version=2.0\nbundle=%s/web/2.0/web-2.0.tgz' "$U")"; boot
expect_refused 18 "this host requires signed releases" "a pinned version+bundle directive"

# signify -> hoist: a key made by signify-openbsd, manifests signed by it
"$SIGNIFY" -G -n -p "$W/ops.pub" -s "$W/ops.sec" -c "ops key"
cp "$W/ops.pub" "$KEYS/"
sha2=$(sha256sum "$W/web-2.0.tgz" | cut -d' ' -f1)
size2=$(stat -c %s "$W/web-2.0.tgz")
manifest() { # channel seq size [expires]
	printf 'hoist-manifest 1\nkind=channel\napp=web\nversion=2.0\nbundle=%s/web/2.0/web-2.0.tgz\nsha256=%s\nsize=%s\ncreated=2026-01-01T00:00:00Z\nchannel=%s\nseq=%s\n' \
		"$U" "$sha2" "$3" "$1" "$2"
	[ -n "${4:-}" ] && printf 'expires=%s\n' "$4"
	return 0
}
manifest expired 1 "$size2" 2020-01-01T00:00:00Z >"$W/m"
"$SIGNIFY" -S -e -s "$W/ops.sec" -m "$W/m" -x "$W/m.sig"
s3_put "$W/m.sig" releases/web/channels/expired
directive "channel=$C/expired"; boot
expect_refused 19 "it expired at 2020-01-01T00:00:00Z" "an expired manifest (signed by signify-openbsd)"

manifest small 1 100 >"$W/m"
"$SIGNIFY" -S -e -s "$W/ops.sec" -m "$W/m" -x "$W/m.sig"
s3_put "$W/m.sig" releases/web/channels/small
directive "channel=$C/small"; boot
[ $RC -eq 10 ] && ok "a bundle larger than its manifest's size is cut off (10)" || fail "size cap: rc $RC"
[ "$(served)" = 1.0 ] && [ -z "$(ls -A "$STATE/tmp" 2>/dev/null)" ] && (cd "$STATE/bundles" && ls -A | sort) |
	cmp -s - "$W/cache.before" && ok "... nothing kept of it" || fail "size cap left traces"

manifest signed 1 "$size2" >"$W/m"
"$SIGNIFY" -S -e -s "$W/ops.sec" -m "$W/m" -x "$W/m.sig"
s3_put "$W/m.sig" releases/web/channels/signed
directive "channel=$C/signed"; boot
[ $RC -eq 0 ] && [ "$(served)" = 2.0 ] && grep -q "signed by trusted key ops.pub" "$W/out" &&
	ok "a manifest signed by signify-openbsd deploys" || fail "signify-signed: rc $RC"
out=$(build promote --channel "$C/prod" --version 1.0 --sign-key "$W/ops.sec" --trusted-keys "$KEYS" 2>&1) &&
	ok "hoist-release signs with a key made by signify-openbsd" || fail "ops.sec: $out"

# replay: prod is at seq 2 now; put seq 1 back
directive "channel=$C/prod"; boot
[ $RC -eq 0 ] && [ "$(served)" = 1.0 ] || fail "prod seq 2: rc $RC"
snapshot
s3_put "$W/prod-seq1" releases/web/channels/prod
boot
expect_refused 19 "its seq 1 is lower than seq 2 already applied on this host" "an older channel manifest replayed"

# --- key rotation: rel (old) and new both trusted, then rel removed ---
build key generate "$W/new" >/dev/null
cp "$W/new.pub" "$KEYS/"
build promote --channel "$C/prod" --version 2.0 --sign-key "$W/new.sec" --trusted-keys "$KEYS" >/dev/null ||
	fail "promote with the new key"
boot
[ $RC -eq 0 ] && [ "$(served)" = 2.0 ] && grep -q "trusted key new.pub" "$W/out" &&
	ok "rotation: the new key's promotion deploys" || fail "rotation new: rc $RC"
build promote --channel "$C/prod" --version 1.0 --sign-key "$W/rel.sec" --trusted-keys "$KEYS" >/dev/null
boot
[ $RC -eq 0 ] && [ "$(served)" = 1.0 ] && ok "rotation: the old key still works while trusted" || fail "rotation old"
rm "$KEYS/rel.pub"
snapshot
build promote --channel "$C/prod" --version 2.0 --sign-key "$W/rel.sec" --trusted-keys "$W" >/dev/null 2>&1
boot
expect_refused 18 "which is not a trusted key" "rotation: the removed key is refused"
build promote --channel "$C/prod" --version 2.0 --sign-key "$W/new.sec" --trusted-keys "$W" >/dev/null 2>&1
boot
[ $RC -eq 0 ] && [ "$(served)" = 2.0 ] && ok "rotation: the new key alone" || fail "rotation new alone: rc $RC"

# --- build side: a passphrase-protected key is refused ---
cp "$HOIST_SOURCE_DIR/tests/unit/fixtures/signify/protected.sec" "$W/protected.sec"
chmod 600 "$W/protected.sec"
out=$(build promote --channel "$C/x" --version 2.0 --sign-key "$W/protected.sec" 2>&1)
[ $? -eq 3 ] && grep -q "protected by a passphrase" <<<"$out" && ok "a passphrase-protected key is refused (3)" ||
	fail "protected key: $out"

# --- the instance role may not write ---
out=$(env AWS_ACCESS_KEY_ID="$BED_ROLE_ACCESS_KEY_ID" AWS_SECRET_ACCESS_KEY="$BED_ROLE_SECRET_ACCESS_KEY" \
	AWS_SESSION_TOKEN="$BED_ROLE_SESSION_TOKEN" AWS_ENDPOINT_URL_S3="$HOIST_TEST_S3_ENDPOINT" AWS_REGION="$BED_REGION" \
	"$REL" promote --channel "$C/prod" --version 1.0 --sign-key "$W/new.sec" --trusted-keys "$W" 2>&1)
[ $? -eq 7 ] && ok "the instance role cannot promote (7)" || fail "instance role promote: $out"

[ $FAILS -eq 0 ] || { echo "$FAILS failure(s)" >&2; exit 1; }
echo "all ok"
