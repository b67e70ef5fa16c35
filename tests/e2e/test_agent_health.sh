#!/usr/bin/env bash
# Health checks (hoist.yml) end to end with the sample application: a check that
# passes after retries (a service that comes up late), a service that flaps inside
# min_healthy_time (fails, rolls back), one that never answers (deadline, rolls
# back), a malformed hoist.yml (precise error, nothing deployed); hoist restart;
# hoist history.
. "$(dirname "$0")/agent_lib.sh"

# start_server VAR MODE [N]: a scripted server on a free port, its port in VAR (not in a
# subshell, so that its pid reaches PIDS and the EXIT trap stops it).
start_server() {
	local port fifo="$WORK/ready-$RANDOM"
	port=$(free_port)
	mkfifo "$fifo"
	python3 "$SRC/tests/e2e/health_server.py" "$2" "$port" "${3:-0}" >"$fifo" &
	PIDS+=($!)
	disown $! # no "Killed" notice when the EXIT trap stops it
	read -r _ <"$fifo"
	rm -f "$fifo"
	printf -v "$1" '%s' "$port"
}

# with_health NAME YAML: the sample bundle with hoist.yml = YAML; prints the directory.
with_health() {
	local d
	d=$(make_src "$1")
	printf '%s' "$2" >"$d/hoist.yml"
	echo "$d"
}

# v1: the sample service must answer (http), listen (tcp), and a command check that
# fails twice before it passes (a dependency that comes up late).
s1=$(with_health v1 "version: 1
health_checks:
  min_healthy_time: 300ms
  deadline: 30s
  checks:
    - name: web
      type: http
      url: http://127.0.0.1:$PORT/
      expect_body: version v1
      interval: 100ms
      timeout: 2s
    - {name: port, type: tcp, port: $PORT, interval: 100ms}
    - name: late
      type: command
      argv: [scripts/late.sh, '3']
      interval: 50ms
      retries: 5
")
cat >"$s1/scripts/late.sh" <<'SH'
#!/bin/sh
# Passes from the $1-th call on (its count kept under the root prefix).
f="$HOIST_ROOT/var/lib/hoist-sample/late-count"
n=$(( $(cat "$f" 2>/dev/null || echo 0) + 1 ))
echo "$n" >"$f"
[ "$n" -ge "$1" ] || { echo "not up yet (call $n)"; exit 1; }
echo "up (call $n)"
SH
chmod +x "$s1/scripts/late.sh"
run_expect 0 hoist deploy --bundle "$s1" --version v1
[ "$(status_get 's["health"]["result"]')" = passed ] || fail "v1 health not passed"
[ "$(status_get '[c["name"] + ":" + c["result"] for c in s["health"]["checks"]]')" = \
  "['web:passed', 'port:passed', 'late:passed']" ] || fail "v1 checks: $(status_get 's["health"]')"
late_attempts=$(status_get '[c for c in s["health"]["checks"] if c["name"] == "late"][0]["attempts"]')
[ "$late_attempts" -ge 3 ] || fail "late check passed after $late_attempts attempts, expected >= 3"
[ "$(status_get '[c for c in s["health"]["checks"] if c["name"] == "late"][0]["last_error"]')" = \
  "scripts/late.sh exited with status 1: not up yet (call 2)" ] ||
	fail "late check last error: $(status_get 's["health"]["checks"][2]')"
[ "$(status_get 's["health"]["min_healthy_time_s"]')" = 0.3 ] || fail "min_healthy_time_s"
[ "$(status_get '[x["event"] for x in s["steps"]][-1]')" = HealthCheck ] || fail "no HealthCheck step"
hoist status >"$WORK/st.txt"
grep -q "health checks passed" "$WORK/st.txt" || fail "text status lacks the health checks"
grep -Eq "late +command passed +[0-9]+ attempts" "$WORK/st.txt" || fail "text status lacks the late check"
run_expect 0 hoist validate "$s1"
grep -q "ok: hoist.yml: 3 health checks" "$WORK/out" || fail "validate does not check hoist.yml"
run_expect 0 hoist validate "$s1/hoist.yml"
grep -q "ok: $s1/hoist.yml: 3 health checks" "$WORK/out" || fail "validate of a lone hoist.yml: $(cat "$WORK/out")"

# v2 flaps: its endpoint answers twice, then fails inside min_healthy_time -> rollback to v1.
start_server flap flap 2
s2=$(with_health v2 "version: 1
health_checks:
  min_healthy_time: 10s
  checks:
    - {name: api, type: http, url: 'http://127.0.0.1:$flap/health', interval: 100ms, timeout: 1s}
")
run_expect 13 hoist deploy --bundle "$s2" --version v2
[ "$(status_get 's["result"] + " " + s["failed_event"]')" = "rolled-back HealthCheck" ] ||
	fail "v2: $(status_get 's["result"] + " " + str(s["failed_event"])')"
[ "$(status_get 's["health"]["result"] + " " + s["health"]["checks"][0]["result"]')" = "failed failed" ] ||
	fail "v2 health: $(status_get 's["health"]')"
[ "$(status_get 's["health"]["checks"][0]["attempts"]')" = 3 ] || fail "v2 attempts"
[[ "$(status_get 's["error"]')" == *"health check api failed"*"before min_healthy_time (10000ms)"*"answered 500"* ]] ||
	fail "v2 error: $(status_get 's["error"]')"
[ "$(status_get 's["rollback"]["result"] + " " + s["rollback"]["version"]')" = "succeeded v1" ] ||
	fail "v2 rollback"
page | grep -q "version v1<" || fail "service does not answer v1 after the rollback"
assert_whole v1

# v3 never answers: every attempt times out; the deadline ends it -> rollback to v1.
start_server silent silent
s3=$(with_health v3 "version: 1
health_checks:
  deadline: 1500ms
  checks:
    - {name: silent, type: http, url: 'http://127.0.0.1:$silent/', interval: 100ms, timeout: 400ms, retries: 1000}
")
run_expect 13 hoist deploy --bundle "$s3" --version v3
[[ "$(status_get 's["error"]')" == *"deadline of 1500ms passed; not healthy: silent"* ]] ||
	fail "v3 error: $(status_get 's["error"]')"
[[ "$(status_get 's["health"]["checks"][0]["last_error"]')" == *"timed out"* ]] ||
	fail "v3 last error: $(status_get 's["health"]["checks"][0]["last_error"]')"
assert_whole v1

# v4: a malformed hoist.yml is refused before anything runs (exit 12, FILE:LINE:COL).
s4=$(with_health v4 "version: 1
health_checks:
  checks:
    - {name: web, type: http, url: 'http://127.0.0.1:$PORT/', intervall: 1s}
")
pid_before=$(cat "$ROOT/var/lib/hoist-sample/server.pid")
events_before=$(wc -l <"$ROOT/var/lib/hoist-sample/events.log")
run_expect 12 hoist deploy --bundle "$s4" --version v4
grep -Eq "revision v4: hoist.yml:4:[0-9]+: health_checks.checks\[0\]: unknown key 'intervall'" "$WORK/err" ||
	fail "malformed hoist.yml message: $(cat "$WORK/err")"
[ "$(wc -l <"$ROOT/var/lib/hoist-sample/events.log")" = "$events_before" ] || fail "a hook ran for v4"
[ "$(cat "$ROOT/var/lib/hoist-sample/server.pid")" = "$pid_before" ] || fail "the service was restarted for v4"
assert_whole v1
run_expect 12 hoist validate "$s4"
grep -Eq "hoist.yml:4:[0-9]+: health_checks.checks\[0\]: unknown key 'intervall'" "$WORK/err" || fail "validate: $(cat "$WORK/err")"

# hoist restart: stop and start v1 again (a new server pid), validate, health checks; no Install.
run_expect 0 hoist restart
[ "$(cat "$ROOT/var/lib/hoist-sample/server.pid")" != "$pid_before" ] || fail "restart did not restart"
[ "$(status_get 's["kind"] + " " + s["version"] + " " + s["result"]')" = "restart v1 succeeded" ] ||
	fail "restart status"
[ "$(status_get '[x["event"] for x in s["steps"]]')" = \
  "['ApplicationStop', 'ApplicationStart', 'ValidateService', 'HealthCheck']" ] ||
	fail "restart steps: $(status_get '[x["event"] for x in s["steps"]]')"
[ "$(status_get 's["health"]["result"]')" = passed ] || fail "restart health"
assert_whole v1

# A failed restart (ValidateService fails) exits 14, rolls nothing back, keeps the records.
touch "$STATE/revisions/v1/tree/FAIL_VALIDATE"
run_expect 14 hoist restart
[ "$(status_get 's["kind"] + " " + s["result"] + " " + s["failed_event"] + " " + str(s["rollback"])')" = \
  "restart failed ValidateService None" ] || fail "failed restart status"
[ "$(status_get 's["current"] + " " + s["last_good"]')" = "v1 v1" ] || fail "records after a failed restart"
[ ! -e "$STATE/journal" ] || fail "journal left after a failed restart"
rm "$STATE/revisions/v1/tree/FAIL_VALIDATE"
run_expect 0 hoist restart
assert_whole v1

# Killed during its health checks: the next run recovers, and the history says interrupted.
s5=$(with_health v5 "version: 1
health_checks:
  checks:
    - {name: hang, type: command, argv: [scripts/hang.sh], timeout: 60s}
")
cat >"$s5/scripts/hang.sh" <<'SH'
#!/bin/sh
echo $$ >"$HOIST_ROOT/var/lib/hoist-sample/hang.pid"
exec sleep 60
SH
chmod +x "$s5/scripts/hang.sh"
rm -f "$ROOT/var/lib/hoist-sample/hang.pid"
"$H" --root "$ROOT" deploy --bundle "$s5" --version v5 >"$WORK/v5.out" 2>&1 &
hpid=$!
PIDS+=($hpid)
for _ in $(seq 300); do [ -s "$ROOT/var/lib/hoist-sample/hang.pid" ] && break; sleep 0.1; done
[ -s "$ROOT/var/lib/hoist-sample/hang.pid" ] || fail "the v5 health check never started"
kill -KILL "$hpid"
wait "$hpid" 2>/dev/null || true
kill -KILL "$(cat "$ROOT/var/lib/hoist-sample/hang.pid")" 2>/dev/null || true
grep -q "^begin HealthCheck" "$STATE/journal" || fail "journal does not name HealthCheck"
run_expect 0 hoist recover
assert_whole v1

# History: every run above, newest first, in the documented shape.
hoist history --json >"$WORK/h.json"
python3 - "$WORK/h.json" <<'PY' || fail "history"
import json, re, sys
h = json.load(open(sys.argv[1]))["deployments"]
got = [(d["kind"], d["version"], d["result"], d["failed_step"], d["rolled_back_to"]) for d in h]
want = [("recover", "v1", "succeeded", None, None),
        ("deploy", "v5", "interrupted", "HealthCheck", None),
        ("restart", "v1", "succeeded", None, None),
        ("restart", "v1", "failed", "ValidateService", None),
        ("restart", "v1", "succeeded", None, None),
        ("deploy", "v4", "refused", None, None),
        ("rollback", "v1", "succeeded", None, None),
        ("deploy", "v3", "rolled-back", "HealthCheck", "v1"),
        ("rollback", "v1", "succeeded", None, None),
        ("deploy", "v2", "rolled-back", "HealthCheck", "v1"),
        ("deploy", "v1", "succeeded", None, None)]
assert got == want, got
rfc = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
for d in h:
    if d["result"] == "interrupted":
        assert d["finished"] is None, d
        d = dict(d, finished=d["started"])
    assert set(d) >= {"id", "version", "kind", "result", "started", "finished", "failed_step", "steps",
                      "output_tail", "rolled_back_to"}, d.keys()
    assert rfc.match(d["started"]) and rfc.match(d["finished"]), d
    for s in d["steps"]:
        assert set(s) == {"name", "result", "started", "duration_ms"}, s
v3 = [d for d in h if d["version"] == "v3"][0]
assert [s["name"] for s in v3["steps"]][-1] == "HealthCheck"
assert v3["health"]["result"] == "failed"
assert [d for d in h if d["result"] == "failed"][0]["output_tail"].find("FAIL_VALIDATE") >= 0
PY
hoist history >"$WORK/h.txt"
[ "$(grep -c '^20' "$WORK/h.txt")" = 11 ] || fail "text history: $(cat "$WORK/h.txt")"
grep -q "deploy   v2 .*rolled-back .*at HealthCheck, rolled back to v1" "$WORK/h.txt" || fail "text history v2"
# libcurl is loaded only for an http check (agent/deploy/health/healthcurl.h): a library
# found in its place that is not libcurl fails an http check before anything is touched
# (exit 3, naming what is missing), while a bundle without one never loads it.
! ldd "$H" | grep -q 'libcurl' || fail "hoist links libcurl: $(ldd "$H" | grep libcurl)"
mkdir -p "$WORK/fakecurl"
echo 'int hoist_not_curl(void) { return 0; }' >"$WORK/fakecurl/c.c"
cc -shared -fPIC -o "$WORK/fakecurl/libcurl.so.4" "$WORK/fakecurl/c.c"
s5=$(with_health v5 "version: 1
health_checks:
  checks:
    - {name: port, type: tcp, port: $PORT, interval: 100ms}
")
run_expect 0 env LD_LIBRARY_PATH="$WORK/fakecurl" "$H" --root "$ROOT" validate "$s5"
run_expect 3 env LD_LIBRARY_PATH="$WORK/fakecurl" "$H" --root "$ROOT" validate "$s1"
grep -q "hoist.yml: check web: the libcurl.so.4 found lacks curl_global_init" "$WORK/err" ||
	fail "validate without libcurl: $(cat "$WORK/err")"
run_expect 3 env LD_LIBRARY_PATH="$WORK/fakecurl" "$H" --root "$ROOT" deploy --bundle "$s1" --version v6
[ "$(status_get '[s["current"], s["last_good"], [x["event"] for x in s["steps"]]]')" = \
  "['v1', 'v1', ['DownloadBundle']]" ] || fail "a deploy refused for want of libcurl went on: $(hoist status)"
grep -q "revision v6: hoist.yml: check web: the libcurl.so.4 found lacks" "$WORK/err" || fail "deploy: $(cat "$WORK/err")"
echo "ok"
