#!/usr/bin/env bash
# A DISALLOW conflict with a foreign file is refused before anything changes;
# a second caller while the lock is held gets exit 15.
. "$(dirname "$0")/agent_lib.sh"

# Nothing deployed yet: rollback has no target (16), status and list say so.
run_expect 16 hoist rollback
grep -q "no earlier good revision is kept" "$WORK/err" || fail "rollback on an empty host: $(cat "$WORK/err")"
run_expect 0 hoist status --json
grep -q '"result": "none"' "$WORK/out" || fail "status on an empty host"
run_expect 0 hoist list
grep -q "^0 revision(s)" "$WORK/out" || fail "list on an empty host"

b1=$(make_tgz v1)
run_expect 0 hoist deploy --bundle "$b1" --version v1
page | grep -q "version v1<" || fail "service does not answer v1"

# v2 adds conf/new.conf under DISALLOW; a foreign file already sits there.
s2=$(make_src v2)
sed -i 's/^file_exists_behavior: OVERWRITE/file_exists_behavior: DISALLOW/' "$s2/appspec.yml"
grep -q DISALLOW "$s2/appspec.yml" || fail "could not switch the sample to DISALLOW"
echo "new in v2" >"$s2/app/conf/new.conf"
echo "v2 readme" >"$s2/app/README.txt"
echo "foreign" >"$ROOT/opt/hoist-sample/conf/new.conf"
b2=$(make_tgz v2 "$s2")

snapshot() {
	(cd "$ROOT" && find opt var/lib/hoist-sample -printf '%p %y %m %s %T@\n' | sort &&
		find opt -type f -exec sha256sum {} + | sort) >"$1"
	cp "$STATE/current" "$1.current"
}
snapshot "$WORK/before"
code=0
hoist deploy --bundle "$b2" --version v2 >"$WORK/out" 2>"$WORK/err" || code=$?
[ "$code" -ne 0 ] || fail "a DISALLOW conflict was deployed"
[ "$code" -ne 13 ] || fail "a refused deployment claims a rollback"
grep -q "conf/new.conf" "$WORK/err" || fail "the conflict message does not name the file: $(tail -3 "$WORK/err")"
snapshot "$WORK/after"
diff -u "$WORK/before" "$WORK/after" >&2 || fail "the refused deployment changed the host"
cmp -s "$WORK/before.current" "$WORK/after.current" || fail "current record changed"
[ "$(cat "$ROOT/opt/hoist-sample/conf/new.conf")" = foreign ] || fail "foreign file touched"
[ ! -e "$STATE/journal" ] || fail "journal left by a refused deployment"
[ "$(status_get 's["result"]')" = failed ] || fail "status of the refused deployment"
page | grep -q "version v1<" || fail "service disturbed by the refused deployment"
rm "$ROOT/opt/hoist-sample/conf/new.conf"
assert_whole v1

# Busy: another process holds the lock (util-linux flock).
# The subshell takes the lock on fd 9 and becomes sleep, so its pid holds the lock alone.
(
	exec 9>>"$STATE/lock"
	flock 9
	exec sleep 30
) &
PIDS+=($!)
for _ in $(seq 50); do
	flock -n "$STATE/lock" true 2>/dev/null || break
	sleep 0.1
done
run_expect 15 hoist deploy --bundle "$b1" --version v1
grep -q "another deployment is in progress" "$WORK/err" || fail "busy message: $(cat "$WORK/err")"
run_expect 15 hoist rollback
run_expect 15 hoist recover
# Read-only commands do not need the lock.
run_expect 0 hoist status
run_expect 0 hoist list
kill "${PIDS[0]}"
wait "${PIDS[0]}" 2>/dev/null || true
run_expect 0 hoist recover
grep -q "nothing to recover" "$WORK/out" || fail "recover without a journal"
echo "ok"
