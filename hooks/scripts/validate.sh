#!/bin/sh
# ValidateService: the service must answer with this revision's version (bounded retry).
set -eu
. "$(dirname "$0")/common.sh"
case "$HOIST_VERSION" in
*-bad)
	echo "version $HOIST_VERSION is marked bad: failing on purpose" >&2
	exit 1
	;;
esac
if [ -e "$HOIST_REVISION_DIR/FAIL_VALIDATE" ]; then
	echo "bundle carries FAIL_VALIDATE: failing on purpose" >&2
	exit 1
fi
i=0
while [ $i -lt 40 ]; do
	if body=$(curl -fsS --max-time 2 "http://127.0.0.1:$PORT/" 2>/dev/null); then
		if printf '%s' "$body" | grep -q "version $HOIST_VERSION<"; then
			note "validated"
			echo "service answers with version $HOIST_VERSION"
			exit 0
		fi
		echo "service answers with another version" >&2
	fi
	sleep 0.25
	i=$((i + 1))
done
echo "service on 127.0.0.1:$PORT did not answer with version $HOIST_VERSION in 10 s" >&2
exit 1
