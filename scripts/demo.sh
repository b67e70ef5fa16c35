#!/usr/bin/env bash
# The main job, end to end on the local test bed, as a release channel:
# hoist-release packs and publishes three signed versions of the sample bundle
# (hooks/); the instance's user data follows the prod channel; promote 1
# (staging, then prod), boot, re-run (nothing new), promote 2 and re-run,
# promote a version whose ValidateService fails (hoist rolls back), then roll
# back by promoting 1 again. Everything happens inside a private root prefix;
# the S3 and metadata stand-ins listen on 127.0.0.1 only.
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

release="$build/agent/hoist-release"
channel="s3://$BED_BUCKET/$BED_BUILD_PREFIX/sample/channels"
# The build side runs as the bed's build role (it may write releases/* only);
# the host reads with the instance role the metadata emulator serves.
hr() {
	AWS_ACCESS_KEY_ID="$BED_BUILD_ACCESS_KEY_ID" AWS_SECRET_ACCESS_KEY="$BED_BUILD_SECRET_ACCESS_KEY" \
		AWS_SESSION_TOKEN="$BED_BUILD_SESSION_TOKEN" AWS_ENDPOINT_URL_S3="$HOIST_TEST_S3_ENDPOINT" \
		AWS_REGION="$BED_REGION" "$release" "$@"
}
publish() { # version: the sample bundle (hooks/), packed, published and signed
	local version=$1 stage="$work/bundle-$1"
	rm -rf "$stage"
	cp -a "$top/hooks" "$stage"
	echo "$version" > "$stage/app/RELEASE"   # each release is its own bundle
	hr -q bundle "$stage" -o "$work/sample-$version.tgz" 2>/dev/null | tr '\n' ' '
	echo
	hr -q publish "$work/sample-$version.tgz" --to "s3://$BED_BUCKET/$BED_BUILD_PREFIX" --app sample \
		--version "$version" --sign-key "$work/release.sec" | head -1
}
promote() { # channel version | channel --from-channel URL
	local ch=$1
	shift
	if [ "$1" = --from-channel ]; then
		hr promote --channel "$channel/$ch" --from-channel "$channel/$2" --sign-key "$work/release.sec"
	else
		hr promote --channel "$channel/$ch" --version "$1" --sign-key "$work/release.sec"
	fi
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

step "build side: a signing key, three releases published (bundle = hoist validate's checks + a reproducible tgz)"
"$release" key generate "$work/release"
mkdir -p "$root/etc/hoist/trusted-keys"
cp "$work/release.pub" "$root/etc/hoist/trusted-keys/"   # baked into the image: signatures now required
for v in 1 2 3-bad; do publish "$v"; done

# The host's user data never changes again: it follows the prod channel.
cat > "$work/user-data" <<UD
#hoist
application=sample
environment=demo
channel=$channel/prod
UD
bed_set_user_data "$work/user-data"

step "promote 1 to staging, then staging to prod; the host boots and deploys the channel's release"
promote staging 1
promote prod --from-channel staging
rc=0; boot || rc=$?
summary+=("prod = 1, first boot: exit $rc, service says: $(answer)")

step "re-run with nothing new: the channel is read, nothing is downloaded"
rc=0; boot || rc=$?
summary+=("re-run, nothing new: exit $rc (already deployed)")

step "promote 2 to prod; re-running hoist-boot converges the host"
promote prod 2
rc=0; boot || rc=$?
summary+=("prod = 2, re-run: exit $rc, service says: $(answer)")

step "promote 3-bad: ValidateService fails (the sample fails any *-bad version), hoist rolls back to 2"
promote prod 3-bad
rc=0; boot || rc=$?
summary+=("prod = 3-bad, re-run: exit $rc (13 = rolled back), service says: $(answer)")

step "roll back by promotion: promote 1 again (a higher seq, like any promotion); re-run"
promote prod 1
rc=0; boot || rc=$?
summary+=("prod = 1 (rollback), re-run: exit $rc, service says: $(answer)")

step "hoist-release channel show"
hr channel show "$channel/prod"

step "hoist status"
HOIST_ROOT="$root" "$agent" --config "$root/etc/hoist/hoist.conf" status || true
step "hoist list"
HOIST_ROOT="$root" "$agent" --config "$root/etc/hoist/hoist.conf" list || true

printf '\n=== summary\n'
printf '  %s\n' "${summary[@]}"
