#!/bin/sh
# ApplicationStart: start the service in the background, detached from the hook's output.
set -eu
. "$(dirname "$0")/common.sh"
mkdir -p "$RUNDIR"
# Its output goes to a file, not to the hook's pipe, so the deployment does not wait for it.
if [ -z "$R" ] && [ -d /run/systemd/system ] && command -v systemd-run >/dev/null 2>&1; then
	# Under systemd the service gets a unit of its own (docs/operations.md): a process
	# left in hoist-boot.service's cgroup is killed when that unit fails, e.g. right
	# after a rollback restored this very service (exit 13), or when it is restarted.
	systemctl reset-failed hoist-sample.service >/dev/null 2>&1 || true
	systemd-run --quiet --collect --unit=hoist-sample --description="hoist sample service" \
		-p StandardOutput="append:$RUNDIR/server.log" -p StandardError="append:$RUNDIR/server.log" \
		python3 -m http.server --bind 127.0.0.1 --directory "$WWW" "$PORT"
	pid=$(systemctl show -p MainPID --value hoist-sample.service)
else
	setsid python3 -m http.server --bind 127.0.0.1 --directory "$WWW" "$PORT" \
		</dev/null >>"$RUNDIR/server.log" 2>&1 &
	pid=$!
fi
echo "$pid" >"$PIDFILE"
note "started pid $pid on port $PORT"
echo "sample service started on 127.0.0.1:$PORT (pid $pid)"
