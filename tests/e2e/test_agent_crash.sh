#!/usr/bin/env bash
# kill -9 of the agent at several points of a deployment; the next `hoist recover`
# (or the next deploy) must leave exactly one whole revision installed.
# The kills come from the bundle's own hook scripts (`kill -9 $PPID`: a hook's
# parent is the agent), or from outside while Install writes files: no test code
# in the product.
. "$(dirname "$0")/agent_lib.sh"

# crash_src NAME EVENT: a sample bundle with one extra file whose EVENT script kills the agent.
crash_src() {
	local d script
	d=$(make_src "$1")
	echo "only in $1" >"$d/app/only-$1.txt"
	case $2 in
	BeforeInstall) script=before_install.sh ;;
	AfterInstall) script=after_install.sh ;;
	ApplicationStart) script=start.sh ;;
	esac
	sed -i "s#^\\. \"\$(dirname \"\$0\")/common.sh\"\$#&\\nkill -9 \$PPID; exit 1#" "$d/scripts/$script"
	grep -q 'kill -9 \$PPID' "$d/scripts/$script" || fail "could not plant the kill in $script"
	echo "$d"
}

# deploy_killed NAME SRC: deploys and expects the agent to die by SIGKILL.
deploy_killed() {
	run_expect 137 hoist deploy --bundle "$2" --version "$1"
	[ -e "$STATE/journal" ] || fail "$1: no journal after the crash"
	[[ "$(hoist status)" == *"interrupted"* ]] || fail "$1: status does not report the interruption"
}

for point in BeforeInstall AfterInstall ApplicationStart; do
	echo "== crash at $point"
	new_root
	run_expect 0 hoist deploy --bundle "$(make_tgz v1)" --version v1
	deploy_killed v2 "$(crash_src v2 "$point")"
	run_expect 0 hoist recover
	grep -q "found interrupted deploy" "$WORK/err" || fail "recover did not report the interrupted deployment"
	assert_whole v1
	[ "$(status_get 's["result"] + " " + s["kind"] + " " + s["version"]')" = "recovered recover v1" ] ||
		fail "status after recovery: $(status_get 's["result"]')"
	page | grep -q "version v1<" || fail "v1 service not running after recovery"
	run_expect 0 hoist recover
	grep -q "nothing to recover" "$WORK/out" || fail "second recover found something"
done

echo "== crash at AfterInstall, recovered by the next deploy"
new_root
run_expect 0 hoist deploy --bundle "$(make_tgz v1)" --version v1
deploy_killed v2 "$(crash_src v2 AfterInstall)"
run_expect 0 hoist deploy --bundle "$(make_tgz v3)" --version v3
grep -q "found interrupted deploy" "$WORK/err" || fail "deploy did not recover first"
assert_whole v3
page | grep -q "version v3<" || fail "v3 service not running"

echo "== crash on a first deploy (no last good revision)"
new_root
deploy_killed v1 "$(crash_src v1 AfterInstall)"
run_expect 0 hoist recover
[ -z "$(find "$ROOT/opt" -type f 2>/dev/null)" ] || fail "files of the interrupted first deploy remain"
[ ! -e "$STATE/current" ] && [ ! -e "$STATE/installed" ] && [ ! -e "$STATE/journal" ] ||
	fail "records remain after recovering a first deploy"
[[ "$(status_get 's["error"]')" == *"no revision is installed"* ]] || fail "status does not say the host is empty"

echo "== journals written by hand: completed deployment vs. a redeploy of the same version"
new_root
run_expect 0 hoist deploy --bundle "$(make_tgz v1)" --version v1
id=$(sed -n 's/^deployment_id=//p' "$STATE/current")
events=$(wc -l <"$ROOT/var/lib/hoist-sample/events.log")
# The agent died after recording success but before removing its journal.
printf 'hoist-journal 1\nid %s\nkind deploy\nversion v1\ninstalled -\nlast_good -\nbegin BeforeInstall 1\nbegin Install 2\nend Install ok 3\nbegin ValidateService 4\n' \
	"$id" >"$STATE/journal"
run_expect 0 hoist recover
[ "$(status_get 's["result"]')" = succeeded ] || fail "a completed deployment was not recognised"
[ "$(wc -l <"$ROOT/var/lib/hoist-sample/events.log")" = "$events" ] || fail "hooks ran for a completed deployment"
assert_whole v1
# Another deployment of the same version died after Install: it must be redone, not taken as complete.
printf 'hoist-journal 1\nid d-OTHER0000\nkind deploy\nversion v1\ninstalled v1\nlast_good v1\nbegin ApplicationStop 1\nbegin Install 2\nend Install ok 3\nbegin ApplicationStart 4\n' \
	>"$STATE/journal"
run_expect 0 hoist recover
[ "$(status_get 's["result"]')" = recovered ] || fail "an interrupted redeploy was taken as complete"
grep -q "ApplicationStart v1 started" <(tail -n +"$((events + 1))" "$ROOT/var/lib/hoist-sample/events.log") ||
	fail "the service was not restarted by the recovery"
assert_whole v1
# A journal that is not one is an error, not a silent discard.
echo "garbage" >"$STATE/journal"
run_expect 11 hoist recover
grep -q "not a hoist journal" "$WORK/err" || fail "bad journal message: $(cat "$WORK/err")"
rm "$STATE/journal"

echo "== crash in the middle of Install (killed from outside)"
new_root
run_expect 0 hoist deploy --bundle "$(make_tgz v1)" --version v1
big=$(make_src big)
mkdir -p "$big/app/many"
for i in $(seq 1 2500); do echo "file $i" >"$big/app/many/f$i.txt"; done
bb=$(make_tgz big "$big")
"$H" --root "$ROOT" deploy --bundle "$bb" --version big >"$WORK/out" 2>"$WORK/err" &
agent=$!
PIDS+=("$agent")
partial="$STATE/revisions/big/installed.partial"
# The installed list is written whole before the first file: wait for the files.
for _ in $(seq 1 3000); do
	if [ "$(ls "$ROOT/opt/hoist-sample/many" 2>/dev/null | wc -l)" -gt 100 ]; then break; fi
	sleep 0.01
done
kill -9 "$agent" 2>/dev/null || true
wait "$agent" 2>/dev/null || true
if grep -q "^begin Install" "$STATE/journal" 2>/dev/null && ! grep -q "^end Install" "$STATE/journal"; then
	echo "killed with Install half done ($(ls "$ROOT/opt/hoist-sample/many" | wc -l) of 2500 files written, $(wc -l <"$partial") entries recorded ahead)"
	[ -n "$(find "$ROOT/opt/hoist-sample/many" -type f 2>/dev/null | head -1)" ] || fail "no partial files to recover"
else
	echo "note: Install was not caught half done (journal: $(tail -1 "$STATE/journal" 2>/dev/null))"
fi
run_expect 0 hoist recover
assert_whole v1
page | grep -q "version v1<" || fail "v1 service not running after the mid-Install recovery"

# plant_wait SRC TRAP: AfterInstall of SRC runs TRAP on SIGTERM, says it started, then waits 60 s.
plant_wait() {
	sed -i "s#^\\. \"\$(dirname \"\$0\")/common.sh\"\$#&\\ntrap '$2' TERM; echo started >\"\$R/hook-started\"; i=0; while [ \$i -lt 600 ]; do sleep 0.1; i=\$((i + 1)); done#" \
		"$1/scripts/after_install.sh"
	grep -q "hook-started" "$1/scripts/after_install.sh" || fail "could not plant the wait in after_install.sh"
}

# term_during_hook VERSION SRC: deploys in the background, sends SIGTERM to hoist alone once the
# hook started, expects hoist to die of it (143) with the journal kept.
term_during_hook() {
	"$H" --root "$ROOT" deploy --bundle "$(make_tgz "$1" "$2")" --version "$1" >"$WORK/out" 2>"$WORK/err" &
	agent=$!
	PIDS+=("$agent")
	for _ in $(seq 1 3000); do [ -f "$ROOT/hook-started" ] && break; sleep 0.01; done
	[ -f "$ROOT/hook-started" ] || fail "the slow hook never started: $(cat "$WORK/err")"
	kill -TERM "$agent"
	rc=0
	wait "$agent" || rc=$?
	[ "$rc" -eq 143 ] || fail "hoist exited $rc after SIGTERM, want 143 (died of SIGTERM)"
	[ -e "$STATE/journal" ] || fail "no journal after SIGTERM"
}

echo "== SIGTERM to hoist while a hook runs (systemctl stop; the unit signals hoist alone)"
new_root
run_expect 0 hoist deploy --bundle "$(make_tgz v1)" --version v1
slow=$(make_src slow)
# On SIGTERM the hook says so on its output (a dead reader would kill it with SIGPIPE: hoist
# must still be reading), records it and exits. hoist dies only after the hook ended, so the
# file is there when hoist's exit is seen: no waiting.
plant_wait "$slow" 'echo cleaning up after TERM; echo got-TERM >"$R/hook-signal"; exit 1'
term_during_hook slow "$slow"
[ "$(cat "$ROOT/hook-signal" 2>/dev/null)" = got-TERM ] || fail "the running hook did not get the SIGTERM"
grep -q "cleaning up after TERM" "$WORK/err" || fail "the hook's output after SIGTERM was not logged"
grep -q "stopped by signal 15" "$WORK/err" || fail "hoist did not say why it stopped"
run_expect 0 hoist recover
assert_whole v1

echo "== SIGTERM while a hook that ignores it runs: SIGKILL to its group after hook_grace_s"
new_root
mkdir -p "$ROOT/etc/hoist"
printf 'hook_grace_s = 1\n' >"$ROOT/etc/hoist/hoist.conf"
run_expect 0 hoist deploy --bundle "$(make_tgz v1)" --version v1
deaf=$(make_src deaf)
plant_wait "$deaf" ''
term_during_hook deaf "$deaf"
grep -q "sending SIGKILL to its process group" "$WORK/err" || fail "the deaf hook was not killed: $(tail -3 "$WORK/err")"
pgrep -f "revisions/deaf/tree/scripts/after_install.sh" >/dev/null && fail "the deaf hook outlived hoist"
run_expect 0 hoist recover
assert_whole v1

# gone PID: the process is gone (or a zombie waiting for its reaper). One read of its stat: a
# test of /proc/PID followed by a read of /proc/PID/stat would call a zombie reaped between the
# two "running" (the state field follows the last ')': comm may hold spaces).
gone() {
	local st
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	[ -n "$st" ] || return 0
	st=${st##*) }
	case ${st%% *} in Z | X) return 0 ;; *) return 1 ;; esac
}

# wait_gone PID: waits up to 10 s for PID to be gone. A SIGKILLed process runs no more code,
# but may take a moment to finish dying. Once gone it stays gone, so the loop's answer is
# final (asking again could only add races).
wait_gone() {
	for _ in $(seq 1 1000); do
		gone "$1" && return 0
		sleep 0.01
	done
	return 1
}

# A hoist killed while its hook runs leaves the hook running; recovery must end it (TERM, then
# KILL after hook_grace_s) before it runs hooks of its own.
for variant in handles-TERM ignores-TERM; do
	echo "== hoist killed during ApplicationStart; the hook $variant; recovery ends it first"
	new_root
	mkdir -p "$ROOT/etc/hoist"
	# Room for the TERM trap to finish on a loaded machine; the deaf one is killed after 1 s.
	printf 'hook_grace_s = %s\n' "$([ $variant = handles-TERM ] && echo 30 || echo 1)" >"$ROOT/etc/hoist/hoist.conf"
	run_expect 0 hoist deploy --bundle "$(make_tgz v1)" --version v1
	orphan=$(make_src orphan)
	if [ $variant = handles-TERM ]; then trap_cmd="note got-TERM; exit 1"; else trap_cmd=""; fi
	# Its output goes to a file: the pipe to the killed hoist has no reader (a write would be SIGPIPE).
	sed -i "s#^\\. \"\$(dirname \"\$0\")/common.sh\"\$#&\\nexec >>\"\$RUNDIR/orphan.out\" 2>\&1; trap '$trap_cmd' TERM; echo \$\$ >\"\$R/hook-pid\"; i=0; while [ \$i -lt 300 ]; do sleep 0.1; i=\$((i + 1)); done; note orphan-finished#" \
		"$orphan/scripts/start.sh"
	grep -q "orphan-finished" "$orphan/scripts/start.sh" || fail "could not plant the wait in start.sh"
	"$H" --root "$ROOT" deploy --bundle "$(make_tgz orphan "$orphan")" --version orphan >"$WORK/out" 2>"$WORK/err" &
	agent=$!
	PIDS+=("$agent")
	for _ in $(seq 1 3000); do [ -s "$ROOT/hook-pid" ] && break; sleep 0.01; done
	[ -s "$ROOT/hook-pid" ] || fail "the hook never started: $(cat "$WORK/err")"
	hook=$(cat "$ROOT/hook-pid")
	PIDS+=("$hook")
	grep -q "^hook $hook " "$STATE/journal" || fail "the journal does not record the hook's group: $(cat "$STATE/journal")"
	kill -KILL "$agent"
	wait "$agent" 2>/dev/null || true
	gone "$hook" && fail "the hook did not outlive the killed hoist (nothing to test)"
	run_expect 0 hoist recover
	wait_gone "$hook" || fail "the orphaned hook still runs after recovery: $(cat "/proc/$hook/stat" 2>/dev/null)"
	grep -q "still run; sending SIGTERM" "$WORK/err" || fail "recovery did not say it ended the hook"
	if [ $variant = ignores-TERM ]; then
		grep -q "sending SIGKILL" "$WORK/err" || fail "recovery did not escalate to SIGKILL"
	else
		grep -q "ApplicationStart orphan got-TERM" "$ROOT/var/lib/hoist-sample/events.log" || fail "the hook did not get SIGTERM"
	fi
	# The orphan ended before recovery's own hooks ran: its line (if any) precedes ApplicationStop's.
	awk '/got-TERM|orphan-finished/ { o = NR } /ApplicationStop orphan/ { s = NR } END { exit !(o == 0 || s == 0 || o < s) }' \
		"$ROOT/var/lib/hoist-sample/events.log" || fail "the orphan ran on after recovery's ApplicationStop"
	grep -q "orphan-finished" "$ROOT/var/lib/hoist-sample/events.log" && fail "the orphaned hook finished its work"
	assert_whole v1
	page | grep -q "version v1<" || fail "v1 not running after recovery"
done
# hoist killed between forking a hook and writing its journal line: the hook must never run
# (it waits at a start gate that only opens after the line is written; hookspawn.h), so no
# hook runs that recovery cannot know of. strace holds hoist for 5 s on its way back from
# the fork (delay_exit on the first clone: the first hook, BeforeInstall, on a fresh root);
# the test kills it there. The old product ran the script at once, unrecorded.
echo "== hoist killed between a hook's fork and its journal line"
new_root
gate=$(make_src gate)
sed -i "s#^\\. \"\$(dirname \"\$0\")/common.sh\"\$#&\\n: >\"\$R/gate-script-ran\"#" "$gate/scripts/before_install.sh"
grep -q "gate-script-ran" "$gate/scripts/before_install.sh" || fail "could not plant the note in before_install.sh"
tgz=$(make_tgz gate "$gate") # before: a child of the background command would be taken for hoist
strace -o /dev/null -e trace=clone,clone3 -e inject=clone,clone3:delay_exit=5000000:when=1 \
	"$H" --root "$ROOT" deploy --bundle "$tgz" --version gate >"$WORK/out" 2>"$WORK/err" &
tracer=$!
PIDS+=("$tracer")
agent="" hook=""
for _ in $(seq 1 3000); do
	agent=$(cat "/proc/$tracer/task/$tracer/children" 2>/dev/null) || true
	agent=${agent%% *}
	[ -n "$agent" ] && hook=$(cat "/proc/$agent/task/$agent/children" 2>/dev/null) || true
	hook=${hook%% *}
	[ -n "$hook" ] && break
	sleep 0.01
done
[ -n "$hook" ] || fail "hoist never forked its first hook: $(cat "$WORK/err")"
PIDS+=("$agent" "$hook")
grep -q "^hook " "$STATE/journal" 2>/dev/null && fail "the journal has a hook line already (nothing to test)"
kill -KILL "$agent"
wait "$tracer" 2>/dev/null || true
wait_gone "$hook" || fail "the hook child still waits after its hoist was killed: $(cat "/proc/$hook/stat" 2>/dev/null)"
sleep 1 # time the script would need to run, were it released
[ -e "$ROOT/gate-script-ran" ] && fail "the hook's script ran though its journal line was never written"
run_expect 0 hoist recover
[ -e "$ROOT/opt/hoist-sample" ] && fail "recovery left files of the interrupted first deploy"
echo "ok"
