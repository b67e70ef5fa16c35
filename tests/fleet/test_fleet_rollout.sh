#!/usr/bin/env bash
# Fleet rollouts with Ansible on the simulated fleet (tests/fleet/fleet_bed.sh): 6 hosts, each its
# own network and mount namespace, sshd and metadata service. Every mode (one-at-a-time,
# half-at-a-time, all-at-once) x {all healthy, h3 fails ValidateService, h3 fails the
# controller's probe, h3 unreachable}: which hosts end on which release, where the rollout
# stopped, the channel's final state, and the dashboard as headless Chromium renders it
# (screenshots kept in BUILD/test-artifacts/fleet/). Then a host started after a halted rollout
# takes the previous release. Also: explicit wave sizes, and one-at-a-time's last host failing
# within the allowance. One fleet for all scenarios; each starts from every host on v1.
set -u
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
for c in ansible-playbook chromium /usr/sbin/sshd nsenter; do
	command -v "$c" >/dev/null 2>&1 || { echo "FAIL: $c missing (scripts/setup.sh installs it)" >&2; exit 1; }
done
# shellcheck source=/dev/null
. "$HOIST_SOURCE_DIR/tests/fleet/fleet_bed.sh"
# shellcheck source=/dev/null
. "$HOIST_SOURCE_DIR/tests/fleet/fleet_lib.sh"
ART=$HOIST_BUILD_DIR/test-artifacts/fleet
mkdir -p "$ART"
# Prints the seconds since the last mark (where a scenario's time goes).
T_MARK=$(date +%s%N)
mark() {
	local now
	now=$(date +%s%N)
	echo "time: $1 $(awk -v a="$T_MARK" -v b="$now" 'BEGIN {printf "%.1f", (b - a) / 1e9}') s"
	T_MARK=$now
}

fleet_up 6 || exit 1
fleet_channel_setup || exit 1
fleet_publish v1 && fleet_publish v2 || exit 1
mark "fleet up, releases published"
fleet_write_vars

# scenario MODE CASE: one rollout of v2 from all hosts on v1, h3 failing as CASE.
scenario() {
	local mode=$1 case=$2 id="$1-$2" i want_rc tags stopped result notstarted rolled
	echo "=== $id"
	fleet_reset v1 || { fail "$id: reset"; return; }
	case $case in
	validate) fleet_make_fail 3 validate v2 ;;
	probe) fleet_make_fail 3 probe v2 ;;
	later) fleet_make_fail 3 later v2 ;;
	unreachable) fleet_sshd_stop 3 ;;
	esac
	mark "$id: reset"
	# later: the first probe passes, the ones while it must stay healthy do not
	local extra=()
	[ "$case" = later ] && extra=(-e healthy_for_s=2)
	fleet_play rollout.yml -e version=v2 -e mode="$mode" -e rollout_id="$id" "${extra[@]}"
	mark "$id: rollout"
	cp "$FLEET_DIR/play.log" "$ART/$id.rollout.log"
	# expected: per host tags h1..h6, where it stopped, not started, rolled back
	if [ "$case" = healthy ]; then
		want_rc=0 result=succeeded stopped=None notstarted="" rolled=""
		tags="kept kept kept kept kept kept"
	else
		want_rc=2 result=failed
		local h3=none
		case $case in validate) h3=self ;; probe | later) h3=rb ;; esac
		case $mode in
		one-at-a-time) stopped=3 notstarted="h4 h5 h6" tags="rb rb $h3 none none none" ;;
		half-at-a-time) stopped=1 notstarted="h4 h5 h6" tags="rb rb $h3 none none none" ;;
		all-at-once) stopped=1 notstarted="" tags="rb rb $h3 rb rb rb" ;;
		esac
		rolled=""
		i=0
		for t in $tags; do
			i=$((i + 1))
			[ "$t" = rb ] && rolled="${rolled:+$rolled }h$i"
		done
	fi
	[ "$PLAY_RC" -eq "$want_rc" ] && ok "$id: ansible-playbook exit $PLAY_RC" ||
		{ fail "$id: ansible-playbook exit $PLAY_RC, want $want_rc"; tail -30 "$FLEET_DIR/play.log" >&2; }
	i=0
	for t in $tags; do
		i=$((i + 1))
		expect_host "$i" "$t" v1 v2
	done
	local rec=$FLEET_DIR/records/rollouts/$id.json
	if [ -f "$rec" ]; then
		local got
		got=$(fleet_record "$id" 'r["result"]'); [ "$got" = "$result" ] && ok "$id: record result $got" || fail "$id: record result $got, want $result"
		got=$(fleet_record "$id" 'r["stopped_after_wave"]'); [ "$got" = "$stopped" ] && ok "$id: stopped after wave $got" || fail "$id: stopped after wave $got, want $stopped"
		got=$(fleet_record "$id" 'r["not_started"]'); [ "$got" = "$notstarted" ] && ok "$id: not started [$got]" || fail "$id: not started [$got], want [$notstarted]"
		got=$(fleet_record "$id" '[x["host"] for x in r["rolled_back"]]'); [ "$got" = "$rolled" ] && ok "$id: rolled back [$got]" || fail "$id: rolled back [$got], want [$rolled]"
		local restored=True
		[ "$case" = healthy ] && restored=False
		got=$(fleet_record "$id" 'r["channel_restored"]'); [ "$got" = "$restored" ] && ok "$id: channel restored: $got" || fail "$id: channel restored: $got, want $restored"
		if [ "$case" != healthy ]; then
			got=$(fleet_record "$id" '[x["host"] for x in r["failed"]]'); [ "$got" = h3 ] && ok "$id: failed [h3]" || fail "$id: failed [$got], want [h3]"
			got=$(fleet_record "$id" 'r["failed"][0]["reason"]')
			case "$case:$got" in
			validate:*ValidateService* | probe:*"controller probe"*"tries"* | unreachable:unreachable* | later:*"of the healthy time"*)
				ok "$id: h3's reason: $got" ;;
			*) fail "$id: h3's reason: $got" ;;
			esac
		fi
	else
		fail "$id: no rollout record"
	fi
	local chan want_chan=v1
	[ "$case" = healthy ] && want_chan=v2
	chan=$(fleet_channel_version)
	[ "$chan" = "$want_chan" ] && ok "$id: channel on $chan" || fail "$id: channel on $chan, want $want_chan"

	mark "$id: checks"
	# the dashboard, as Chromium shows it
	fleet_play status.yml
	mark "$id: status.yml"
	[ "$PLAY_RC" -eq 0 ] || { fail "$id: status.yml exit $PLAY_RC"; tail -20 "$FLEET_DIR/play.log" >&2; return; }
	cp "$FLEET_DIR/records/dashboard.html" "$ART/$id.html"
	# a screenshot of one scenario per mode (each costs a Chromium start)
	local shot=""
	[ "$case" = validate ] && shot="$ART/$id.png"
	fleet_browser "$FLEET_DIR/records/dashboard.html" "$ART/$id" "$shot" || { fail "$id: chromium"; return; }
	mark "$id: chromium"
	if [ -n "$shot" ]; then
		[ -s "$shot" ] && ok "$id: screenshot $shot" || fail "$id: no screenshot"
	fi
	local checks=("channel=$want_chan" "rollout=$result:${stopped/None/}")
	if [ "$case" = healthy ]; then
		checks+=(versions=v2:6 state=h1:ok state=h3:ok hostversion=h6:v2)
	else
		checks+=(hostversion=h1:v1 state=h1:ok state=h6:ok)
		case $case in
		unreachable) checks+=(versions=v1:5,unknown:1 state=h3:unreachable) ;;
		*) checks+=(versions=v1:6 state=h3:failed hostversion=h3:v1) ;;
		esac
		[ "$case" = validate ] && checks+=("text=fail-validate names v2: failing on purpose")
		checks+=("text=Halted after wave $stopped")
	fi
	"$BED_PYTHON" -S "$FLEET_HOME/check_dashboard.py" "$ART/$id.dom.html" "${checks[@]}" || FLEET_FAILS=$((FLEET_FAILS + 1))
}

for mode in ${FLEET_MODES-one-at-a-time half-at-a-time all-at-once}; do
	for case in ${FLEET_CASES-healthy validate probe unreachable}; do
		scenario "$mode" "$case"
	done
done

# extra MODE ID HOST RC RESULT STOPPED NOT_STARTED ROLLED TAGS CHANNEL DASHBOARD-CHECKS...:
# host HOST fails ValidateService of v2; the outcome given explicitly.
extra() {
	local mode=$1 id=$2 host=$3 want_rc=$4 result=$5 stopped=$6 notstarted=$7 rolled=$8 tags=$9 want_chan=${10} i t got
	shift 10
	echo "=== $id"
	fleet_reset v1 || { fail "$id: reset"; return; }
	fleet_make_fail "$host" validate v2
	fleet_play rollout.yml -e version=v2 -e mode="$mode" -e rollout_id="$id"
	cp "$FLEET_DIR/play.log" "$ART/$id.rollout.log"
	mark "$id: rollout"
	[ "$PLAY_RC" -eq "$want_rc" ] && ok "$id: ansible-playbook exit $PLAY_RC" || fail "$id: ansible-playbook exit $PLAY_RC, want $want_rc"
	i=0
	for t in $tags; do
		i=$((i + 1))
		expect_host "$i" "$t" v1 v2
	done
	got=$(fleet_record "$id" 'r["result"]'); [ "$got" = "$result" ] && ok "$id: record result $got" || fail "$id: record result $got, want $result"
	got=$(fleet_record "$id" 'r["stopped_after_wave"]'); [ "$got" = "$stopped" ] && ok "$id: stopped after wave $got" || fail "$id: stopped after wave $got, want $stopped"
	got=$(fleet_record "$id" 'r["not_started"]'); [ "$got" = "$notstarted" ] && ok "$id: not started [$got]" || fail "$id: not started [$got], want [$notstarted]"
	got=$(fleet_record "$id" '[x["host"] for x in r["rolled_back"]]'); [ "$got" = "$rolled" ] && ok "$id: rolled back [$got]" || fail "$id: rolled back [$got], want [$rolled]"
	got=$(fleet_record "$id" '[x["host"] for x in r["failed"]]'); [ "$got" = "h$host" ] && ok "$id: failed [$got]" || fail "$id: failed [$got], want [h$host]"
	got=$(fleet_channel_version); [ "$got" = "$want_chan" ] && ok "$id: channel on $got" || fail "$id: channel on $got, want $want_chan"
	fleet_play status.yml
	[ "$PLAY_RC" -eq 0 ] || { fail "$id: status.yml exit $PLAY_RC"; return; }
	cp "$FLEET_DIR/records/dashboard.html" "$ART/$id.html"
	fleet_browser "$FLEET_DIR/records/dashboard.html" "$ART/$id" || { fail "$id: chromium"; return; }
	"$BED_PYTHON" -S "$FLEET_HOME/check_dashboard.py" "$ART/$id.dom.html" "channel=$want_chan" "$@" || FLEET_FAILS=$((FLEET_FAILS + 1))
	mark "$id: checks, dashboard"
}

# explicit wave sizes 1,2 (then 2, 1): h3 fails in wave 2, no failure is allowed
extra "1,2" waves-1-2-validate 3 2 failed 2 "h4 h5 h6" "h1 h2" "rb rb self none none none" v1 \
	versions=v1:6 state=h3:failed state=h1:ok "rollout=failed:2"
# one-at-a-time keeps N-1 healthy: only the last host failing is within the allowance (as CodeDeploy)
extra one-at-a-time one-at-a-time-last-host 6 0 succeeded None "" "" "kept kept kept kept kept self" v2 \
	versions=v1:1,v2:5 state=h6:failed state=h5:ok hostversion=h6:v1 "rollout=succeeded:"

# the minimum healthy time: h3 answers the first probe, then fails while it must stay healthy
scenario all-at-once later

echo "=== a host started after a halted rollout"
fleet_reset v1
fleet_make_fail 2 validate v2
fleet_play rollout.yml -e version=v2 -e mode=half-at-a-time -e rollout_id=late-host
[ "$PLAY_RC" -eq 2 ] && ok "rollout halted" || fail "rollout exit $PLAY_RC, want 2"
mkdir -p "$(fleet_hostdir 7)"
cp "$FLEET_DIR/user-data.channel" "$(fleet_hostdir 7)/user-data"
fleet_add_host 7 || fail "host 7 did not start"
fleet_trust 7 || fail "host 7: trusted key"
fleet_exec 7 "$HOIST_BUILD_DIR/agent/hoist-boot" >"$FLEET_DIR/h7.log" 2>&1 || { fail "h7 boot"; cat "$FLEET_DIR/h7.log" >&2; }
[ "$(fleet_current 7)" = v1 ] && ok "h7 booted into v1 (the channel's release after the halt)" || fail "h7 on $(fleet_current 7), want v1"
[ "$(fleet_served 7)" = v1 ] && ok "h7 serves v1" || fail "h7 serves '$(fleet_served 7)'"

echo "=== the SSM document's script converges a host (h7) to the channel's new release"
fleet_promote v2
python3 "$FLEET_HOME/check_ssm.py" "$HOIST_SOURCE_DIR/fleet/ssm" --render Action=converge \
	HoistBoot="$HOIST_BUILD_DIR/agent/hoist-boot" Hoist="$HOIST_BUILD_DIR/agent/hoist" >"$FLEET_DIR/ssm.sh"
if fleet_exec 7 sh "$FLEET_DIR/ssm.sh" >"$FLEET_DIR/ssm.log" 2>&1; then ok "SSM script exit 0"; else fail "SSM script failed"; cat "$FLEET_DIR/ssm.log" >&2; fi
[ "$(fleet_current 7)" = v2 ] && ok "h7 on v2 after the SSM script" || fail "h7 on $(fleet_current 7) after the SSM script"
grep -q '"current": "v2"' "$FLEET_DIR/ssm.log" && ok "the script printed hoist status" || fail "no status in the SSM script's output"

[ "$FLEET_FAILS" -eq 0 ] && echo "PASS" || echo "FAILED: $FLEET_FAILS check(s)"
[ "$FLEET_FAILS" -eq 0 ]
