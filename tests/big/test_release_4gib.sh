#!/usr/bin/env bash
# Issue 10: a bundle of 4 GiB + 4097 bytes (an uncompressed tar holding a
# sparse file with marker bytes just past 2^31 and 2^32) is published
# (multipart, 64 MiB parts, per-part checksums), promoted, and deployed by a
# host following the channel; the digest covers every byte (a bundle signed
# only over its first 2 GiB would deploy with changed markers). Label "big":
# registered only with -DHOIST_BIG_TESTS=ON: 13 min on the shared 2-core machine, ~25 GB
# written to disk, moto peaks at ~9 GB of memory (it holds the parts and the object).
set -uo pipefail
# shellcheck source=/dev/null
. "$HOIST_SOURCE_DIR/tests/e2e/release_lib.sh"
# the tail of an output is enough here
fail() { echo "FAIL: $*" >&2; [ -f "$W/out" ] && tail -20 "$W/out" | sed 's/^/    | /' >&2; FAILS=$((FAILS + 1)); }
mkdir -p "$W/src/app"
printf 'max_bundle_bytes = 5G\n' >"$ROOT/etc/hoist/hoist.conf"

G=$((1024 * 1024 * 1024))
big=$W/src/app/big.bin
truncate -s $((4 * G + 4097)) "$big"
printf 'past-2^31' | dd of="$big" bs=1 seek=$((2 * G + 1)) conv=notrunc status=none
printf 'past-2^32' | dd of="$big" bs=1 seek=$((4 * G + 7)) conv=notrunc status=none
printf 'version: 0.0\nos: linux\nfiles:\n  - source: app\n    destination: /opt/big\n' >"$W/src/appspec.yml"
tar -C "$W/src" -cf "$W/big.tar" appspec.yml app
size=$(stat -c %s "$W/big.tar")
sum=$(sha256sum "$W/big.tar" | cut -d' ' -f1)
[ "$size" -gt $((4 * G)) ] && ok "bundle of $size bytes (past 2^32)" || fail "bundle size $size"

build key generate "$W/rel" >/dev/null
cp "$W/rel.pub" "$ROOT/etc/hoist/trusted-keys/"
build publish "$W/big.tar" --to "$U" --app big --version 1 --sign-key "$W/rel.sec" >"$W/out" 2>&1 || fail "publish"
grep -q "sha256=$sum size=$size parts=65$" "$W/out" && ok "published in 65 parts, digest of every byte" ||
	fail "publish output"
build promote --channel "$U/big/channels/prod" --version 1 --sign-key "$W/rel.sec" >/dev/null || fail "promote"
json=$(build channel show "$U/big/channels/prod" --json)
grep -q "\"size\":$size," <<<"$json" && grep -q "\"sha256\":\"$sum\"" <<<"$json" && ok "channel: size and digest" ||
	fail "channel show: $json"

printf '#hoist\napplication=big\nenvironment=prod\nchannel=%s/big/channels/prod\n' "$U" >"$W/ud"
bed_set_user_data "$W/ud"
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN AWS_ENDPOINT_URL_S3="$HOIST_TEST_S3_ENDPOINT" \
	timeout 1500 "$BOOT" --root "$ROOT" --agent "$AGENT" --region "$BED_REGION" >"$W/out" 2>&1
rc=$?
[ $rc -eq 0 ] && ok "deployed" || fail "boot: rc $rc"
inst=$ROOT/opt/big/big.bin
[ "$(stat -c %s "$inst" 2>/dev/null)" = $((4 * G + 4097)) ] && ok "installed file: 4 GiB + 4097 bytes" || fail "installed size"
[ "$(dd if="$inst" bs=1 skip=$((2 * G + 1)) count=9 status=none)" = past-2^31 ] &&
	[ "$(dd if="$inst" bs=1 skip=$((4 * G + 7)) count=9 status=none)" = past-2^32 ] &&
	ok "marker bytes past 2^31 and 2^32 intact" || fail "markers"

[ $FAILS -eq 0 ] || { echo "$FAILS failure(s)" >&2; exit 1; }
echo "all ok"
