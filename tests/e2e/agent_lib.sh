# agent_lib.sh - shared setup of the agent's end-to-end tests (sourced by test_agent_*.sh).
# Every test runs the built agent with --root on a private temporary tree, serves the
# sample application (hooks/) on a free 127.0.0.1 port, and stops every process it
# started by pid in an EXIT trap.
set -euo pipefail

H="${HOIST_BUILD_DIR:?}/agent/hoist"
SRC="${HOIST_SOURCE_DIR:?}"
WORK=$(mktemp -d /tmp/hoist-e2e-XXXXXX)
ROOT="$WORK/root"
STATE="$ROOT/var/lib/hoist"
PIDS=()

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
PORT=$(free_port)

# Stops the sample service of a root by its pid file (only if the pid is still our server).
stop_service() {
	local pf="$1/var/lib/hoist-sample/server.pid" pid
	[ -f "$pf" ] || return 0
	pid=$(tr -cd '0-9' <"$pf")
	if [ -n "$pid" ] && grep -q http.server "/proc/$pid/cmdline" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
	fi
}

cleanup() {
	local rc=$?
	stop_service "$ROOT"
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	if [ $rc -ne 0 ]; then
		echo "--- last status:" >&2
		cat "$STATE/status.txt" >&2 2>/dev/null || true
	fi
	rm -rf "$WORK"
	exit $rc
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# A fresh root prefix with the sample's port file.
new_root() {
	stop_service "$ROOT"
	rm -rf "$ROOT"
	mkdir -p "$ROOT/etc/hoist-sample"
	echo "$PORT" >"$ROOT/etc/hoist-sample/port"
}
new_root

hoist() { "$H" --root "$ROOT" "$@"; }

# make_src NAME: copies the sample bundle to $WORK/src-NAME and prints the path.
make_src() {
	local d="$WORK/src-$1"
	rm -rf "$d"
	cp -a "$SRC/hooks" "$d"
	echo "$d"
}

# make_tgz NAME [DIR]: archives DIR (default: the plain sample) as $WORK/NAME.tgz.
make_tgz() {
	local d="${2:-$(make_src "$1")}"
	tar -czf "$WORK/$1.tgz" -C "$d" .
	echo "$WORK/$1.tgz"
}

# run_expect CODE CMD...: runs CMD (output to $WORK/out, $WORK/err), checks its exit code.
run_expect() {
	local want=$1 got=0
	shift
	"$@" >"$WORK/out" 2>"$WORK/err" || got=$?
	if [ "$got" != "$want" ]; then
		echo "--- stdout:" >&2; cat "$WORK/out" >&2
		echo "--- stderr:" >&2; tail -40 "$WORK/err" >&2
		fail "'$*' exited $got, expected $want"
	fi
}

# status_get EXPR: evaluates a Python expression on the parsed `hoist status --json` (as s).
status_get() {
	hoist status --json | python3 -c "import json, sys; s = json.load(sys.stdin); print($1)"
}

# page: what the sample service answers ("" when it does not).
page() { curl -fsS --max-time 3 "http://127.0.0.1:$PORT/" 2>/dev/null || true; }

# assert_whole VERSION: the revision's installed list matches the host exactly
# (every file with its recorded sha256), and it is the current and installed one.
assert_whole() {
	local v=$1 list="$STATE/revisions/$1/installed.list" kind sha mode path n=0
	[ -f "$list" ] || fail "no installed list for $v"
	[ ! -e "$STATE/revisions/$v/installed.partial" ] || fail "partial list left for $v"
	grep -qx "version=$v" "$STATE/current" || fail "current is not $v: $(cat "$STATE/current" 2>/dev/null)"
	grep -qx "version=$v" "$STATE/installed" || fail "installed is not $v"
	while read -r kind sha mode path; do
		[ "$kind" = F ] || continue
		n=$((n + 1))
		[ -f "$ROOT$path" ] || fail "$v: $path missing"
		[ "$(sha256sum "$ROOT$path" | cut -d' ' -f1)" = "$sha" ] || fail "$v: $path differs"
	done <"$list"
	[ $n -gt 0 ] || fail "$v: installed list has no files"
	# No file under the application directory that the list does not name.
	(cd "$ROOT" && find opt/hoist-sample -type f | sed 's#^#/#' | sort) >"$WORK/host-files"
	awk '$1 == "F" { print $4 }' "$list" | sort >"$WORK/list-files"
	diff -u "$WORK/list-files" "$WORK/host-files" >&2 || fail "$v: host files differ from its installed list"
	[ ! -e "$STATE/journal" ] || fail "journal still present"
}
