# shellcheck shell=bash
# The simulated fleet for hoist's Ansible content (tests/fleet, bench/fleet-*.sh).
#
# Each host is a network namespace on a bridge of its own with:
#   - its own mount namespace, held by a `sleep` process: overlays on /etc, /var/lib, /srv and /run,
#     so /etc/hoist, /var/lib/hoist and the application's destination are the host's own at their
#     real paths (nothing changes in the root namespace);
#   - its own sshd (real SSH, the transport Ansible uses in production), root by key only;
#   - its own IMDSv2 emulator (tests/bed/imds_emulator.py) at 169.254.169.254:80, with its own
#     instance id and user data, serving the bed role's credentials.
# S3 is the bed's moto, bound to the bridge address. Names (bridge, namespaces, veths) and the
# subnet are unique to the run; fleet_down removes everything it made, by name and pid.
#
#   source tests/fleet/fleet_bed.sh
#   fleet_up N          # bed_start + N hosts; installs the EXIT trap (fleet_down; bed_stop)
#   fleet_exec I CMD..  # CMD inside host I (its network and mount namespaces)
#   fleet_down
#
# Needs root, iproute2, util-linux (unshare, nsenter), openssh-server, overlayfs.

FLEET_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FLEET_SRC=$(cd "$FLEET_HOME/../.." && pwd)
FLEET_WAIT=${FLEET_WAIT:-20}
FLEET_N=${FLEET_N:-0}
FLEET_PIDS=""

_fleet_err() {
	echo "fleet: $*" >&2
	return 1
}

# A /24 in 10.0.0.0/8 that no route of the machine touches; sets FLEET_NET (a.b.c).
_fleet_pick_subnet() {
	local i a b
	for ((i = 0; i < 50; i++)); do
		a=$((200 + RANDOM % 50))
		b=$((RANDOM % 250))
		if ! ip -4 route show | grep -q "^10\.$a\.$b\." && ! ip -4 addr show | grep -q "inet 10\.$a\.$b\."; then
			FLEET_NET="10.$a.$b"
			return 0
		fi
	done
	_fleet_err "no free 10.x.y.0/24 subnet found"
}

# Waits (bounded) until CMD succeeds: _fleet_wait WHAT CMD...
_fleet_wait() {
	local what=$1 i
	shift
	for ((i = 0; i < FLEET_WAIT * 20; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	_fleet_err "timed out after ${FLEET_WAIT}s waiting for $what"
}

fleet_ns() { echo "${FLEET_ID}h$1"; }
fleet_addr() { echo "$FLEET_NET.$((10 + $1))"; }
fleet_hostdir() { echo "$FLEET_DIR/hosts/h$1"; }
fleet_instance_id() { printf 'i-0f1ee7%011x\n' "$1"; }

# Runs CMD inside host I: its network and mount namespaces, with an environment as clean as
# an SSH session's (none of the bed's endpoints or keys).
fleet_exec() {
	local i=$1 holder
	shift
	holder=$(cat "$(fleet_hostdir "$i")/holder.pid")
	nsenter --target "$holder" --mount --net -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"
}

# Starts the bridge, the bed (moto on the bridge address) and N hosts.
fleet_up() {
	local n=$1 i
	[ "$(id -u)" -eq 0 ] || { _fleet_err "needs root (network namespaces, mounts)"; return 1; }
	FLEET_ID=hf$(printf '%04x' $((($$ + RANDOM) % 65536)))
	FLEET_BR=${FLEET_ID}br
	while ip link show "$FLEET_BR" >/dev/null 2>&1; do
		FLEET_ID=hf$(printf '%04x' $((RANDOM % 65536)))
		FLEET_BR=${FLEET_ID}br
	done
	_fleet_pick_subnet || return 1
	FLEET_DIR=$(mktemp -d "${TMPDIR:-/tmp}/hoist-fleet.XXXXXX") || return 1
	chmod 711 "$FLEET_DIR"
	export FLEET_ID FLEET_BR FLEET_NET FLEET_DIR
	# fleet_down runs before the bed's own trap (bed_start keeps an EXIT trap set before it).
	trap 'fleet_down' EXIT
	# a timeout's SIGTERM or a ^C still runs the EXIT trap (bash skips it on a fatal signal)
	trap 'exit 143' TERM
	trap 'exit 130' INT
	ip link add "$FLEET_BR" type bridge || { _fleet_err "cannot create bridge $FLEET_BR"; return 1; }
	echo "$FLEET_BR" >"$FLEET_DIR/bridge"
	ip addr add "$FLEET_NET.1/24" dev "$FLEET_BR"
	ip link set "$FLEET_BR" up
	FLEET_GW=$FLEET_NET.1
	export FLEET_GW
	case ",${no_proxy:-}," in *,"$FLEET_NET.0/24",*) ;; *) no_proxy="${no_proxy:+$no_proxy,}$FLEET_NET.0/24" ;; esac
	NO_PROXY=$no_proxy
	export no_proxy NO_PROXY

	# shellcheck source=/dev/null
	. "$FLEET_SRC/tests/bed/bed.sh"
	BED_BIND=$FLEET_GW bed_start || return 1
	# the controller's ssh identity and known_hosts
	mkdir -p "$FLEET_DIR/client" "$FLEET_DIR/ansible/cp" "$FLEET_DIR/ansible/tmp"
	ssh-keygen -q -t ed25519 -N '' -C fleet-controller -f "$FLEET_DIR/client/id_ed25519" || return 1
	cp "$FLEET_DIR/client/id_ed25519.pub" "$FLEET_DIR/client/authorized_keys"
	: >"$FLEET_DIR/client/known_hosts"
	for ((i = 1; i <= n; i++)); do
		fleet_add_host "$i" || return 1
	done
	fleet_write_inventory
}

# Adds host I: namespace, veth, mount namespace holder, sshd, IMDS emulator.
fleet_add_host() {
	local i=$1 ns h addr veth
	ns=$(fleet_ns "$i")
	h=$(fleet_hostdir "$i")
	addr=$(fleet_addr "$i")
	veth=${FLEET_ID}v$i
	mkdir -p "$h"/{etc-up,etc-work,var-up,var-work,srv-up,srv-work,run-up,run-work}
	mkdir -p "$h/etc-up/hoist" "$h/etc-up/fleetapp" "$h/var-up/hoist" "$h/run-up/sshd"
	chmod 755 "$h/run-up/sshd"
	ip netns add "$ns" || { _fleet_err "cannot create netns $ns"; return 1; }
	echo "$ns" >>"$FLEET_DIR/namespaces"
	ip link add "$veth" type veth peer name eth0 netns "$ns"
	echo "$veth" >>"$FLEET_DIR/veths"
	ip link set "$veth" master "$FLEET_BR" up
	ip -n "$ns" addr add "$addr/24" dev eth0
	ip -n "$ns" link set eth0 up
	ip -n "$ns" link set lo up
	ip -n "$ns" addr add 169.254.169.254/32 dev lo

	# The mount namespace: overlays give the host its own /etc, /var/lib, /srv and /run.
	ip netns exec "$ns" unshare --mount --propagation private sh -c '
		h=$1
		for d in etc:/etc var:/var/lib srv:/srv run:/run; do
			mount -t overlay overlay -o "lowerdir=${d#*:},upperdir=$h/${d%%:*}-up,workdir=$h/${d%%:*}-work" "${d#*:}" || exit 1
		done
		touch "$h/holder.ready"
		exec sleep infinity' holder "$h" </dev/null >"$h/holder.log" 2>&1 &
	echo $! >"$h/holder.pid"
	FLEET_PIDS="$FLEET_PIDS $!"
	_fleet_wait "host $i's mount namespace" test -e "$h/holder.ready" || { cat "$h/holder.log" >&2; return 1; }

	# hoist's settings: S3 on the bridge, the agent from the build tree.
	cat >"$h/etc-up/hoist/hoist.conf" <<EOF
# host h$i of the simulated fleet
s3_endpoint = http://$FLEET_GW:${HOIST_TEST_S3_ENDPOINT##*:}
agent_path = ${HOIST_BUILD_DIR:?}/agent/hoist
EOF
	echo "$addr" >"$h/etc-up/fleetapp/address"

	# sshd
	ssh-keygen -q -t ed25519 -N '' -C "h$i" -f "$h/ssh_host_ed25519_key"
	echo "$addr $(cut -d' ' -f1,2 "$h/ssh_host_ed25519_key.pub")" >>"$FLEET_DIR/client/known_hosts"
	cat >"$h/sshd_config" <<EOF
ListenAddress $addr:22
HostKey $h/ssh_host_ed25519_key
PidFile none
AuthorizedKeysFile $FLEET_DIR/client/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
UseDNS no
MaxStartups 100
MaxSessions 100
Subsystem sftp internal-sftp
EOF
	fleet_sshd_start "$i" || return 1

	# the metadata service
	fleet_write_scenario "$i"
	ip netns exec "$ns" "$BED_PYTHON" -S "$FLEET_SRC/tests/bed/imds_emulator.py" --bind 169.254.169.254 \
		--port 80 --port-file "$h/imds.port" --scenario "$h/scenario.json" --log "$h/imds.log" \
		</dev/null >"$h/imds.stderr" 2>&1 &
	echo $! >"$h/imds.pid"
	FLEET_PIDS="$FLEET_PIDS $!"
	_fleet_wait "host $i's metadata service" test -s "$h/imds.port" || { cat "$h/imds.stderr" >&2; return 1; }
	FLEET_N=$((i > FLEET_N ? i : FLEET_N))
	export FLEET_N
}

# The emulator's scenario of host I (user data from $h/user-data when present).
fleet_write_scenario() {
	local i=$1 h
	h=$(fleet_hostdir "$i")
	[ -f "$h/user-data" ] || : >"$h/user-data"
	"$BED_PYTHON" -S - "$h/scenario.json" "$(fleet_instance_id "$i")" "$(fleet_addr "$i")" "$h/user-data" <<'PY'
import json, os, sys
path, iid, addr, ud = sys.argv[1:5]
sc = {"instance_id": iid, "region": os.environ["BED_REGION"], "availability_zone": os.environ["BED_REGION"] + "a",
      "private_ip": addr, "role": os.environ["BED_ROLE_NAME"], "user_data_file": ud,
      "credentials": {"AccessKeyId": os.environ["BED_ROLE_ACCESS_KEY_ID"],
                      "SecretAccessKey": os.environ["BED_ROLE_SECRET_ACCESS_KEY"],
                      "Token": os.environ["BED_ROLE_SESSION_TOKEN"],
                      "Expiration": "2099-01-01T00:00:00Z"}}
with open(path, "w", encoding="utf-8") as f:
    json.dump(sc, f)
PY
}

# Makes FILE host I's user data (what its metadata service serves from now on).
fleet_set_user_data() {
	local i=$1 file=$2 h
	h=$(fleet_hostdir "$i")
	cp "$file" "$h/user-data"
	ip netns exec "$(fleet_ns "$i")" curl -sS -f --max-time 5 -o /dev/null -X POST \
		-H 'Content-Type: application/octet-stream' --data-binary "@$h/user-data" \
		http://169.254.169.254/_emulator/user-data
}

# Starts host I's sshd inside its namespaces (after fleet_sshd_stop, too).
fleet_sshd_start() {
	local i=$1 h
	h=$(fleet_hostdir "$i")
	nsenter --target "$(cat "$h/holder.pid")" --mount --net -- /usr/sbin/sshd -D -f "$h/sshd_config" -E "$h/sshd.log" \
		</dev/null >/dev/null 2>&1 &
	echo $! >"$h/sshd.pid"
	FLEET_PIDS="$FLEET_PIDS $!"
	_fleet_wait "host $i's sshd" sh -c "ip netns exec $(fleet_ns "$i") ss -Hltn 'sport = :22' | grep -q LISTEN"
}

# Makes host I unreachable over SSH: its listener and every session of it stop; the
# controller's multiplexed connection to it is closed. Its application keeps running.
fleet_sshd_stop() {
	local i=$1 h pid p
	h=$(fleet_hostdir "$i")
	pid=$(cat "$h/sshd.pid")
	_fleet_ssh_exit "$i"
	kill -TERM "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	# session processes (sshd children re-parented on exit) of this host
	for p in $(ip netns pids "$(fleet_ns "$i")"); do
		case "$(cat "/proc/$p/comm" 2>/dev/null)" in sshd) kill -TERM "$p" 2>/dev/null || true ;; esac
	done
	_fleet_wait "host $i's sshd to stop" sh -c "! ip netns exec $(fleet_ns "$i") ss -Hltn 'sport = :22' | grep -q LISTEN"
}

# Closes the controller's ControlMaster connection to host I, if any.
_fleet_ssh_exit() {
	local s
	s=$FLEET_DIR/ansible/cp/$(fleet_addr "$1")-22
	if [ -S "$s" ]; then ssh -o ControlPath="$s" -O exit dummy >/dev/null 2>&1 || true; fi
}

# The inventory of the fleet: group fleet (and env_test), ssh as root with the bed's key.
fleet_write_inventory() {
	local i inv=$FLEET_DIR/inventory.ini
	{
		echo "[fleet]"
		for ((i = 1; i <= FLEET_N; i++)); do
			echo "h$i ansible_host=$(fleet_addr "$i") instance_id=$(fleet_instance_id "$i") hoist_environment=test"
		done
		echo
		echo "[fleet:vars]"
		echo "ansible_user=root"
		echo "ansible_python_interpreter=/usr/bin/python3"
		echo "ansible_ssh_private_key_file=$FLEET_DIR/client/id_ed25519"
		echo "hoist_boot_bin=$HOIST_BUILD_DIR/agent/hoist-boot"
		echo "hoist_bin=$HOIST_BUILD_DIR/agent/hoist"
	} >"$inv"
}

# Ansible's environment: every file it writes stays in FLEET_DIR (no ~/.ansible).
fleet_ansible_env() {
	export ANSIBLE_HOME=$FLEET_DIR/ansible ANSIBLE_LOCAL_TEMP=$FLEET_DIR/ansible/tmp
	export ANSIBLE_REMOTE_TEMP=$FLEET_DIR/ansible/remote ANSIBLE_SSH_CONTROL_PATH_DIR=$FLEET_DIR/ansible/cp
	export ANSIBLE_SSH_CONTROL_PATH='%(directory)s/%%h-%%p'
	export ANSIBLE_SSH_ARGS="-o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=$FLEET_DIR/client/known_hosts -o StrictHostKeyChecking=yes"
	export ANSIBLE_PIPELINING=True ANSIBLE_FORKS=${ANSIBLE_FORKS:-24} ANSIBLE_TIMEOUT=5
	export ANSIBLE_HOST_KEY_CHECKING=True ANSIBLE_RETRY_FILES_ENABLED=False ANSIBLE_NOCOLOR=1
	export ANSIBLE_COLLECTIONS_PATH=$FLEET_DIR/ansible/collections ANSIBLE_GALAXY_CACHE_DIR=$FLEET_DIR/ansible/galaxy
	export ANSIBLE_LOCALHOST_WARNING=False ANSIBLE_INVENTORY_UNPARSED_WARNING=False
	export ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3
}

# Stops everything the fleet started (by pid), removes its namespaces, veths, bridge and files.
fleet_down() {
	local s p ns i pids
	[ -n "${FLEET_DIR:-}" ] && [ -d "$FLEET_DIR" ] || { declare -F bed_stop >/dev/null && bed_stop; return 0; }
	for s in "$FLEET_DIR"/ansible/cp/*; do
		[ -S "$s" ] && ssh -o ControlPath="$s" -O exit dummy >/dev/null 2>&1
	done
	# every process inside our namespaces: sshd and its sessions, emulators, applications, holders
	if [ -f "$FLEET_DIR/namespaces" ]; then
		while read -r ns; do
			pids=$(ip netns pids "$ns" 2>/dev/null)
			[ -n "$pids" ] && kill -TERM $pids 2>/dev/null
		done <"$FLEET_DIR/namespaces"
	fi
	for p in $FLEET_PIDS; do kill -TERM "$p" 2>/dev/null; done
	for ((i = 0; i < 60; i++)); do
		pids=""
		if [ -f "$FLEET_DIR/namespaces" ]; then
			while read -r ns; do pids="$pids$(ip netns pids "$ns" 2>/dev/null)"; done <"$FLEET_DIR/namespaces"
		fi
		[ -z "$pids" ] && break
		sleep 0.05
	done
	if [ -f "$FLEET_DIR/namespaces" ]; then
		while read -r ns; do
			pids=$(ip netns pids "$ns" 2>/dev/null)
			[ -n "$pids" ] && kill -KILL $pids 2>/dev/null
			ip netns del "$ns" 2>/dev/null
		done <"$FLEET_DIR/namespaces"
	fi
	for p in $FLEET_PIDS; do wait "$p" 2>/dev/null; done
	FLEET_PIDS=""
	# veths go with their namespace, asynchronously: delete any left by name
	if [ -f "$FLEET_DIR/veths" ]; then
		while read -r ns; do ip link del "$ns" 2>/dev/null; done <"$FLEET_DIR/veths"
	fi
	[ -f "$FLEET_DIR/bridge" ] && ip link del "$(cat "$FLEET_DIR/bridge")" 2>/dev/null
	declare -F bed_stop >/dev/null && bed_stop
	case "$FLEET_DIR" in */hoist-fleet.*) rm -rf -- "$FLEET_DIR" ;; esac
	unset FLEET_DIR
	return 0
}
