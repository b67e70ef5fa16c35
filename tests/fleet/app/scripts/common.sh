# common.sh - fleetapp's paths and switches (see appspec.yml).
RUNDIR=/var/lib/fleetapp
PIDFILE=$RUNDIR/server.pid
PORT=8080
# marked VERSION FILE: true when FILE exists and names VERSION.
marked() { [ -f "$2" ] && [ "$(cat "$2")" = "$1" ]; }
port_listening() { ss -Hltn "sport = :$PORT" | grep -q LISTEN; }
