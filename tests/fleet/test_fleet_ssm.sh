#!/usr/bin/env bash
# fleet/ssm/: the Run Command document and the send-command input follow the SSM API's rules;
# a broken copy of each is refused (so the check can fail). The document's script converging a
# real host is part of test_fleet_rollout.sh.
set -uo pipefail
S=$HOIST_SOURCE_DIR/fleet/ssm
C=$HOIST_SOURCE_DIR/tests/fleet/check_ssm.py
T=$(mktemp -d "${TMPDIR:-/tmp}/hoist-ssm.XXXXXX")
trap 'rm -rf -- "$T"' EXIT
fails=0
python3 "$C" "$S" || fails=$((fails + 1))
# each mutation must be caught
mutate() {
	local what=$1 file=$2 expr=$3
	rm -rf "$T/s" && cp -r "$S" "$T/s"
	python3 - "$T/s/$file" "$expr" <<'PY'
import json, sys
p, expr = sys.argv[1], sys.argv[2]
d = json.load(open(p))
exec(expr)
json.dump(d, open(p, "w"))
PY
	if python3 "$C" "$T/s" >"$T/out" 2>&1; then
		echo "FAIL: not caught: $what"
		fails=$((fails + 1))
	else
		echo "ok: caught $what: $(head -1 "$T/out")"
	fi
}
mutate "MaxConcurrency 0" send-command.json 'd["MaxConcurrency"] = "0"'
mutate "MaxConcurrency 150%" send-command.json 'd["MaxConcurrency"] = "150%"'
mutate "MaxErrors 'none'" send-command.json 'd["MaxErrors"] = "none"'
mutate "an unknown parameter" send-command.json 'd["Parameters"]["Mode"] = ["x"]'
mutate "a disallowed Action" send-command.json 'd["Parameters"]["Action"] = ["reboot"]'
mutate "schemaVersion 1.2" hoist-converge.json 'd["schemaVersion"] = "1.2"'
mutate "an undeclared parameter" hoist-converge.json 'd["mainSteps"][0]["inputs"]["runCommand"].append("{{ Nope }}")'
mutate "no hoist-boot" hoist-converge.json 'd["mainSteps"][0]["inputs"]["runCommand"] = ["true"]'
mutate "a default outside its pattern" hoist-converge.json 'd["parameters"]["HoistBoot"]["default"] = "hoist-boot; rm -rf /"'
# the rendered script is valid sh
python3 "$C" "$S" --render Action=status >"$T/script.sh" && sh -n "$T/script.sh" &&
	grep -q "'/usr/sbin/hoist-boot'" "$T/script.sh" && echo "ok: rendered script parses, runs /usr/sbin/hoist-boot" ||
	{ echo "FAIL: rendered script"; fails=$((fails + 1)); }
[ $fails -eq 0 ]
