#!/bin/sh
# ApplicationStart: start the service in the background, detached from the hook's output.
set -eu
. "$(dirname "$0")/common.sh"
mkdir -p "$RUNDIR"
# Its output goes to a file, not to the hook's pipe, so the deployment does not wait for it.
setsid python3 -m http.server --bind 127.0.0.1 --directory "$WWW" "$PORT" \
	</dev/null >>"$RUNDIR/server.log" 2>&1 &
echo $! >"$PIDFILE"
note "started pid $! on port $PORT"
echo "sample service started on 127.0.0.1:$PORT (pid $!)"
