#!/usr/bin/env bash
# A power loss keeps only what was synced. The journal syncs two "begin" lines (the
# first step's and Install's); later lines (end Install, begin AfterInstall, ...,
# begin ValidateService) wait for the next sync. Here the agent dies in ValidateService
# and the journal is cut back to its last synced line, as a power loss may leave it:
# recovery must still leave exactly one whole revision (the last good one), and say
# Install was the last step begun.
. "$(dirname "$0")/agent_lib.sh"

new_root
run_expect 0 hoist deploy --bundle "$(make_tgz v1)" --version v1
d=$(make_src v2)
echo "only in v2" >"$d/app/only-v2.txt"
sed -i "s#^\\. \"\$(dirname \"\$0\")/common.sh\"\$#&\\nkill -9 \$PPID; exit 1#" "$d/scripts/validate.sh"
grep -q 'kill -9 \$PPID' "$d/scripts/validate.sh" || fail "could not plant the kill in validate.sh"
run_expect 137 hoist deploy --bundle "$(make_tgz v2 "$d")" --version v2
J="$STATE/journal"
[ -e "$J" ] || fail "no journal after the kill"
grep -q '^begin ValidateService ' "$J" || fail "the kill did not happen in ValidateService: $(cat "$J")"
grep -q '^end Install ok ' "$J" || fail "Install did not end before the kill"
# What a power loss may keep: everything up to the last synced begin line (Install's).
sed -i '/^begin Install /q' "$J"
[ "$(tail -1 "$J" | cut -d' ' -f1-2)" = "begin Install" ] || fail "could not cut the journal: $(cat "$J")"
[ -e "$ROOT/opt/hoist-sample/only-v2.txt" ] || fail "v2 was not installed before the kill"
run_expect 0 hoist recover
grep -q "last step begun: Install" "$WORK/err" || fail "recover did not name Install: $(tail -3 "$WORK/err")"
assert_whole v1
[ ! -e "$ROOT/opt/hoist-sample/only-v2.txt" ] || fail "a v2 file is left"
page | grep -q "version v1<" || fail "v1 service not running after recovery"

echo "== the first begin line alone (power loss during the first step)"
run_expect 137 hoist deploy --bundle "$(make_tgz v2 "$d")" --version v2
sed -i '/^begin /q' "$J"
[ "$(grep -c '^begin ' "$J")" = 1 ] || fail "could not cut the journal to its first begin"
run_expect 0 hoist recover
assert_whole v1
echo ok
