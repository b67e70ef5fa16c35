#!/usr/bin/env bash
# The main job, end to end on the local test bed: publish the sample bundle
# (hooks/) to S3 as version 1, set the instance's user data, run hoist-boot as
# systemd would at boot, show the sample service answering; publish version 2
# and redeploy; publish a version whose ValidateService fails and show the
# automatic rollback to version 2. Everything happens inside a private root
# prefix; the S3 and metadata stand-ins listen on 127.0.0.1 only.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/setup.sh"

build="$top/build/rel"
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHOIST_TESTS=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" >/dev/null
boot="$build/agent/hoist-boot"
agent="$build/agent/hoist"

work=$(mktemp -d /tmp/hoist-demo.XXXXXX)
root="$work/root"
mkdir -p "$root/etc/hoist" "$root/etc/hoist-sample"
# The sample service listens on a free loopback port, chosen now.
python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' \
	> "$root/etc/hoist-sample/port"
summary=()
service_stop() {
	# The sample service writes its pid under the root prefix; stop it by pid.
	local pidfile="$root/var/lib/hoist-sample/server.pid"
	if [ -f "$pidfile" ]; then
		kill "$(cat "$pidfile")" 2>/dev/null || true
	fi
}
cleanup() {
	service_stop
	rm -rf "$work"
}
trap cleanup EXIT
# shellcheck source=../tests/bed/bed.sh
source "$top/tests/bed/bed.sh"
bed_start
trap 'cleanup; bed_stop' EXIT

cat > "$root/etc/hoist/hoist.conf" <<CONF
# demo: everything under the private root prefix, the bed's endpoints
state_dir = /var/lib/hoist
log_dir = /var/log/hoist
agent_path = $agent
imds_deadline_s = 10
hook_grace_s = 2
CONF

publish() { # version: the sample bundle (hooks/) as s3://BUCKET/sample/VERSION/sample.tgz
	local version=$1 stage="$work/bundle-$1"
	rm -rf "$stage"
	cp -a "$top/hooks" "$stage"
	echo "$version" > "$stage/app/RELEASE"   # each release is its own bundle
	tar -C "$stage" -czf "$work/$version.tgz" .
	bed_publish "$work/$version.tgz" "sample/$version/sample.tgz" >/dev/null
}
set_directive() { # version
	cat > "$work/user-data" <<UD
#hoist
version=$1
bundle=s3://$BED_BUCKET/sample/{version}/sample.tgz
application=sample
environment=demo
UD
	bed_set_user_data "$work/user-data"
}
boot() { # runs the stub as the unit would; prints and returns its exit code
	local rc=0
	HOIST_ROOT="$root" AWS_ENDPOINT_URL_S3="$HOIST_TEST_S3_ENDPOINT" AWS_REGION="$BED_REGION" \
		"$boot" --config "$root/etc/hoist/hoist.conf" || rc=$?
	return $rc
}
answer() {
	local port
	port=$(cat "$root/etc/hoist-sample/port")
	curl -fsS --max-time 5 "http://127.0.0.1:$port/" 2>/dev/null | sed -n 's/.*\(version [^<]*\)<.*/\1/p' | head -1 \
		| grep . || echo "(no answer)"
}
step() { printf '\n=== %s\n' "$*"; }

step "version 1: first boot"
publish 1
set_directive 1
rc=0; boot || rc=$?
summary+=("v1 first boot: exit $rc, service says: $(answer)")

step "version 1 again: a reboot with the same user data downloads nothing"
rc=0; boot || rc=$?
summary+=("v1 reboot: exit $rc (already deployed)")

step "version 2: redeploy"
publish 2
set_directive 2
rc=0; boot || rc=$?
summary+=("v2 redeploy: exit $rc, service says: $(answer)")

step "version 3-bad: ValidateService fails (the sample fails any *-bad version), hoist rolls back to version 2"
publish 3-bad
set_directive 3-bad
rc=0; boot || rc=$?
summary+=("v3-bad: exit $rc (13 = rolled back), service says: $(answer)")

step "version 3-bad again: a reboot does not retry a version that failed on this host"
rc=0; boot || rc=$?
summary+=("v3-bad reboot: exit $rc (not retried), service says: $(answer)")

step "hoist status"
HOIST_ROOT="$root" "$agent" --config "$root/etc/hoist/hoist.conf" status || true
step "hoist list"
HOIST_ROOT="$root" "$agent" --config "$root/etc/hoist/hoist.conf" list || true

printf '\n=== summary\n'
printf '  %s\n' "${summary[@]}"
