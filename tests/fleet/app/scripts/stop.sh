#!/bin/sh
# ApplicationStop: stop the server by its pid file, then wait until the port is free.
set -eu
. "$(dirname "$0")/common.sh"
if [ -f "$PIDFILE" ]; then
	pid=$(tr -cd '0-9' <"$PIDFILE")
	# only if the pid still is our server (pids get reused)
	if [ -n "$pid" ] && grep -q server.py "/proc/$pid/cmdline" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
	fi
	rm -f "$PIDFILE"
fi
i=0
while port_listening && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
echo "fleetapp stopped"
