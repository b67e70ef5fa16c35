#!/bin/sh
# ApplicationStart: write the page, start the server detached from the hook's output.
set -eu
. "$(dirname "$0")/common.sh"
mkdir -p "$RUNDIR/www"
echo "fleetapp $HOIST_VERSION" >"$RUNDIR/www/index.html"
bind=0.0.0.0
if marked "$HOIST_VERSION" /etc/fleetapp/fail-probe; then
	bind=127.0.0.1
	echo "fail-probe names $HOIST_VERSION: serving on 127.0.0.1 only"
fi
setsid /usr/bin/python3 -m http.server --bind "$bind" --directory "$RUNDIR/www" "$PORT" \
	</dev/null >>"$RUNDIR/server.log" 2>&1 &
pid=$!
echo $pid >"$PIDFILE"
if marked "$HOIST_VERSION" /etc/fleetapp/fail-later; then
	# healthy at first (ValidateService and the first probes pass), dead 3 s later
	setsid sh -c "sleep 3; kill $pid" </dev/null >/dev/null 2>&1 &
	echo "fail-later names $HOIST_VERSION: the server stops in 3 s"
fi
echo "fleetapp $HOIST_VERSION started on $bind:$PORT"
