#!/usr/bin/env bash
# fleet/: the playbooks pass Ansible's syntax check, the static inventory example parses into its
# groups and variables, the aws_ec2 example has the keys the plugin needs, and rollout.yml refuses
# bad input before it touches the channel or a host. No fleet, no root.
set -uo pipefail
command -v ansible-playbook >/dev/null || { echo "FAIL: ansible-playbook missing (scripts/setup.sh)"; exit 1; }
F=$HOIST_SOURCE_DIR/fleet
T=$(mktemp -d "${TMPDIR:-/tmp}/hoist-fleet-content.XXXXXX")
trap 'rm -rf -- "$T"' EXIT
export ANSIBLE_HOME=$T/ansible ANSIBLE_LOCAL_TEMP=$T/tmp ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=False
export ANSIBLE_LOCALHOST_WARNING=False ANSIBLE_INVENTORY_UNPARSED_WARNING=False
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

for pb in rollout.yml status.yml; do
	if ansible-playbook --syntax-check -i "$F/inventory/static.ini" "$F/$pb" >"$T/out" 2>&1; then
		ok "$pb: syntax"
	else
		fail "$pb: syntax"; cat "$T/out"
	fi
done

ansible-inventory -i "$F/inventory/static.ini" --list >"$T/inv.json" 2>"$T/err" || { fail "static.ini"; cat "$T/err"; }
python3 - "$T/inv.json" <<'PY' || fails=$((fails + 1))
import json, sys
inv = json.load(open(sys.argv[1]))
hv = inv["_meta"]["hostvars"]
checks = [
    (sorted(inv["env_prod"]["hosts"]) == ["web-1", "web-2", "web-3", "web-4"], "env_prod holds web-1..4"),
    (sorted(inv["app_shop"]["children"]) == ["env_prod", "env_staging"], "app_shop holds both environments"),
    (hv["web-1"]["hoist_channel"] == "s3://acme-releases/shop/channels/prod", "web-1 follows the prod channel"),
    (hv["stage-1"]["hoist_environment"] == "staging", "stage-1 is in staging"),
    (hv["web-3"]["probe_path"] == "/health" and hv["web-3"]["ansible_become"] in (True, "true"), "probe and become set"),
]
bad = 0
for good, what in checks:
    print(("ok: static.ini: " if good else "FAIL: static.ini: ") + what)
    bad += not good
sys.exit(1 if bad else 0)
PY

/usr/bin/python3 - "$F/inventory/aws_ec2.yml" <<'PY' || fails=$((fails + 1))
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
keys = [g["key"] for g in d.get("keyed_groups", [])]
checks = [
    (d.get("plugin") == "amazon.aws.aws_ec2", "plugin amazon.aws.aws_ec2"),
    ("tags.Environment" in keys and "tags.Application" in keys, "groups by the Environment and Application tags"),
    ("hoist_channel" in d.get("compose", {}) and "hoist_environment" in d.get("compose", {}), "composes hoist_channel and hoist_environment"),
    (d.get("filters", {}).get("instance-state-name") == "running", "running instances only"),
    ("community.aws.aws_ssm" in open(sys.argv[1]).read(), "documents the SSM connection"),
]
bad = 0
for good, what in checks:
    print(("ok: aws_ec2.yml: " if good else "FAIL: aws_ec2.yml: ") + what)
    bad += not good
sys.exit(1 if bad else 0)
PY

# Bad input stops the rollout at its first task: hoist-release is never called (a stand-in that
# records any call proves it), no host is contacted (the inventory's hosts do not exist).
printf '#!/bin/sh\necho "$@" >>%s/release.calls\n' "$T" >"$T/hoist-release"
chmod 755 "$T/hoist-release"
printf '[fleet]\nghost ansible_host=192.0.2.254\n' >"$T/inv.ini"
bad_input() {
	local what=$1
	shift
	ansible-playbook -i "$T/inv.ini" "$F/rollout.yml" -e hoist_release_bin="$T/hoist-release" -e record_dir="$T/rec" "$@" >"$T/out" 2>&1
	local rc=$?
	if [ $rc -ne 0 ] && [ ! -e "$T/release.calls" ] && grep -q "Check the input" "$T/out" && ! grep -q "ghost" "$T/out"; then
		ok "refused before any change: $what (exit $rc)"
	else
		fail "not refused cleanly: $what (exit $rc)"; tail -5 "$T/out"
	fi
	rm -f "$T/release.calls"
}
bad_input "no channel" -e version=1.0
bad_input "a channel that is not s3://B/P/APP/channels/ENV" -e channel=s3://b/app/1.0 -e version=1.0
bad_input "both version and from_channel" -e channel=s3://b/p/a/channels/prod -e version=1.0 -e from_channel=s3://b/p/a/channels/staging
bad_input "an unsafe version" -e channel=s3://b/p/a/channels/prod -e 'version=../1'
[ $fails -eq 0 ]
