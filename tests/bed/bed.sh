# shellcheck shell=bash
# hoist's local test bed: S3 + IAM + STS (moto, auth enforced) and an IMDSv2
# emulator on free 127.0.0.1 ports. Source it, then call bed_start; see
# tests/bed/README.md for every exported variable and helper.
#
#   source "$HOIST_SOURCE_DIR/tests/bed/bed.sh"
#   bed_start [--user-data FILE] [--v1] [--no-role] [--faults JSON]
#             [--instance-id ID] [--region R] [--plain-moto]
#
# Every server is stopped by pid (SIGTERM, bounded wait, SIGKILL) by bed_stop,
# which bed_start installs as (part of) the EXIT trap.

BED_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BED_WAIT=${BED_WAIT:-20}
# The interpreter, resolved once: a pyenv shim costs about 0.3 s per start, and
# bed_start starts three Python processes (publish and bed_requests one each).
if [ -z "${BED_PYTHON:-}" ]; then
	BED_PYTHON=$(command -v python3 || echo python3)
	case "$BED_PYTHON" in
	*/shims/python3)
		if command -v pyenv >/dev/null 2>&1; then
			BED_PYTHON=$(pyenv which python3 2>/dev/null || echo "$BED_PYTHON")
		fi
		;;
	esac
fi
export BED_PYTHON

# Prints an error about the bed to stderr; returns 1.
_bed_err() {
	echo "bed: $*" >&2
	return 1
}

# Shows the tail of the bed's server logs (on a startup failure).
_bed_dump_logs() {
	local f
	for f in "$BED_DIR"/*.stderr; do
		[ -s "$f" ] || continue
		echo "---- $f" >&2
		tail -n 20 "$f" >&2
	done
}

# Starts a background process with its output in BED_DIR; appends its pid to BED_PIDS.
# usage: _bed_spawn NAME CMD...   (sets _bed_last_pid)
_bed_spawn() {
	local name=$1
	shift
	"$@" </dev/null >"$BED_DIR/$name.stdout" 2>"$BED_DIR/$name.stderr" &
	_bed_last_pid=$!
	BED_PIDS="${BED_PIDS:+$BED_PIDS }$_bed_last_pid"
	echo "$_bed_last_pid" >"$BED_DIR/$name.pid"
}

# Removes a pid from BED_PIDS.
_bed_forget_pid() {
	local p out=""
	for p in ${BED_PIDS:-}; do
		[ "$p" = "$1" ] || out="${out:+$out }$p"
	done
	BED_PIDS=$out
}

# Stops one pid: SIGTERM, up to 5 s, then SIGKILL; reaps it.
_bed_kill() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "bed: pid $pid ignored SIGTERM for 5 s, sending SIGKILL" >&2
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}

# Installs bed_stop in the EXIT trap, keeping any EXIT trap already set.
# shellcheck disable=SC2120,SC2064  # $3 is the old trap's command, expanded now on purpose
_bed_install_trap() {
	local old
	old=$(trap -p EXIT)
	case "$old" in *bed_stop*) return 0 ;; esac
	if [ -n "$old" ]; then
		eval "set -- $old"   # -> trap -- 'CMD' EXIT
		trap "bed_stop; $3" EXIT
	else
		trap bed_stop EXIT
	fi
}

# Starts moto (wire-path wrapper, or plain moto_server) and the emulator, seeds, exports.
bed_start() {
	local seed_args=() plain=${BED_PLAIN_MOTO:-0} t0 t1 rc
	while [ $# -gt 0 ]; do
		case "$1" in
		--user-data | --faults | --instance-id | --region)
			[ $# -ge 2 ] || { _bed_err "bed_start: $1 needs a value"; return 1; }
			seed_args+=("$1" "$2")
			shift 2
			;;
		--v1 | --no-role) seed_args+=("$1"); shift ;;
		--plain-moto) plain=1; shift ;;
		*) _bed_err "bed_start: unknown option '$1'"; return 1 ;;
		esac
	done
	if [ -n "${BED_DIR:-}" ] && [ -d "$BED_DIR" ]; then
		_bed_err "bed_start: a bed is already running in $BED_DIR (bed_stop first)"
		return 1
	fi
	t0=$(date +%s%N)
	# Loopback must never go through an HTTP proxy from the environment (curl, botocore, urllib).
	case ",${no_proxy:-}," in *,127.0.0.1,*) ;; *) no_proxy="${no_proxy:+$no_proxy,}127.0.0.1" ;; esac
	case ",${NO_PROXY:-}," in *,127.0.0.1,*) ;; *) NO_PROXY="${NO_PROXY:+$NO_PROXY,}127.0.0.1" ;; esac
	export no_proxy NO_PROXY
	BED_DIR=$(mktemp -d "${TMPDIR:-/tmp}/hoist-bed.XXXXXX") || { _bed_err "mktemp failed"; return 1; }
	chmod 700 "$BED_DIR"
	export BED_DIR
	BED_PIDS=""
	_bed_install_trap

	_bed_spawn imds "$BED_PYTHON" -S "$BED_HOME/imds_emulator.py" \
		--port-file "$BED_DIR/imds.port" --log "$BED_DIR/imds.log"
	BED_IMDS_PID=$_bed_last_pid
	_bed_start_moto "$plain"
	rc=0
	_bed_seed "${seed_args[@]}" || rc=$?
	if [ $rc -ne 0 ] && [ "$BED_MOTO_MODE" = wire ] && ! kill -0 "$BED_MOTO_PID" 2>/dev/null; then
		echo "bed: moto_wire.py died; falling back to plain moto_server (keys with + = & ... will fail)" >&2
		_bed_dump_logs
		wait "$BED_MOTO_PID" 2>/dev/null || true
		_bed_forget_pid "$BED_MOTO_PID"   # never signal a pid that may be reused
		_bed_start_moto 1
		rc=0
		_bed_seed "${seed_args[@]}" || rc=$?
	fi
	if [ $rc -ne 0 ]; then
		_bed_err "bed_start: seeding failed (within ${BED_WAIT}s bound)"
		_bed_dump_logs
		bed_stop
		return 1
	fi
	# shellcheck disable=SC1091
	. "$BED_DIR/env"
	export BED_MOTO_MODE BED_MOTO_PID BED_IMDS_PID
	t1=$(date +%s%N)
	BED_START_MS=$(((t1 - t0) / 1000000))
	export BED_START_MS
	return 0
}

# Runs seed.py (waits for both servers, seeds moto, loads the emulator, writes BED_DIR/env).
_bed_seed() {
	local log=()
	[ "$BED_MOTO_MODE" = plain ] && log=(--moto-log "$BED_DIR/moto.stderr")
	"$BED_PYTHON" -S "$BED_HOME/seed.py" --dir "$BED_DIR" --timeout "$BED_WAIT" --moto-host "${BED_BIND:-127.0.0.1}" \
		--moto-port-file "$BED_DIR/moto.port" --imds-port-file "$BED_DIR/imds.port" \
		--moto-pid "$BED_MOTO_PID" --imds-pid "$BED_IMDS_PID" \
		"${log[@]}" "$@" 2>"$BED_DIR/seed.stderr"
}

# Starts moto: the wire-path wrapper (default) or plain moto_server when $1 = 1.
_bed_start_moto() {
	rm -f "$BED_DIR/moto.port"
	if [ "$1" = 1 ]; then
		BED_MOTO_MODE=plain
		_bed_spawn moto moto_server -H "${BED_BIND:-127.0.0.1}" -p 0
	else
		BED_MOTO_MODE=wire
		_bed_spawn moto "$BED_PYTHON" "$BED_HOME/moto_wire.py" --bind "${BED_BIND:-127.0.0.1}" \
			--port-file "$BED_DIR/moto.port" --log "$BED_DIR/moto.log"
	fi
	BED_MOTO_PID=$_bed_last_pid
}

# Stops every bed process by pid and removes BED_DIR. Safe to call twice.
# All get SIGTERM at once, then a bounded wait (5 s), then SIGKILL for any left.
bed_stop() {
	local pid i alive=""
	for pid in ${BED_PIDS:-}; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for ((i = 0; i < 100; i++)); do
		alive=""
		for pid in ${BED_PIDS:-}; do
			kill -0 "$pid" 2>/dev/null && alive="$alive $pid"
		done
		[ -z "$alive" ] && break
		sleep 0.05
	done
	for pid in $alive; do
		echo "bed: pid $pid ignored SIGTERM for 5 s, sending SIGKILL" >&2
		kill -KILL "$pid" 2>/dev/null || true
	done
	for pid in ${BED_PIDS:-}; do
		wait "$pid" 2>/dev/null || true
	done
	BED_PIDS=""
	if [ -n "${BED_DIR:-}" ] && [ -d "$BED_DIR" ]; then
		case "$BED_DIR" in
		*/hoist-bed.*) rm -rf -- "$BED_DIR" ;;
		esac
	fi
	unset BED_DIR HOIST_TEST_S3_PROXY_ENDPOINT BED_PROXY_PID
	return 0
}

# POSTs to the emulator's control API: _bed_ctl PATH [curl args...]
_bed_ctl() {
	local path=$1
	shift
	[ -n "${BED_IMDS_ENDPOINT:-}" ] || { _bed_err "bed not started"; return 1; }
	curl -sS -f --max-time 10 -o /dev/null "$@" "$BED_IMDS_ENDPOINT/_emulator/$path" ||
		_bed_err "emulator control $path failed"
}

# Publishes FILE as s3://$BED_BUCKET/KEY with the admin key (publish.py options pass through).
bed_publish() {
	[ $# -ge 2 ] || { _bed_err "usage: bed_publish FILE KEY [--bad-checksum|--no-checksum] [--sidecar] [--bucket B] [--meta K=V]"; return 1; }
	"$BED_PYTHON" "$BED_HOME/publish.py" "$@"
}

# New role credentials (AssumeRole again), served by the emulator; exports the new BED_ROLE_*.
bed_rotate_credentials() {
	local out
	out=$("$BED_PYTHON" "$BED_HOME/rotate.py") || { _bed_err "bed_rotate_credentials failed"; return 1; }
	eval "$out"
}

# Makes FILE the user data served at /latest/user-data.
bed_set_user_data() {
	[ -f "${1:-}" ] || { _bed_err "bed_set_user_data: no such file '${1:-}'"; return 1; }
	_bed_ctl user-data -X POST -H 'Content-Type: application/octet-stream' --data-binary "@$1"
}

# Removes the user data (/latest/user-data answers 404).
bed_clear_user_data() {
	_bed_ctl user-data -X DELETE
}

# Merges a JSON object into the emulator's active faults (see imds_emulator.py).
bed_fault() {
	[ $# -eq 1 ] || { _bed_err "usage: bed_fault JSON"; return 1; }
	_bed_ctl faults -X POST -H 'Content-Type: application/json' --data-binary "$1"
}

# Clears every emulator fault and forgets issued tokens (user data stays as set).
bed_reset_faults() {
	_bed_ctl reset -X POST
}

# Empties the request logs (emulator, moto, proxy) so counts start from zero.
bed_clear_requests() {
	local f
	for f in "$BED_DIR/imds.log" "$BED_DIR/moto.log" "$BED_DIR/proxy.log"; do
		if [ -f "$f" ]; then : >"$f"; fi
	done
	return 0
}

# Prints how many logged requests match: bed_requests [--imds|--s3|--proxy] [--method M] [--status N] [PREFIX]
# Default source: emulator + moto (the proxy's requests also reach moto).
bed_requests() {
	[ -n "${BED_DIR:-}" ] || { _bed_err "bed not started"; return 1; }
	"$BED_PYTHON" -S "$BED_HOME/bedlog.py" --dir "$BED_DIR" "$@"
}

# Starts the fault proxy in front of moto: the first N object GETs drop after K body bytes.
bed_proxy_start() {
	[ $# -eq 2 ] || { _bed_err "usage: bed_proxy_start N K"; return 1; }
	[ -z "${BED_PROXY_PID:-}" ] || bed_proxy_stop
	rm -f "$BED_DIR/proxy.port"
	_bed_spawn proxy "$BED_PYTHON" -S "$BED_HOME/faultproxy.py" --upstream "$HOIST_TEST_S3_ENDPOINT" \
		--fail-count "$1" --drop-after "$2" --port-file "$BED_DIR/proxy.port" --log "$BED_DIR/proxy.log"
	BED_PROXY_PID=$_bed_last_pid
	_bed_wait_port proxy faultproxy || return 1
	HOIST_TEST_S3_PROXY_ENDPOINT="http://127.0.0.1:$(cat "$BED_DIR/proxy.port")"
	export HOIST_TEST_S3_PROXY_ENDPOINT BED_PROXY_PID
}

# Stops the fault proxy (bed_stop does it too).
bed_proxy_stop() {
	[ -n "${BED_PROXY_PID:-}" ] || return 0
	_bed_kill "$BED_PROXY_PID"
	_bed_forget_pid "$BED_PROXY_PID"
	unset BED_PROXY_PID HOIST_TEST_S3_PROXY_ENDPOINT
}

# _bed_wait_port NAME WHAT: waits for $BED_DIR/NAME.port, which the server just spawned
# (_bed_last_pid) writes once it listens; 1, with the logs shown, when it dies or BED_WAIT passes.
_bed_wait_port() {
	local i
	for ((i = 0; i < BED_WAIT * 20; i++)); do
		[ -s "$BED_DIR/$1.port" ] && return 0
		kill -0 "$_bed_last_pid" 2>/dev/null || break
		sleep 0.05
	done
	[ -s "$BED_DIR/$1.port" ] && return 0
	_bed_err "$2 did not start within ${BED_WAIT}s"
	_bed_dump_logs
	return 1
}

# _bed_emulator_start NAME SCRIPT: spawns one of the bed's own AWS emulators (the command
# line of tests/bed/sigv4emu.py) and waits for it. Sets _bed_last_pid (also when it fails:
# bed_stop stops it) and _bed_emu_endpoint (empty when it did not start).
_bed_emulator_start() {
	_bed_emu_endpoint=""
	rm -f "$BED_DIR/$1.port"
	_bed_spawn "$1" "$BED_PYTHON" "$BED_HOME/$2" --region "$BED_REGION" \
		--port-file "$BED_DIR/$1.port" --log "$BED_DIR/$1.log"
	_bed_wait_port "$1" "${2%.py}" || return 0
	_bed_emu_endpoint="http://127.0.0.1:$(cat "$BED_DIR/$1.port")"
}

# Starts the Auto Scaling emulator (asg_emulator.py) and registers the role's
# credentials with it: bed_asg_start [--allow ACTION,...] (default: both lifecycle
# actions). Exports BED_ASG_ENDPOINT and BED_ASG_PID; bed_stop stops it.
bed_asg_start() {
	local allow='["CompleteLifecycleAction","RecordLifecycleActionHeartbeat"]'
	if [ "${1:-}" = --allow ]; then
		allow=$(printf '%s' "$2" | "$BED_PYTHON" -c 'import json,sys; print(json.dumps([a for a in sys.stdin.read().split(",") if a]))')
		shift 2
	fi
	_bed_emulator_start asg asg_emulator.py
	BED_ASG_PID=$_bed_last_pid
	[ -n "$_bed_emu_endpoint" ] || return 1
	BED_ASG_ENDPOINT=$_bed_emu_endpoint
	export BED_ASG_ENDPOINT BED_ASG_PID
	bed_asg_ctl credentials "{\"$BED_ROLE_ACCESS_KEY_ID\": {\"secret\": \"$BED_ROLE_SECRET_ACCESS_KEY\", \"token\": \"$BED_ROLE_SESSION_TOKEN\", \"allow\": $allow}}"
}

# POSTs JSON to the Auto Scaling emulator's control API: bed_asg_ctl credentials|actions JSON
bed_asg_ctl() {
	curl -sS -f --max-time 10 -o /dev/null -H 'Content-Type: application/json' \
		--data-binary "$2" "$BED_ASG_ENDPOINT/_asg/$1" || _bed_err "asg emulator control $1 failed"
}

# Starts s3gen_emulator.py (S3 GetObject/HeadObject of generated objects: a multi-GiB
# bundle that never exists on disk or in memory) and registers the role's credentials
# with it. Exports BED_S3GEN_ENDPOINT and BED_S3GEN_PID; bed_stop stops it.
bed_s3gen_start() {
	_bed_emulator_start s3gen s3gen_emulator.py
	BED_S3GEN_PID=$_bed_last_pid
	[ -n "$_bed_emu_endpoint" ] || return 1
	BED_S3GEN_ENDPOINT=$_bed_emu_endpoint
	export BED_S3GEN_ENDPOINT BED_S3GEN_PID
	bed_s3gen_ctl credentials "{\"$BED_ROLE_ACCESS_KEY_ID\": {\"secret\": \"$BED_ROLE_SECRET_ACCESS_KEY\", \"token\": \"$BED_ROLE_SESSION_TOKEN\"}}" >/dev/null
}

# POSTs JSON to the s3gen emulator's control API and prints the answer:
# bed_s3gen_ctl credentials|objects|faults JSON
bed_s3gen_ctl() {
	curl -sS -f --max-time 10 -H 'Content-Type: application/json' \
		--data-binary "$2" "$BED_S3GEN_ENDPOINT/_s3gen/$1" || _bed_err "s3gen emulator control $1 failed"
}
