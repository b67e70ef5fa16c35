#!/usr/bin/env bash
# The sample application end to end: v1, v2 (v1's ApplicationStop, removed files),
# a failing ValidateService rolled back (13), --no-rollback (14), rollback --to, list, validate.
. "$(dirname "$0")/agent_lib.sh"

# v1 carries one file v2 does not.
s1=$(make_src v1)
echo "only in v1" >"$s1/app/only-v1.txt"
b1=$(make_tgz v1 "$s1")
run_expect 0 hoist deploy --bundle "$b1" --version v1 --application sample --environment test \
	--deployment-group web
[ "$(status_get 's["result"]')" = succeeded ] || fail "v1 status not succeeded"
[ "$(status_get 's["current"] + " " + s["last_good"]')" = "v1 v1" ] || fail "records after v1"
[ "$(status_get '[x["event"] for x in s["steps"]]')" = \
  "['DownloadBundle', 'BeforeInstall', 'Install', 'AfterInstall', 'ApplicationStart', 'ValidateService']" ] ||
	fail "v1 steps: $(status_get '[x["event"] for x in s["steps"]]')"
[ -f "$ROOT/opt/hoist-sample/only-v1.txt" ] || fail "v1 file not installed"
[ "$(stat -c %a "$ROOT/opt/hoist-sample/bin/hello.sh")" = 755 ] || fail "permissions not applied"
page | grep -q "version v1<" || fail "service does not answer v1"
grep -q "BeforeInstall v1 before install (deployment d-" "$ROOT/var/lib/hoist-sample/events.log" ||
	fail "hook environment (DEPLOYMENT_ID, HOIST_VERSION) not seen by the hook"
grep -q "ApplicationStop" "$ROOT/var/lib/hoist-sample/events.log" && fail "ApplicationStop ran on a first deploy"
assert_whole v1
[ -f "$STATE/revisions/v1/bundle.tgz" ] || fail "bundle not kept"
grep -q "ValidateService scripts/validate.sh \[stdout\]: service answers" "$STATE/revisions/v1/deploy.log" ||
	fail "hook output not in the deployment log"

# v2 from a directory bundle: v1's stop script runs, v1-only file goes.
s2=$(make_src v2)
run_expect 0 hoist deploy --bundle "$s2" --version v2
[ ! -e "$ROOT/opt/hoist-sample/only-v1.txt" ] || fail "v1-only file not removed by v2"
grep -q "ApplicationStop v1 stopping" "$ROOT/var/lib/hoist-sample/events.log" || fail "v1's ApplicationStop did not run"
[ "$(status_get '[x["revision"] for x in s["steps"] if x["event"] == "ApplicationStop"][0]')" = v1 ] ||
	fail "ApplicationStop not attributed to v1"
page | grep -q "version v2<" || fail "service does not answer v2"
assert_whole v2

# A bad version: ValidateService fails, v2 comes back, exit 13.
b3=$(make_tgz v3)
run_expect 13 hoist deploy --bundle "$b3" --version v3-bad
grep -q "rolled back to v2" "$WORK/err" || fail "no rollback message"
[ "$(status_get 's["result"]')" = rolled-back ] || fail "status not rolled-back"
[ "$(status_get 's["failed_event"]')" = ValidateService ] || fail "failed event"
[[ "$(status_get 's["output_tail"]')" == *"marked bad"* ]] || fail "output tail missing"
[ "$(status_get 's["rollback"]["result"] + " " + s["rollback"]["version"]')" = "succeeded v2" ] ||
	fail "rollback outcome not in status"
[ "$(status_get 's["exit_code"]')" = 13 ] || fail "exit code in status"
[[ "$(hoist status)" == *"rollback:"* ]] || fail "text status lacks the rollback"
page | grep -q "version v2<" || fail "service does not answer v2 after rollback"
assert_whole v2

# --no-rollback: exit 14, the failed revision stays, no rollback in the status.
run_expect 14 hoist deploy --bundle "$b3" --version v4-bad --no-rollback
[ "$(status_get 's["result"] + " " + str(s["rollback"])')" = "failed None" ] || fail "no-rollback status"
[ ! -e "$STATE/journal" ] || fail "journal left after --no-rollback"

# Manual rollback from the cache; unknown versions exit 16.
run_expect 0 hoist rollback --to v1
page | grep -q "version v1<" || fail "service does not answer v1 after rollback --to"
assert_whole v1
run_expect 16 hoist rollback --to v9
grep -q "revision v9 is not kept" "$WORK/err" || fail "unknown rollback message"
run_expect 0 hoist rollback
[ "$(status_get 's["version"]')" = v2 ] || fail "default rollback target is not v2"
assert_whole v2

# list marks current and last-good.
run_expect 0 hoist list
grep -Eq '^\*\+ v2 ' "$WORK/out" || fail "list does not mark v2"
grep -q " v1 " "$WORK/out" || fail "list lacks v1"
grep -q "v4-bad .* failed" "$WORK/out" || fail "list lacks the failed v4-bad"

# validate: good bundle, good appspec, broken appspec.
run_expect 0 hoist validate "$b1"
grep -q "^ok: appspec.yml: 1 files, 2 permissions, hooks: " "$WORK/out" || fail "validate summary: $(cat "$WORK/out")"
run_expect 0 hoist validate "$SRC/hooks/appspec.yml"
sb=$(make_src bad)
sed -i 's/ApplicationStart:/ApplicationStrat:/' "$sb/appspec.yml"
run_expect 12 hoist validate "$sb"
grep -q "ApplicationStrat" "$WORK/err" || fail "validate error does not name the bad event: $(cat "$WORK/err")"
run_expect 12 hoist deploy --bundle "$sb" --version v5
page | grep -q "version v2<" || fail "a refused bundle disturbed the service"

# Retention from the config file (under the root): keep 2 (v6 current+last-good, newest other: v5).
mkdir -p "$ROOT/etc/hoist"
printf 'keep_revisions = 2\n' >"$ROOT/etc/hoist/hoist.conf"
run_expect 0 hoist deploy --bundle "$b1" --version v6
[ "$(ls "$STATE/revisions" | sort | tr '\n' ' ')" = "v5 v6 " ] ||
	fail "retention kept: $(ls "$STATE/revisions" | tr '\n' ' ')"
rm "$ROOT/etc/hoist/hoist.conf"

run_expect 0 hoist deploy --help
grep -q -- "--bundle FILE|DIR" "$WORK/out" || fail "deploy --help"
run_expect 2 hoist deploy
echo "ok"
