#!/usr/bin/env bash
# A bundle past 4 GiB without 4 GiB of disk: one sparse file of 4,200 MiB (holes, with
# marker bytes across 2^31 and 2^32 and at its end), archived by GNU tar -S (pax sparse).
# hoist unpacks it keeping the holes, installs it (linked: no byte written again),
# records the right size and sha256, rolls back to it from the kept tree, all with flat
# memory (peak RSS within 4 MiB of a tiny deploy's). Skipped when the file system
# cannot hold holes or has less than 1 GiB free.
. "$(dirname "$0")/agent_lib.sh"

avail_kib=$(df -Pk "$WORK" | awk 'NR == 2 {print $4}')
if [ "$avail_kib" -lt 1048576 ]; then echo "SKIP: less than 1 GiB free in $WORK"; exit 0; fi
SIZE=$((4200 * 1024 * 1024))
# peak (KiB): "RC HWM" of a hoist command, its VmHWM sampled from /proc (peakrss.py: getrusage
# of the children never drops below the measuring Python's own RSS, which would hide hoist's)
peak() {
	local r
	r=$(python3 "$SRC/tests/e2e/peakrss.py" hoist /dev/null "$WORK/err" "$@")
	set -- $r
	echo "$1 $3"
}
marks() { # the marker bytes of FILE, read back at their offsets
	for off in $((2147483648 - 3)) $((4294967296 - 2)) $((SIZE - 4)); do
		dd if="$1" bs=1 skip="$off" count=4 status=none
	done
}

big=$WORK/src-big
mkdir -p "$big/data"
cat >"$big/appspec.yml" <<'YML'
version: 0.0
os: linux
files:
  - source: data
    destination: /opt/big
YML
f=$big/data/disk.img
truncate -s "$SIZE" "$f"
printf 'A2^31' | dd of="$f" bs=1 seek=$((2147483648 - 3)) conv=notrunc status=none
printf 'B2^32' | dd of="$f" bs=1 seek=$((4294967296 - 2)) conv=notrunc status=none
printf 'ENDS' | dd of="$f" bs=1 seek=$((SIZE - 4)) conv=notrunc status=none
[ "$(du -k "$f" | cut -f1)" -lt 1024 ] || { echo "SKIP: $WORK keeps no holes"; exit 0; }
want_marks=$(marks "$f")
want_sha=$(openssl dgst -sha256 -r "$f" | cut -d' ' -f1)
tar -S --format=pax -cf "$WORK/big.tar" -C "$big" .
[ "$(stat -c %s "$WORK/big.tar")" -lt $((1024 * 1024)) ] || fail "tar did not store the file sparse"
rm -f "$f"

new_root
mkdir -p "$ROOT/etc/hoist"
printf 'extract_floor_bytes = 5G\n' >"$ROOT/etc/hoist/policy.conf"
# retention counts a tree by its files' sizes, holes included: keep the big one
printf 'keep_bytes = 16G\n' >"$ROOT/etc/hoist/hoist.conf"
read -r rc tiny_rss < <(peak "$H" --root "$ROOT" deploy --bundle "$(make_tgz t1)" --version t1)
[ "$rc" = 0 ] || fail "tiny deploy exited $rc: $(tail -3 "$WORK/err")"

echo "== deploy: 4,200 MiB unpacked sparse, installed linked, sha256 and size right"
read -r rc big_rss < <(peak "$H" --root "$ROOT" deploy --bundle "$WORK/big.tar" --version g1)
[ "$rc" = 0 ] || fail "deploy of the 4,200 MiB bundle exited $rc: $(tail -5 "$WORK/err")"
inst=$ROOT/opt/big/disk.img
tree=$STATE/revisions/g1/tree/data/disk.img
[ "$(stat -c %s "$inst")" = "$SIZE" ] || fail "installed size $(stat -c %s "$inst"), expected $SIZE"
[ "$(stat -c %i "$inst")" = "$(stat -c %i "$tree")" ] || fail "the big file was copied, not linked"
[ "$(du -k "$tree" | cut -f1)" -lt 1024 ] || fail "the tree lost the holes ($(du -k "$tree" | cut -f1) KiB on disk)"
[ "$(marks "$inst")" = "$want_marks" ] || fail "marker bytes differ past 2^31/2^32"
grep -q "^F $want_sha 0644 /opt/big/disk.img$" "$STATE/revisions/g1/installed.list" ||
	fail "installed list: $(cat "$STATE/revisions/g1/installed.list")"
echo "peak RSS: tiny deploy $tiny_rss KiB, 4,200 MiB deploy $big_rss KiB"
[ "$big_rss" -le $((tiny_rss + 4096)) ] || fail "memory grew with the bundle: $big_rss KiB vs $tiny_rss KiB"

echo "== another revision, then rollback to the big one from the kept tree"
run_expect 0 hoist deploy --bundle "$WORK/t1.tgz" --version t2
[ ! -e "$inst" ] || fail "the big file is left after t2 replaced it"
read -r rc rb_rss < <(peak "$H" --root "$ROOT" rollback --to g1)
[ "$rc" = 0 ] || fail "rollback exited $rc: $(tail -5 "$WORK/err")"
[ "$(stat -c %s "$inst")" = "$SIZE" ] || fail "size after rollback"
[ "$(marks "$inst")" = "$want_marks" ] || fail "marker bytes after rollback"
[ "$rb_rss" -le $((tiny_rss + 4096)) ] || fail "rollback memory grew: $rb_rss KiB vs $tiny_rss KiB"
echo "ok (rollback peak RSS $rb_rss KiB)"
