#!/bin/sh
# ApplicationStart: start the server (server.py) detached from the hook's output.
set -eu
. "$(dirname "$0")/common.sh"
mkdir -p "$RUNDIR"
bind=0.0.0.0
if marked "$HOIST_VERSION" /etc/fleetapp/fail-probe; then
	bind=127.0.0.1
	echo "fail-probe names $HOIST_VERSION: serving on 127.0.0.1 only"
fi
later=""
if marked "$HOIST_VERSION" /etc/fleetapp/fail-later; then
	later=--fail-later
	echo "fail-later names $HOIST_VERSION: healthy for the first probe only"
fi
setsid /usr/bin/python3 "$(dirname "$0")/server.py" "$bind" "$PORT" "$HOIST_VERSION" $later \
	</dev/null >>"$RUNDIR/server.log" 2>&1 &
echo $! >"$PIDFILE"
echo "fleetapp $HOIST_VERSION started on $bind:$PORT"
