#!/bin/sh
# BeforeInstall: prepare the runtime directory.
set -eu
. "$(dirname "$0")/common.sh"
mkdir -p "$RUNDIR" "$WWW"
note "before install (deployment $DEPLOYMENT_ID)"
echo "runtime directory $RUNDIR ready"
