#!/usr/bin/env bash
# fleet-rollout.sh - rollouts with fleet/rollout.yml on the simulated fleet (tests/fleet/fleet_bed.sh).
# For each fleet size (default 6 and 24) and each mode (one-at-a-time, half-at-a-time,
# all-at-once), all hosts start on v1 and v2 is rolled out with no failure; the release has
# no-op hooks (an HTTP server started by the bench itself answers the probe), healthy_for_s=0.
# Prints per run: wall time of ansible-playbook; hoist_s, the agent's own time on the critical path (per wave
# the slowest host's deployment as hoist measured it, summed); the controller's overhead per host
# ((wall - hoist_s) / hosts); metadata-service and S3 requests per host during the rollout (S3:
# moto's log, so the controller's own channel reads and promotion, about 5 per rollout, are included).
# Usage (root): bench/fleet-rollout.sh [HOSTS...]   (HOIST_BUILD_DIR: default build/rel, built here)
# Results go to stdout and bench/results/fleet-rollout.txt. Not part of ctest.
set -uo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
SIZES=("${@:-6}")
[ $# -eq 0 ] && SIZES=(6 24)
export HOIST_SOURCE_DIR=$SRC
if [ -z "${HOIST_BUILD_DIR:-}" ]; then
	HOIST_BUILD_DIR=$SRC/build/rel
	cmake -S "$SRC" -B "$HOIST_BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build "$HOIST_BUILD_DIR" -j2 --target hoist hoist-boot hoist-release >/dev/null
fi
export HOIST_BUILD_DIR
mkdir -p "$SRC/bench/results"
OUT=$SRC/bench/results/fleet-rollout.txt
# shellcheck source=/dev/null
. "$SRC/tests/fleet/fleet_bed.sh"
# shellcheck source=/dev/null
. "$SRC/tests/fleet/fleet_lib.sh"

# The no-op release: hooks that only exit 0.
noop_release() {
	local v=$1 d
	d=$FLEET_DIR/releases/src-$v
	mkdir -p "$d/site" "$d/scripts"
	printf '%s\n' "$v" >"$d/site/VERSION"
	printf '#!/bin/sh\nexit 0\n' >"$d/scripts/noop.sh"
	chmod 755 "$d/scripts/noop.sh"
	cat >"$d/appspec.yml" <<'YAML'
version: 0.0
os: linux
files:
  - source: site
    destination: /srv/fleetapp
hooks:
  ApplicationStop: [{location: scripts/noop.sh, timeout: 30}]
  ApplicationStart: [{location: scripts/noop.sh, timeout: 30}]
  ValidateService: [{location: scripts/noop.sh, timeout: 30}]
YAML
	fleet_publish "$v" "$d"
}

# hoist's own time of host I's last deployment (seconds).
deploy_s() {
	fleet_exec "$1" "$HOIST_BUILD_DIR/agent/hoist" status --json |
		"$BED_PYTHON" -S -c 'import json,sys; print(json.load(sys.stdin)["duration_s"])'
}

{
	echo "# fleet-rollout.sh $(date -u +%FT%TZ) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
	printf '%-6s %-15s %8s %8s %12s %10s %8s\n' hosts mode wall_s hoist_s overhead/host imds/host s3/host
} | tee "$OUT"
for n in "${SIZES[@]}"; do
	fleet_up "$n" >/dev/null || exit 1
	fleet_channel_setup || exit 1
	mkdir -p "$FLEET_DIR/releases"
	noop_release v1 && noop_release v2 || exit 1
	FLEET_HEALTHY_FOR=0 fleet_write_vars
	# one static server per host answers the probe (the release's hooks start nothing)
	for ((i = 1; i <= n; i++)); do
		mkdir -p "$FLEET_DIR/www"
		echo ok >"$FLEET_DIR/www/index.html"
		ip netns exec "$(fleet_ns "$i")" setsid /usr/bin/python3 -m http.server --bind 0.0.0.0 \
			--directory "$FLEET_DIR/www" 8080 </dev/null >/dev/null 2>&1 &
	done
	for mode in one-at-a-time half-at-a-time all-at-once; do
		fleet_reset v1 >/dev/null || exit 1
		# no bundle cached from an earlier run: each host downloads v2 as a fresh host would
		for ((i = 1; i <= n; i++)); do fleet_exec "$i" rm -rf /var/lib/hoist/bundles; done
		: >"$FLEET_DIR/imds-count"
		for ((i = 1; i <= n; i++)); do : >"$(fleet_hostdir "$i")/imds.log"; done
		bed_clear_requests
		t0=$(date +%s%N)
		fleet_play rollout.yml -e version=v2 -e mode="$mode" -e rollout_id="bench-$n-$mode"
		t1=$(date +%s%N)
		[ "$PLAY_RC" -eq 0 ] || { echo "rollout failed (exit $PLAY_RC)"; tail -20 "$FLEET_DIR/play.log"; exit 1; }
		imds=0
		for ((i = 1; i <= n; i++)); do imds=$((imds + $(wc -l <"$(fleet_hostdir "$i")/imds.log"))); done
		s3=$(bed_requests --s3)
		# hooks on the critical path: per wave, the slowest host
		hooks=$(for w in $(fleet_record "bench-$n-$mode" '[",".join(w["hosts"]) for w in r["waves"]]'); do
			for h in ${w//,/ }; do deploy_s "${h#h}"; done | sort -g | tail -1
		done | awk '{s += $1} END {printf "%.3f", s}')
		wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", (b - a) / 1e9}')
		printf '%-6s %-15s %8s %8s %12s %10s %8s\n' "$n" "$mode" "$wall" "$hooks" \
			"$(awk -v w="$wall" -v h="$hooks" -v n="$n" 'BEGIN {printf "%.3f", (w - h) / n}')" \
			"$(awk -v a="$imds" -v n="$n" 'BEGIN {printf "%.1f", a / n}')" \
			"$(awk -v a="$s3" -v n="$n" 'BEGIN {printf "%.1f", a / n}')" | tee -a "$OUT"
	done
	fleet_down
done
