#!/usr/bin/env bash
# Writes that fail on the host (issue 9, item 12, and 17's full disk): part of the destination on
# a read-only file system, the state directory on a full one. Runs in a mount namespace of its
# own (unshare -m), so the tmpfs mounts it makes are seen by nothing else and go with it.
if [ -z "${HOIST_IN_MOUNT_NS:-}" ]; then
	HOIST_IN_MOUNT_NS=1 exec unshare -m --propagation private bash "$0" "$@"
fi
. "$(dirname "$0")/agent_lib.sh"

# Part of the destination on its own file system: $ROOT/opt/hoist-sample/conf. The small tmpfs
# needs min_free_bytes = 0 (policy.conf) to pass the free-space check.
mount_conf() {
	mkdir -p "$ROOT/opt/hoist-sample/conf" "$ROOT/etc/hoist"
	mount -t tmpfs -o size=1m tmpfs "$ROOT/opt/hoist-sample/conf"
	printf 'min_free_bytes = 0\n' >"$ROOT/etc/hoist/policy.conf"
}

# ro_before_install SRC DIR: SRC's BeforeInstall makes the file system at DIR (under the root)
# read-only, once: the checks before the deployment found it writable, the writes fail anyway.
ro_before_install() {
	touch "$ROOT/ro-once"
	sed -i "s#^\\. \"\$(dirname \"\$0\")/common.sh\"\$#&\\nif [ -e \"\$R/ro-once\" ]; then rm \"\$R/ro-once\"; mount -o remount,ro \"\$R$2\"; fi#" \
		"$1/scripts/before_install.sh"
	grep -q "remount,ro" "$1/scripts/before_install.sh" || fail "could not plant the remount"
}

echo "== part of the destination read-only: the record of what is installed is never dropped"
new_root
mount_conf
run_expect 0 hoist deploy --bundle "$(make_tgz v1)" --version v1
v2=$(make_src v2)
echo "only in v2" >"$v2/app/conf/v2.txt"
ro_before_install "$v2" /opt/hoist-sample/conf
run_expect 14 hoist deploy --bundle "$(make_tgz v2 "$v2")" --version v2
grep -qx "version=v1" "$STATE/installed" || fail "the installed record of v1 was dropped: $(cat "$STATE/installed" 2>/dev/null)"
[ -e "$STATE/journal" ] || fail "the journal went although the host holds no whole revision"
hoist status >"$WORK/status"
grep -q "the host holds no whole revision: files could not be removed" "$WORK/status" ||
	fail "status does not say what is left: $(cat "$WORK/status")"
grep -q "Read-only file system" "$WORK/status" || fail "status does not give the reason: $(cat "$WORK/status")"
grep -q "'hoist recover'" "$WORK/status" || fail "status does not say what to do"
# Still read-only: recover fails the same way and keeps everything.
run_expect 14 hoist recover
grep -qx "version=v1" "$STATE/installed" || fail "recover dropped the installed record"
[ -e "$STATE/journal" ] || fail "recover dropped the journal"
mount -o remount,rw "$ROOT/opt/hoist-sample/conf"
run_expect 0 hoist recover
assert_whole v1
page | grep -q "version v1<" || fail "v1 not running after recovery"
# And the next deployment goes through (the remount was once).
run_expect 0 hoist deploy --bundle "$WORK/v2.tgz" --version v2
assert_whole v2
umount "$ROOT/opt/hoist-sample/conf"

echo "== the new revision's files on a read-only file system: rolled back, one whole revision"
new_root
mkdir -p "$ROOT/opt/hoist-sample/conf/extra" "$ROOT/etc/hoist"
mount -t tmpfs -o size=1m tmpfs "$ROOT/opt/hoist-sample/conf/extra"
printf 'min_free_bytes = 0\n' >"$ROOT/etc/hoist/policy.conf"
run_expect 0 hoist deploy --bundle "$(make_tgz v1)" --version v1
v3=$(make_src v3)
mkdir -p "$v3/app/conf/extra"
echo "new" >"$v3/app/conf/extra/x.txt"
ro_before_install "$v3" /opt/hoist-sample/conf/extra
run_expect 13 hoist deploy --bundle "$(make_tgz v3 "$v3")" --version v3
grep -q "Read-only file system" "$WORK/err" || fail "no reason: $(tail -3 "$WORK/err")"
assert_whole v1
umount "$ROOT/opt/hoist-sample/conf/extra"

echo "== state directory full during extraction: the reason is given"
new_root
mkdir -p "$STATE/tmp"
mount -t tmpfs -o size=256k tmpfs "$STATE/tmp"
big=$(make_src big)
head -c 2000000 /dev/urandom >"$big/app/big.bin"
run_expect 11 hoist deploy --bundle "$(make_tgz big "$big")" --version big
grep -q "No space left on device" "$WORK/err" || fail "no reason for the failed write: $(tail -3 "$WORK/err")"
[ ! -e "$STATE/revisions/big/tree" ] || fail "a tree was kept"
umount "$STATE/tmp"
echo "ok"
