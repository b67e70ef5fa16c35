# shellcheck shell=bash
# Helpers of the fleet tests and benchmarks: releases of fleetapp, resetting the fleet between
# scenarios, running the playbooks, reading the hosts. Source after fleet_bed.sh.

FLEET_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
FLEET_CHANNEL=${FLEET_CHANNEL:-s3://hoist-releases/fleet/fleetapp/channels/test}
FLEET_FAILS=0

fail() {
	echo "FAIL: $*" >&2
	FLEET_FAILS=$((FLEET_FAILS + 1))
}
ok() { echo "ok: $*"; }

# Publishes fleetapp as release V (bundle fleetapp/V.tgz, with its SHA-256 in FLEET_DIR/releases).
fleet_publish() {
	local v=$1 d=$FLEET_DIR/releases
	mkdir -p "$d/src-$v"
	cp -a "$FLEET_HOME/app/." "$d/src-$v/"
	echo "$v" >"$d/src-$v/site/VERSION"
	tar -C "$d/src-$v" -czf "$d/$v.tgz" .
	sha256sum "$d/$v.tgz" | cut -d' ' -f1 >"$d/$v.sha256"
	bed_publish "$d/$v.tgz" "fleetapp/$v.tgz" >/dev/null
}

# The extra variables every playbook run gets (the bed's programs, probe, records).
fleet_write_vars() {
	cat >"$FLEET_DIR/vars.yml" <<EOV
hoist_boot_bin: $HOIST_BUILD_DIR/agent/hoist-boot
hoist_bin: $HOIST_BUILD_DIR/agent/hoist
hoist_release_bin: ${FLEET_RELEASE_BIN:-$FLEET_HOME/hoist-release-double}
release_args: ["--endpoint", "$HOIST_TEST_S3_ENDPOINT"]
channel: $FLEET_CHANNEL
probe_port: 8080
probe_path: /
probe_retries: ${FLEET_PROBE_RETRIES:-2}
probe_delay_s: ${FLEET_PROBE_DELAY:-0.5}
probe_timeout_s: 2
healthy_for_s: ${FLEET_HEALTHY_FOR:-1}
probe_interval_s: ${FLEET_PROBE_INTERVAL:-0.5}
record_dir: $FLEET_DIR/records
EOV
}

# Puts every host back on release V with nothing else kept, the channel on V, no switch set,
# every sshd up. Runs hoist-boot on all hosts at once, inside their namespaces (no Ansible).
fleet_reset() {
	local v=$1 i h pids=() rc=0
	"$FLEET_HOME/hoist-release-double" promote --channel "$FLEET_CHANNEL" --version "$v" >/dev/null || return 1
	for ((i = 1; i <= FLEET_N; i++)); do
		h=$(fleet_hostdir "$i")
		ip netns exec "$(fleet_ns "$i")" ss -Hltn 'sport = :22' | grep -q LISTEN || fleet_sshd_start "$i"
		fleet_exec "$i" sh -c '
			rm -f /etc/fleetapp/fail-validate /etc/fleetapp/fail-probe
			if [ -f /var/lib/fleetapp/server.pid ]; then
				pid=$(cat /var/lib/fleetapp/server.pid)
				grep -q http.server /proc/$pid/cmdline 2>/dev/null && kill -TERM "$pid"
			fi
			i=0
			while ss -Hltn "sport = :8080" | grep -q LISTEN && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
			find /var/lib/hoist -mindepth 1 -maxdepth 1 ! -name bundles -exec rm -rf {} +
			rm -rf /srv/fleetapp /var/lib/fleetapp
			exec "$1" >"$2/reset.log" 2>&1' reset "$HOIST_BUILD_DIR/agent/hoist-boot" "$h" &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i" || rc=1; done
	[ $rc -eq 0 ] || { _fleet_err "reset to $v failed on a host (see hosts/h*/reset.log)"; return 1; }
	rm -rf "$FLEET_DIR/records"
	mkdir -p "$FLEET_DIR/records/rollouts"
}

# Makes host I fail release V: validate (ValidateService fails) or probe (serves 127.0.0.1 only).
fleet_make_fail() {
	local i=$1 how=$2 v=$3
	fleet_exec "$i" sh -c "echo $v >/etc/fleetapp/fail-$how"
}

# Runs a playbook of fleet/ against the bed: fleet_play PLAYBOOK [ansible-playbook args];
# output in FLEET_DIR/play.log, exit code in PLAY_RC.
fleet_play() {
	local pb=$1
	shift
	(
		fleet_ansible_env
		cd "$FLEET_DIR" && ansible-playbook -i "$FLEET_DIR/inventory.ini" -e "@$FLEET_DIR/vars.yml" \
			"$FLEET_REPO/fleet/$pb" "$@"
	) >"$FLEET_DIR/play.log" 2>&1
	PLAY_RC=$?
}

# The release host I runs: hoist's current record, and what its service answers.
fleet_current() {
	fleet_exec "$1" "$HOIST_BUILD_DIR/agent/hoist" status --json 2>/dev/null |
		"$BED_PYTHON" -S -c 'import json,sys; print(json.load(sys.stdin).get("current"))' 2>/dev/null || echo none
}
fleet_served() {
	curl -sS --max-time 2 "http://$(fleet_addr "$1"):8080/" 2>/dev/null | sed 's/^fleetapp //' || true
}
