# common.sh - paths of the sample service, all under the root prefix (HOIST_ROOT, "" = /).
R="${HOIST_ROOT:-}"
APP="$R/opt/hoist-sample"
RUNDIR="$R/var/lib/hoist-sample"
WWW="$RUNDIR/www"
PIDFILE="$RUNDIR/server.pid"
LOGFILE="$RUNDIR/events.log"
PORTFILE="$R/etc/hoist-sample/port"
PORT=8080
if [ -r "$PORTFILE" ]; then
	PORT=$(tr -cd '0-9' <"$PORTFILE")
fi
note() { echo "$(date -u +%FT%TZ) $LIFECYCLE_EVENT $HOIST_VERSION $*" >>"$LOGFILE"; }
