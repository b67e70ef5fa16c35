#!/bin/sh
# ValidateService: the server answers on the host with this version (bounded wait).
set -eu
. "$(dirname "$0")/common.sh"
if marked "$HOIST_VERSION" /etc/fleetapp/fail-validate; then
	echo "fail-validate names $HOIST_VERSION: failing on purpose" >&2
	exit 1
fi
i=0
while [ $i -lt 40 ]; do
	if curl -fsS --max-time 2 "http://127.0.0.1:$PORT/" 2>/dev/null | grep -qx "fleetapp $HOIST_VERSION"; then
		echo "fleetapp answers with $HOIST_VERSION"
		exit 0
	fi
	sleep 0.25
	i=$((i + 1))
done
echo "fleetapp did not answer with $HOIST_VERSION on 127.0.0.1:$PORT within 10 s" >&2
exit 1
