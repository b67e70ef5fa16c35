#!/usr/bin/env bash
# The linked install (install_links, default true): a file that no permissions rule
# reaches is installed as a hard link to the kept tree (each byte unpacked once, never
# copied); undo leaves the tree whole; a tree changed in place through an installed
# file is unpacked again from the kept bundle before it is installed again (rollback,
# redeploy); a kill -9 in the middle of a linked Install recovers to one whole revision
# and leaves no tree file shared with the host; install_links = false copies.
. "$(dirname "$0")/agent_lib.sh"

ino() { stat -c %i "$1"; }
links() { stat -c %h "$1"; }
RM="$ROOT/opt/hoist-sample/README.txt"

echo "== a first deploy links the files no rule reaches, copies the others"
new_root
v1=$(make_src v1); echo "v1 readme" >"$v1/app/README.txt"
run_expect 0 hoist deploy --bundle "$(make_tgz v1 "$v1")" --version v1
T1="$STATE/revisions/v1/tree"
[ "$(ino "$RM")" = "$(ino "$T1/app/README.txt")" ] || fail "README.txt was not linked to the tree"
[ "$(ino "$ROOT/opt/hoist-sample/conf/message.txt")" != "$(ino "$T1/app/conf/message.txt")" ] ||
	fail "a file a permissions rule reaches was linked"
grep -q " app/README.txt$" "$STATE/revisions/v1/tree.list" || fail "tree.list does not name README.txt"
grep -q "^$(sha256sum "$T1/app/conf/message.txt" | cut -d' ' -f1) app/conf/message.txt$" "$STATE/revisions/v1/tree.list" ||
	fail "tree.list does not name the copied message.txt with its sha256"
assert_whole v1

echo "== the next revision unlinks the previous one: its tree keeps one name per file"
v2=$(make_src v2); echo "v2 readme" >"$v2/app/README.txt"
run_expect 0 hoist deploy --bundle "$(make_tgz v2 "$v2")" --version v2
assert_whole v2
[ "$(links "$T1/app/README.txt")" = 1 ] || fail "v1's tree file still shared after v2 replaced it"
[ "$(cat "$T1/app/README.txt")" = "v1 readme" ] || fail "v1's tree changed"

echo "== an in-place change through the installed file: the tree is unpacked again before reuse"
echo "appended by the application" >>"$RM"
[ "$(tail -1 "$STATE/revisions/v2/tree/app/README.txt")" = "appended by the application" ] ||
	fail "expected the in-place change to reach the linked tree file"
run_expect 0 hoist deploy --bundle "$(make_tgz v3)" --version v3
run_expect 0 hoist rollback --to v2
grep -q "differs from what it installed (app/README.txt" "$WORK/err" || fail "the changed tree was not noticed: $(tail -5 "$WORK/err")"
[ "$(cat "$RM")" = "v2 readme" ] || fail "rollback installed the changed file: $(cat "$RM")"
assert_whole v2
[ "$(ino "$RM")" = "$(ino "$STATE/revisions/v2/tree/app/README.txt")" ] || fail "the restaged tree was not linked"
[ -z "$(ls "$STATE/tmp" 2>/dev/null | grep '^stage-' || true)" ] || fail "a staging directory was left"

echo "== an unchanged tree is reused as it is"
run_expect 0 hoist deploy --bundle "$(make_tgz v4)" --version v4
run_expect 0 hoist rollback --to v2
! grep -q "differs from what it installed" "$WORK/err" || fail "an unchanged tree was unpacked again"
assert_whole v2

echo "== kill -9 in the middle of a linked Install"
new_root
run_expect 0 hoist deploy --bundle "$(make_tgz v1 "$v1")" --version v1
big=$(make_src big)
mkdir -p "$big/app/many"
for i in $(seq 1 2500); do echo "file $i" >"$big/app/many/f$i.txt"; done
bb=$(make_tgz big "$big")
"$H" --root "$ROOT" deploy --bundle "$bb" --version big >"$WORK/out" 2>"$WORK/err" &
agent=$!
PIDS+=("$agent")
for _ in $(seq 1 3000); do
	if [ "$(ls "$ROOT/opt/hoist-sample/many" 2>/dev/null | wc -l)" -gt 100 ]; then break; fi
	sleep 0.01
done
kill -9 "$agent" 2>/dev/null || true
wait "$agent" 2>/dev/null || true
if [ -d "$ROOT/opt/hoist-sample/many" ]; then
	f=$(find "$ROOT/opt/hoist-sample/many" -type f -name 'f*.txt' -print -quit 2>/dev/null || true)
	[ -z "$f" ] || [ "$(links "$f")" = 2 ] || fail "a half-installed file was not linked"
fi
run_expect 0 hoist recover
assert_whole v1
[ -z "$(find "$STATE/revisions/big/tree" -type f -links +1 -print -quit)" ] ||
	fail "files of the interrupted revision's tree are still shared with the host"
[ "$(ino "$RM")" = "$(ino "$STATE/revisions/v1/tree/app/README.txt")" ] || fail "v1 not linked after recovery"

echo "== install_links = false copies every file"
new_root
printf 'install_links = false\n' >"$WORK/nolinks.conf"
run_expect 0 "$H" --config "$WORK/nolinks.conf" --root "$ROOT" deploy --bundle "$(make_tgz v1 "$v1")" --version v1
[ "$(ino "$RM")" != "$(ino "$STATE/revisions/v1/tree/app/README.txt")" ] || fail "linked with install_links = false"
grep -q " app/README.txt$" "$STATE/revisions/v1/tree.list" || fail "tree.list not written without links"
assert_whole v1

echo "== a copied file of the kept tree changed (a hook, a power loss): unpacked again too"
run_expect 0 "$H" --config "$WORK/nolinks.conf" --root "$ROOT" deploy --bundle "$(make_tgz v2 "$v2")" --version v2
: >"$STATE/revisions/v1/tree/app/README.txt" # what a power loss may leave of an unsynced file
run_expect 0 "$H" --config "$WORK/nolinks.conf" --root "$ROOT" rollback --to v1
grep -q "differs from what it installed (app/README.txt" "$WORK/err" || fail "the cut tree file was not noticed"
[ "$(cat "$RM")" = "v1 readme" ] || fail "rollback installed the cut file"
assert_whole v1
echo "ok"
