# shellcheck shell=bash
# shellcheck disable=SC2034  # REL BOOT AGENT STATE U RC are for the tests that source it
# Helpers shared by tests/e2e/test_release_*.sh that publish with hoist-release
# and deploy with the tree's hoist-boot and hoist: the bed up (tests/bed/bed.sh),
# a private root whose hoist trusts ROOT/etc/hoist/trusted-keys, hoist-release as
# the build role, hoist-boot as the instance runs it, checks counted in FAILS.
# Source after set -uo pipefail. Sets REL BOOT AGENT W ROOT STATE U (the build prefix).
# shellcheck source=/dev/null
. "$HOIST_SOURCE_DIR/tests/bed/bed.sh"
REL=$HOIST_BUILD_DIR/agent/hoist-release
BOOT=$HOIST_BUILD_DIR/agent/hoist-boot
AGENT=$HOIST_BUILD_DIR/agent/hoist
FAILS=0
fail() { echo "FAIL: $*" >&2; [ -f "$W/out" ] && sed 's/^/    | /' "$W/out" >&2; FAILS=$((FAILS + 1)); }
ok() { echo "ok: $*"; }
bed_start || exit 1
W=$BED_DIR/w
ROOT=$W/root
STATE=$ROOT/var/lib/hoist
mkdir -p "$W" "$ROOT/etc/hoist/trusted-keys"
: >"$ROOT/etc/hoist/hoist.conf"
U=s3://$BED_BUCKET/$BED_BUILD_PREFIX

build() { # hoist-release as the build role
	env -u AWS_PROFILE AWS_ACCESS_KEY_ID="$BED_BUILD_ACCESS_KEY_ID" AWS_SECRET_ACCESS_KEY="$BED_BUILD_SECRET_ACCESS_KEY" \
		AWS_SESSION_TOKEN="$BED_BUILD_SESSION_TOKEN" AWS_ENDPOINT_URL_S3="$HOIST_TEST_S3_ENDPOINT" \
		AWS_REGION="$BED_REGION" "$REL" "$@"
}
boot() { # hoist-boot as the instance would run it: user data and role from the emulator, region known
	bed_set_user_data "$W/ud"
	bed_clear_requests
	env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u HOIST_CONFIG -u HOIST_ROOT \
		AWS_ENDPOINT_URL_S3="$HOIST_TEST_S3_ENDPOINT" timeout 120 "$BOOT" --root "$ROOT" --agent "$AGENT" \
		--region "$BED_REGION" "$@" >"$W/out" 2>&1
	RC=$?
}
# The user data: a directive for APP (default web) in prod, and the line given.
directive() {
	printf '#hoist\napplication=%s\nenvironment=prod\n%s\n' "${APP:-web}" "$1" >"$W/ud"
}
served() { cat "$ROOT/opt/web/VERSION" 2>/dev/null; }
make_src() { # version: a bundle tree installing app/VERSION to /opt/web
	local s=$W/src-$1
	mkdir -p "$s/app"
	echo "$1" >"$s/app/VERSION"
	printf 'version: 0.0\nos: linux\nfiles:\n  - source: app\n    destination: /opt/web\n' >"$s/appspec.yml"
	echo "$s"
}
