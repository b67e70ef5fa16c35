#!/bin/sh
# ApplicationStart: start the service in the background, detached from the hook's output,
# the way many CodeDeploy bundles do. Under systemd it stays in hoist-boot.service's cgroup;
# the unit's KillMode=process keeps systemd from killing it when that unit fails (exit 13
# after a rollback restored this very service) or restarts (docs/operations.md). A real
# service is better off with a unit of its own, started with systemctl.
set -eu
. "$(dirname "$0")/common.sh"
mkdir -p "$RUNDIR"
# Its output goes to a file, not to the hook's pipe, so the deployment does not wait for it.
setsid python3 -m http.server --bind 127.0.0.1 --directory "$WWW" "$PORT" \
	</dev/null >>"$RUNDIR/server.log" 2>&1 &
pid=$!
echo "$pid" >"$PIDFILE"
note "started pid $pid on port $PORT"
echo "sample service started on 127.0.0.1:$PORT (pid $pid)"
