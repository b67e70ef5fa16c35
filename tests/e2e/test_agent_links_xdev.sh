#!/usr/bin/env bash
# The linked install across file systems: with the destination on another file system than
# the state directory (a tmpfs in a mount namespace of this test's own), linkat fails with
# EXDEV and every file is copied; the deployment, its records and a rollback are as usual.
if [ -z "${HOIST_IN_MOUNT_NS:-}" ]; then
	HOIST_IN_MOUNT_NS=1 exec unshare -m --propagation private bash "$0" "$@"
fi
. "$(dirname "$0")/agent_lib.sh"

new_root
mkdir -p "$ROOT/opt"
mount -t tmpfs -o size=128m tmpfs "$ROOT/opt"
trap 'umount "$ROOT/opt" 2>/dev/null || true; cleanup' EXIT
run_expect 0 hoist deploy --bundle "$(make_tgz v1)" --version v1
RM="$ROOT/opt/hoist-sample/README.txt"
T="$STATE/revisions/v1/tree/app/README.txt"
[ "$(stat -c %d "$RM")" != "$(stat -c %d "$T")" ] || fail "the destination is not on another file system"
[ "$(stat -c %h "$T")" = 1 ] || fail "the tree file has another name"
cmp -s "$RM" "$T" || fail "the copy differs from the tree"
grep -q " app/README.txt$" "$STATE/revisions/v1/tree.list" || fail "tree.list does not name the copied file"
assert_whole v1
run_expect 0 hoist deploy --bundle "$(make_tgz v2)" --version v2
assert_whole v2
run_expect 0 hoist rollback --to v1
assert_whole v1
echo ok
