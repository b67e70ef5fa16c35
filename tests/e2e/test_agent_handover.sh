#!/usr/bin/env bash
# The stub's hand-over options (--sha256, --bundle-*), the hook environment as a
# script sees it, and a failing ApplicationStop with and without --ignore-stop-failures.
. "$(dirname "$0")/agent_lib.sh"

# v1: BeforeInstall also dumps its environment; ApplicationStop stops the service, then fails.
s1=$(make_src v1)
cat >"$s1/scripts/dump_env.sh" <<'SH'
#!/bin/sh
env | sort >"$HOIST_ROOT/env-$LIFECYCLE_EVENT"
SH
chmod 755 "$s1/scripts/dump_env.sh"
sed -i 's#^  BeforeInstall:$#&\n    - location: scripts/dump_env.sh#' "$s1/appspec.yml"
printf '\necho "stop script fails on purpose" >&2\nexit 3\n' >>"$s1/scripts/stop.sh"
b1=$(make_tgz v1 "$s1")
sum=$(sha256sum "$b1" | cut -d' ' -f1)

# A wrong digest is refused before anything happens.
run_expect 9 hoist deploy --bundle "$b1" --version v1 --sha256 "$(printf '0%.0s' $(seq 64))"
grep -q "does not have the expected sha256" "$WORK/err" || fail "digest message: $(cat "$WORK/err")"
[ ! -e "$STATE/revisions/v1" ] && [ ! -e "$ROOT/opt" ] || fail "a bundle with a wrong digest left traces"

AWS_SECRET_ACCESS_KEY=sekrit HOME=/nonexistent run_expect 0 "$H" --root "$ROOT" deploy --bundle "$b1" --version v1 \
	--sha256 "$sum" --bundle-bucket bkt --bundle-key apps/v1.tgz --bundle-etag '"e1"' \
	--application shop --deployment-group web --environment prod
env_file="$ROOT/env-BeforeInstall"
[ -f "$env_file" ] || fail "hook environment not dumped"
for kv in LIFECYCLE_EVENT=BeforeInstall APPLICATION_NAME=shop DEPLOYMENT_GROUP_NAME=web DEPLOYMENT_GROUP_ID=web \
	BUNDLE_BUCKET=bkt BUNDLE_KEY=apps/v1.tgz 'BUNDLE_ETAG="e1"' BUNDLE_VERSION=v1 HOIST_VERSION=v1 \
	HOIST_ENVIRONMENT=prod "HOIST_ROOT=$ROOT" "HOIST_REVISION_DIR=$STATE/revisions/v1/tree" LANG=C.UTF-8 \
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; do
	grep -qxF "$kv" "$env_file" || fail "hook environment lacks $kv"
done
grep -q '^DEPLOYMENT_ID=d-[A-Z0-9]\{9\}$' "$env_file" || fail "DEPLOYMENT_ID"
grep -q "sekrit\|AWS_" "$env_file" && fail "the agent's environment leaked into a hook"
grep -q '^HOME=/nonexistent' "$env_file" && fail "HOME not taken from the runas user"
[ "$(status_get 's["application"] + " " + s["deployment_group"] + " " + s["environment"]')" = "shop web prod" ] ||
	fail "names in the status"
grep -qx "sha256=$sum" "$STATE/current" || fail "current record lacks the sha256"

# v2: v1's ApplicationStop fails -> the deployment fails and v1 is redeployed (13).
b2=$(make_tgz v2)
run_expect 13 hoist deploy --bundle "$b2" --version v2
[ "$(status_get 's["failed_event"] + " " + s["steps"][-1]["revision"]')" = "ApplicationStop v1" ] ||
	fail "the failing ApplicationStop is not reported"
[[ "$(status_get 's["output_tail"]')" == *"stop script fails on purpose"* ]] || fail "stop output tail"
[ "$(status_get '[x["result"] for x in s["rollback"]["steps"] if x["event"] == "ApplicationStop"][0]')" = ignored ] ||
	fail "the rollback did not ignore the failing stop script"
page | grep -q "version v1<" || fail "v1 not serving after the failed v2"

# The operator lets it pass.
run_expect 0 hoist deploy --bundle "$b2" --version v2 --ignore-stop-failures
[ "$(status_get '[x["result"] for x in s["steps"] if x["event"] == "ApplicationStop"][0]')" = ignored ] ||
	fail "ApplicationStop not marked ignored"
page | grep -q "version v2<" || fail "v2 not serving"
assert_whole v2

# Redeploying a version in use with other content is refused; the same bundle is reused.
run_expect 2 hoist deploy --bundle "$b1" --version v2
grep -q "version v2 is kept and in use" "$WORK/err" || fail "immutable version message"
run_expect 0 hoist deploy --bundle "$b2" --version v2
grep -q "redeploying it from the cache" "$WORK/err" || fail "same bundle not reused"
assert_whole v2
echo "ok"
