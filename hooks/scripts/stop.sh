#!/bin/sh
# ApplicationStop (runs from the previously installed revision): stop the service by its pid file.
set -eu
. "$(dirname "$0")/common.sh"
mkdir -p "$RUNDIR"
note "stopping"
if [ -f "$PIDFILE" ]; then
	pid=$(tr -cd '0-9' <"$PIDFILE")
	# Only signal the pid if it still is our server (pids get reused).
	if [ -n "$pid" ] && grep -q "http.server" "/proc/$pid/cmdline" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		i=0
		# A zombie (dead, not yet reaped by its new parent) counts as stopped.
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
			state=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)
			[ "$state" = Z ] && break
			sleep 0.1
			i=$((i + 1))
		done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$PIDFILE"
fi
echo "sample service stopped"
