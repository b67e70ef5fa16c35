# shellcheck shell=bash
# Helpers of the fleet tests and benchmarks: releases of fleetapp, resetting the fleet between
# scenarios, running the playbooks, reading the hosts. Source after fleet_bed.sh.

FLEET_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
FLEET_FAILS=0
FLEET_REL=$HOIST_BUILD_DIR/agent/hoist-release

fail() {
	echo "FAIL: $*" >&2
	FLEET_FAILS=$((FLEET_FAILS + 1))
}
ok() { echo "ok: $*"; }

# The controller's environment: the bed's build role (may write releases/*), moto, the region.
fleet_controller_env() {
	export AWS_ACCESS_KEY_ID=$BED_BUILD_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$BED_BUILD_SECRET_ACCESS_KEY
	export AWS_SESSION_TOKEN=$BED_BUILD_SESSION_TOKEN AWS_ENDPOINT_URL_S3=$HOIST_TEST_S3_ENDPOINT AWS_REGION=$BED_REGION
	unset AWS_PROFILE
}

# hoist-release as the controller runs it.
fleet_release() {
	(fleet_controller_env && exec "$FLEET_REL" "$@")
}

# The release channel of the fleet, its signing key (trusted by every host), and every host's
# user data following the channel. Call after fleet_up; fleet_trust I for a host added later.
fleet_channel_setup() {
	local i
	FLEET_CHANNEL=s3://$BED_BUCKET/$BED_BUILD_PREFIX/fleetapp/channels/test
	FLEET_KEY=$FLEET_DIR/keys/fleet-release
	export FLEET_CHANNEL FLEET_KEY
	mkdir -p "$FLEET_DIR/keys"
	fleet_release key generate "$FLEET_KEY" >/dev/null || return 1
	printf '#hoist\napplication = fleetapp\nenvironment = test\nchannel = %s\n' "$FLEET_CHANNEL" >"$FLEET_DIR/user-data.channel"
	for ((i = 1; i <= FLEET_N; i++)); do
		fleet_trust "$i" || return 1
	done
}

# Host I trusts the fleet's signing key and follows the channel.
fleet_trust() {
	fleet_exec "$1" sh -c 'mkdir -p /etc/hoist/trusted-keys && cat >/etc/hoist/trusted-keys/fleet-release.pub' \
		<"$FLEET_KEY.pub" || return 1
	fleet_set_user_data "$1" "$FLEET_DIR/user-data.channel"
}

# Publishes release V (signed), as hoist-release bundle + publish do it: fleetapp, or the
# bundle directory SRC.
fleet_publish() {
	local v=$1 src=${2:-} d=$FLEET_DIR/releases
	mkdir -p "$d"
	if [ -z "$src" ]; then
		src=$d/src-$v
		mkdir -p "$src"
		cp -a "$FLEET_HOME/app/." "$src/"
		echo "$v" >"$src/site/VERSION"
	fi
	fleet_release bundle "$src" -o "$d/fleetapp-$v.tgz" >/dev/null || return 1
	fleet_release publish "$d/fleetapp-$v.tgz" --to "s3://$BED_BUCKET/$BED_BUILD_PREFIX" --app fleetapp \
		--version "$v" --sign-key "$FLEET_KEY.sec" >/dev/null
}

# Promotes the channel to release V.
fleet_promote() {
	fleet_release promote --channel "$FLEET_CHANNEL" --version "$1" --sign-key "$FLEET_KEY.sec" >/dev/null
}

# The extra variables every playbook run gets (the bed's programs, probe, records).
fleet_write_vars() {
	cat >"$FLEET_DIR/vars.yml" <<EOV
hoist_boot_bin: $HOIST_BUILD_DIR/agent/hoist-boot
hoist_bin: $HOIST_BUILD_DIR/agent/hoist
hoist_release_bin: $FLEET_REL
release_args: ["--endpoint", "$HOIST_TEST_S3_ENDPOINT"]
sign_key: $FLEET_KEY.sec
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
	fleet_promote "$v" || return 1
	for ((i = 1; i <= FLEET_N; i++)); do
		h=$(fleet_hostdir "$i")
		ip netns exec "$(fleet_ns "$i")" ss -Hltn 'sport = :22' | grep -q LISTEN || fleet_sshd_start "$i"
		fleet_exec "$i" sh -c '
			rm -f /etc/fleetapp/fail-validate /etc/fleetapp/fail-probe /etc/fleetapp/fail-later
			if [ -f /var/lib/fleetapp/server.pid ]; then
				pid=$(cat /var/lib/fleetapp/server.pid)
				grep -q server.py /proc/$pid/cmdline 2>/dev/null && kill -TERM "$pid"
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

# Makes host I fail release V: validate (ValidateService fails), probe (serves 127.0.0.1 only) or
# later (answers the controller's first probe, then 503).
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
		fleet_controller_env
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

# What host I went through in the last rollout, as TAG:
#   kept   runs V2 (took the release and kept it)
#   rb     took V2, then `hoist rollback` put it back on V1
#   self   V2 failed on the host and hoist rolled it back itself
#   none   never got V2 (not started, or unreachable)
# expect_host I TAG V1 V2: checks hoist's current record, the served version, the kept revisions
# and the kind of the last deployment.
expect_host() {
	local i=$1 tag=$2 v1=$3 v2=$4 want kind cur served has2 res
	case $tag in kept) want=$v2 ;; *) want=$v1 ;; esac
	cur=$(fleet_current "$i")
	served=$(fleet_served "$i")
	read -r kind res < <(fleet_exec "$i" "$HOIST_BUILD_DIR/agent/hoist" status --json 2>/dev/null |
		"$BED_PYTHON" -S -c 'import json,sys; d=json.load(sys.stdin); print(d.get("kind"), d.get("version") + "/" + d.get("result"))')
	has2=$(fleet_exec "$i" sh -c "test -d /var/lib/hoist/revisions/$v2 && echo yes || echo no")
	local exp_kind exp_res exp_has2
	case $tag in
	kept) exp_kind=deploy exp_res=$v2/succeeded exp_has2=yes ;;
	rb) exp_kind=rollback exp_res=$v1/succeeded exp_has2=yes ;;
	self) exp_kind=deploy exp_res=$v2/rolled-back exp_has2=yes ;;
	none) exp_kind=deploy exp_res=$v1/succeeded exp_has2=no ;;
	esac
	if [ "$cur" = "$want" ] && [ "$served" = "$want" ] && [ "$kind" = "$exp_kind" ] &&
		[ "$res" = "$exp_res" ] && [ "$has2" = "$exp_has2" ]; then
		ok "h$i $tag: on $cur, serves $served, last $kind $res, $v2 kept: $has2"
	else
		fail "h$i want $tag (on $want, last $exp_kind $exp_res, $v2 kept: $exp_has2); got on $cur, serves '$served', last $kind $res, $v2 kept: $has2"
	fi
}

# The channel's release now.
fleet_channel_version() {
	fleet_release channel show "$FLEET_CHANNEL" --json | "$BED_PYTHON" -S -c 'import json,sys; print(json.load(sys.stdin)["version"])'
}

# A field of rollout record ID: fleet_record ID PYTHON-EXPRESSION-ON-r
fleet_record() {
	"$BED_PYTHON" -S -c 'import json,sys; r=json.load(open(sys.argv[1])); v=eval(sys.argv[2]); print(" ".join(map(str, v)) if isinstance(v, list) else v)' \
		"$FLEET_DIR/records/rollouts/$1.json" "$2"
}

# Headless Chromium: renders FILE, writes its DOM to OUT.dom.html (and a screenshot to PNG if given).
fleet_browser() {
	local file=$1 out=$2 png=${3:-} prof
	prof=$(mktemp -d "$FLEET_DIR/chromium.XXXXXX")
	local flags=(--headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update
		--disable-sync --no-first-run --user-data-dir="$prof" --window-size=1400,1800)
	timeout 60 chromium "${flags[@]}" --dump-dom "file://$file" >"$out.dom.html" 2>"$out.chromium.log"
	local rc=$?
	if [ $rc -eq 0 ] && [ -n "$png" ]; then
		timeout 60 chromium "${flags[@]}" --screenshot="$png" "file://$file" >>"$out.chromium.log" 2>&1
		rc=$?
	fi
	rm -rf -- "$prof"
	return $rc
}
