#!/usr/bin/env bash
# What the state directory says after refusals and interruptions (issue 9, items 10, 13-15):
# a refused deployment keeps only its record; an interrupted one reads "interrupted" (never
# "in-progress" or "succeeded") and is never a rollback target; temporary files a kill left
# beside the records are removed by the next run.
. "$(dirname "$0")/agent_lib.sh"

# kill_src NAME: a sample bundle whose AfterInstall kills the agent (kill -9 of its parent).
kill_src() {
	local d
	d=$(make_src "$1")
	sed -i "s#^\\. \"\$(dirname \"\$0\")/common.sh\"\$#&\\nkill -9 \$PPID; exit 1#" "$d/scripts/after_install.sh"
	grep -q 'kill -9 \$PPID' "$d/scripts/after_install.sh" || fail "could not plant the kill"
	echo "$d"
}

echo "== a refused deployment leaves only its record"
new_root
run_expect 0 hoist deploy --bundle "$(make_tgz v1)" --version v1
bad=$(make_src bad)
sed -i 's/^version: 0.0/version: 9.9/' "$bad/appspec.yml"
run_expect 12 hoist deploy --bundle "$(make_tgz bad "$bad")" --version bad
[ -f "$STATE/revisions/bad/meta" ] || fail "the refused deployment has no record"
grep -qx "result=failed" "$STATE/revisions/bad/meta" || fail "meta of the refused deployment: $(cat "$STATE/revisions/bad/meta")"
[ ! -e "$STATE/revisions/bad/tree" ] || fail "the refused deployment's tree is still kept"
[ -z "$(find "$STATE/revisions/bad" -name 'bundle*')" ] || fail "the refused deployment's bundle is still kept"
assert_whole v1
# A kept revision in use that is redeployed and refused keeps its tree (it is what is installed).
run_expect 0 hoist deploy --bundle "$WORK/v1.tgz" --version v1
[ -d "$STATE/revisions/v1/tree" ] || fail "v1's tree went"

echo "== an interrupted deployment reads interrupted, not in-progress"
new_root
run_expect 0 hoist deploy --bundle "$(make_tgz v1)" --version v1
run_expect 137 hoist deploy --bundle "$(make_tgz v2 "$(kill_src v2)")" --version v2
grep -qx "result=in-progress" "$STATE/revisions/v2/meta" || fail "before recovery: $(cat "$STATE/revisions/v2/meta")"
run_expect 0 hoist recover
grep -qx "result=interrupted" "$STATE/revisions/v2/meta" || fail "after recovery: $(grep result "$STATE/revisions/v2/meta")"
hoist list >"$WORK/list"
grep -E '^ +v2 .* interrupted$' "$WORK/list" >/dev/null || fail "list: $(cat "$WORK/list")"
assert_whole v1

echo "== killed while its bundle was unpacked (no journal yet): interrupted, only its record kept"
new_root
run_expect 0 hoist deploy --bundle "$(make_tgz v1)" --version v1
# The state such a kill leaves: meta in-progress, a kept bundle, a tree, no journal.
mkdir -p "$STATE/revisions/v2"
cp -a "$STATE/revisions/v1/tree" "$STATE/revisions/v2/tree"
cp "$WORK/v1.tgz" "$STATE/revisions/v2/bundle.tgz"
printf 'version=v2\nbundle=bundle.tgz\nresult=in-progress\n' >"$STATE/revisions/v2/meta"
# The same for v1 itself, being redeployed: it is current and last good, so it succeeded.
sed -i 's/^result=.*/result=in-progress/' "$STATE/revisions/v1/meta"
run_expect 0 hoist recover
grep -qx "result=interrupted" "$STATE/revisions/v2/meta" || fail "v2: $(grep result "$STATE/revisions/v2/meta")"
[ ! -e "$STATE/revisions/v2/tree" ] && [ ! -e "$STATE/revisions/v2/bundle.tgz" ] || fail "the interrupted staging kept its tree"
grep -qx "result=succeeded" "$STATE/revisions/v1/meta" || fail "v1: $(grep result "$STATE/revisions/v1/meta")"
[ "$(status_get 's["result"]')" = interrupted ] || fail "status after the interrupted staging: $(status_get 's["result"]')"
assert_whole v1

echo "== killed after its meta said succeeded, before last-good: not a rollback target"
new_root
run_expect 0 hoist deploy --bundle "$(make_tgz v1)" --version v1
run_expect 137 hoist deploy --bundle "$(make_tgz v2 "$(kill_src v2)")" --version v2
# The state of a kill between the write of revisions/v2/meta (succeeded) and of last-good.
id=$(sed -n 's/^id //p' "$STATE/journal")
sed -i -e "s/^result=.*/result=succeeded/" -e "s/^deployment_id=.*/deployment_id=$id/" "$STATE/revisions/v2/meta"
run_expect 0 hoist recover
assert_whole v1
grep -qx "result=interrupted" "$STATE/revisions/v2/meta" || fail "v2 still reads $(grep result "$STATE/revisions/v2/meta")"
run_expect 16 hoist rollback
assert_whole v1

echo "== temporary files left by a kill are removed by the next run"
new_root
run_expect 0 hoist deploy --bundle "$(make_tgz v1)" --version v1
for f in current.tmp.4242 status.json.tmp.77 revisions/v1/meta.tmp.9 revisions/v1/installed.list.new; do
	echo torn >"$STATE/$f"
done
# Names that only look alike stay.
echo keep >"$STATE/revisions/v1/notes.tmp.x"
run_expect 0 hoist recover
left=$(cd "$STATE" && find . -name '*.tmp.[0-9]*' -o -name 'installed.list.new')
[ -z "$left" ] || fail "temporary files left: $left"
[ -f "$STATE/revisions/v1/notes.tmp.x" ] || fail "a file that is not a temporary one was removed"
assert_whole v1

echo "== damaged state: precise messages that say what to do, status --json always JSON"
new_root
run_expect 0 hoist deploy --bundle "$(make_tgz v1)" --version v1
head -c 4096 /dev/urandom | tr -d '\n' >"$STATE/journal"
run_expect 11 hoist recover
grep -q "not a hoist journal" "$WORK/err" || fail "random journal: $(cat "$WORK/err")"
grep -q "move it aside" "$WORK/err" || fail "a damaged journal does not say what to do: $(cat "$WORK/err")"
printf 'hoist-journal 1\nid d-X\nkind deploy\nversion ../../etc\ninstalled -\nlast_good -\nbegin Install 1\n' >"$STATE/journal"
run_expect 11 hoist recover
grep -q "journal line 'version' names version '../../etc', which is not a version name" "$WORK/err" ||
	fail "a path in the journal: $(cat "$WORK/err")"
rm "$STATE/journal"
cp "$STATE/installed" "$WORK/installed.good"
printf 'garbage\001\n' >"$STATE/installed"
run_expect 11 hoist list
grep -q "installed: line 1: expected key=value; the record is damaged" "$WORK/err" ||
	fail "list with a damaged installed record: $(cat "$WORK/err")"
printf 'version=../../etc\n' >"$STATE/installed"
run_expect 11 hoist list
grep -q "names version '../../etc'" "$WORK/err" || fail "a path in the installed record: $(cat "$WORK/err")"
cp "$WORK/installed.good" "$STATE/installed"
# Control bytes and bytes that are not UTF-8 in the status files.
printf 'deployment \033[2J\001 (deploy) \377\n' >"$STATE/status.txt"
hoist status >"$WORK/out"
grep -q 'deployment \\x1b\[2J\\x01 (deploy)' "$WORK/out" || fail "status printed control bytes raw: $(od -c "$WORK/out" | head -3)"
printf '{"deployment_id": "\001", \n' >"$STATE/status.json"
run_expect 11 hoist status --json
python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$WORK/out" || fail "status --json is not JSON: $(cat "$WORK/out")"
grep -q "status.json is damaged (not JSON from byte" "$WORK/err" || fail "no message for a damaged status.json"
run_expect 0 hoist deploy --bundle "$WORK/v1.tgz" --version v1
status_get 's["result"]' >/dev/null || fail "status.json not rewritten by the next deployment"
echo "ok"
