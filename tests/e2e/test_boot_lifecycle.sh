#!/usr/bin/env bash
# hoist-boot completes the Auto Scaling launch lifecycle hook through the bed's
# Auto Scaling emulator (SigV4 and parameters checked, calls recorded): CONTINUE
# after a validated deployment and when the release is already in place, ABANDON
# after a rolled-back failure, heartbeats while a deployment outlasts the
# heartbeat interval, a refused call logged without changing the result; the
# agent as a child gets no socket, its exit code and SIGTERM pass through.
set -u
# shellcheck source=/dev/null
source "$HOIST_SOURCE_DIR/tests/e2e/boot_lib.sh"
# shellcheck source=/dev/null
source "$HOIST_SOURCE_DIR/tests/bed/bed.sh"
trap 'bed_stop; rm -rf -- "$T"' EXIT
bed_start || exit 1
bed_asg_start || exit 1
HOIST=$HOIST_BUILD_DIR/agent/hoist
GROUP=web-asg
HOOK=launch-hook

cat >"$ROOT/etc/hoist/hoist.conf" <<EOF
autoscaling_endpoint = $BED_ASG_ENDPOINT
lifecycle_heartbeat_s = 1
EOF
curl -sS -f -o /dev/null -H 'Content-Type: application/json' \
	--data-binary "{\"target_lifecycle_state\": \"InService\", \"tags\": {\"aws:autoscaling:groupName\": \"$GROUP\"}}" \
	"$BED_IMDS_ENDPOINT/_emulator/autoscaling" || exit 1

# A pending launch lifecycle action for this instance.
pending() { bed_asg_ctl actions "{\"group\": \"$GROUP\", \"hook\": \"$HOOK\", \"instance_id\": \"$BED_INSTANCE_ID\"}"; }
# The state of the last lifecycle action ("pending", "CONTINUE", "ABANDON") and its heartbeats.
last_action() { curl -sS "$BED_ASG_ENDPOINT/_asg/actions" | "$BED_PYTHON" -c "import json,sys; print(json.load(sys.stdin)[-1]['$1'])"; }
calls() { curl -sS "$BED_ASG_ENDPOINT/_asg/calls" | "$BED_PYTHON" -c "import json,sys; print(sum(1 for c in json.load(sys.stdin) if c['action'] == '$1'))"; }
boot_version() {
	local v=$1
	shift
	directive "version=$v" "bundle=s3://$BED_BUCKET/releases/$v.tgz" "lifecycle_hook=$HOOK" "$@"
	bed_set_user_data "$T/ud"
}
run_real() { run_boot --agent "$HOIST"; }

# 0. The emulator checks signatures and parameters: botocore's client with the role's
# credentials is accepted; the same call signed with a wrong secret, with a result
# other than CONTINUE|ABANDON, or without an instance id or token is not.
pending
"$BED_PYTHON" - "$BED_ASG_ENDPOINT" "$GROUP" "$HOOK" "$BED_INSTANCE_ID" >"$T/sdk" 2>&1 <<'PY'
import sys, boto3, botocore.exceptions, os
ep, group, hook, inst = sys.argv[1:]
def client(secret):
    return boto3.client("autoscaling", region_name=os.environ["BED_REGION"], endpoint_url=ep,
                        aws_access_key_id=os.environ["BED_ROLE_ACCESS_KEY_ID"],
                        aws_secret_access_key=secret,
                        aws_session_token=os.environ["BED_ROLE_SESSION_TOKEN"])
try:
    client("wrong" + os.environ["BED_ROLE_SECRET_ACCESS_KEY"]).record_lifecycle_action_heartbeat(
        LifecycleHookName=hook, AutoScalingGroupName=group, InstanceId=inst)
    print("wrong secret accepted")
except botocore.exceptions.ClientError as e:
    print("wrong secret:", e.response["Error"]["Code"])
good = client(os.environ["BED_ROLE_SECRET_ACCESS_KEY"])
for kw in ({"LifecycleActionResult": "MAYBE", "InstanceId": inst}, {"LifecycleActionResult": "CONTINUE"}):
    try:
        good.complete_lifecycle_action(LifecycleHookName=hook, AutoScalingGroupName=group, **kw)
        print("bad parameters accepted:", kw)
    except botocore.exceptions.ClientError as e:
        print("bad parameters:", e.response["Error"]["Code"])
good.complete_lifecycle_action(LifecycleHookName=hook, AutoScalingGroupName=group, InstanceId=inst,
                               LifecycleActionResult="CONTINUE")
print("sdk: CONTINUE accepted")
PY
grep -q "wrong secret: SignatureDoesNotMatch" "$T/sdk" && ok "emulator refuses a wrong signature" || fail "emulator signature check: $(cat "$T/sdk")"
[ "$(grep -c "bad parameters: ValidationError" "$T/sdk")" -eq 2 ] && ok "emulator refuses a bad result and a missing instance" || fail "emulator parameter checks: $(cat "$T/sdk")"
grep -q "sdk: CONTINUE accepted" "$T/sdk" && ok "emulator accepts botocore's own request" || fail "emulator vs botocore: $(cat "$T/sdk")"

# 1. A validated deployment: CONTINUE (group from the instance tag in IMDS).
publish_bundle v1 'exit 0' 120
pending
boot_version v1
run_real
expect_rc 0 "v1 deployed"
expect_out "lifecycle hook $HOOK of group $GROUP (target state InService)"
expect_out "lifecycle hook $HOOK of group $GROUP: CONTINUE"
[ "$(last_action state)" = CONTINUE ] && ok "Auto Scaling got CONTINUE" || fail "action state $(last_action state)"
[ "$(cat "$ROOT/opt/web/version.txt" 2>/dev/null)" = "release v1" ] && ok "v1 installed" || fail "v1 not installed"
expect_no_out "$BED_ROLE_SECRET_ACCESS_KEY"

# 2. The release already in place (a relaunch from an image that has it): CONTINUE, no download.
pending
run_real
expect_rc 0 "v1 already current"
expect_out "already deployed; nothing to do"
[ "$(last_action state)" = CONTINUE ] && ok "CONTINUE when already in place" || fail "action state $(last_action state)"

# 2b. A reboot long after the launch (the target state stays InService, no action waits):
# an info line, no warning.
run_real
expect_rc 0 "reboot, v1 current"
expect_out "no lifecycle action is waiting for this instance"
expect_no_out "lifecycle action not completed"

# 3. A failed validation, rolled back to v1: ABANDON, exit 13 kept.
publish_bundle v2 'echo "not healthy" >&2; exit 1' 120
pending
boot_version v2 "autoscaling_group=$GROUP"
run_real
expect_rc 13 "v2 failed and rolled back"
[ "$(last_action state)" = ABANDON ] && ok "Auto Scaling got ABANDON" || fail "action state $(last_action state)"
[ "$(cat "$ROOT/opt/web/version.txt" 2>/dev/null)" = "release v1" ] && ok "v1 restored" || fail "v1 not restored"

# 4. A deployment longer than the heartbeat interval (1 s): its hook waits
# (bounded) until Auto Scaling has recorded two heartbeats for this launch's action
# (the last one; at most one is sent before the hand-over), so nothing depends on timing.
publish_bundle v3 "for i in \$(seq 1 600); do curl -sS '$BED_ASG_ENDPOINT/_asg/actions' | grep -o '\"heartbeats\": [0-9]*' | tail -1 | grep -q ' [2-9]' && exit 0; sleep 0.1; done; exit 1" 120
pending
boot_version v3
run_real
expect_rc 0 "v3 deployed while heartbeats were sent"
expect_out "lifecycle heartbeat recorded"
[ "$(last_action heartbeats)" -ge 2 ] && ok "$(last_action heartbeats) heartbeats recorded" || fail "$(last_action heartbeats) heartbeats"
[ "$(last_action state)" = CONTINUE ] && ok "CONTINUE after the long deployment" || fail "action state $(last_action state)"

# 5. A role without autoscaling:CompleteLifecycleAction: one warning, the result stands.
bed_asg_ctl credentials "{\"$BED_ROLE_ACCESS_KEY_ID\": {\"secret\": \"$BED_ROLE_SECRET_ACCESS_KEY\", \"token\": \"$BED_ROLE_SESSION_TOKEN\", \"allow\": [\"RecordLifecycleActionHeartbeat\"]}}"
publish_bundle v4 'exit 0' 120
pending
boot_version v4
before=$(calls CompleteLifecycleAction)
run_real
expect_rc 0 "v4 deployed although the lifecycle call was refused"
expect_out "lifecycle action not completed: CompleteLifecycleAction (hook $HOOK, group $GROUP): AccessDenied"
expect_out "the deployment's result (exit 0) stands"
[ "$(calls CompleteLifecycleAction)" -eq $((before + 1)) ] && ok "one refused call, no retry" || fail "calls: $before -> $(calls CompleteLifecycleAction)"
[ "$(last_action state)" = pending ] && ok "action left pending" || fail "action state $(last_action state)"
bed_asg_ctl credentials "{\"$BED_ROLE_ACCESS_KEY_ID\": {\"secret\": \"$BED_ROLE_SECRET_ACCESS_KEY\", \"token\": \"$BED_ROLE_SESSION_TOKEN\"}}"

# 6. Not in an Auto Scaling group (no target-lifecycle-state): no call at all.
curl -sS -f -o /dev/null -H 'Content-Type: application/json' --data-binary '{"target_lifecycle_state": null}' \
	"$BED_IMDS_ENDPOINT/_emulator/autoscaling"
before=$(curl -sS "$BED_ASG_ENDPOINT/_asg/calls" | "$BED_PYTHON" -c 'import json,sys; print(len(json.load(sys.stdin)))')
run_real
expect_rc 0 "v4 current, not in a group"
expect_out "not in an Auto Scaling group"
after=$(curl -sS "$BED_ASG_ENDPOINT/_asg/calls" | "$BED_PYTHON" -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$after" -eq "$before" ] && ok "no Auto Scaling call outside a group" || fail "$((after - before)) calls outside a group"
curl -sS -f -o /dev/null -H 'Content-Type: application/json' --data-binary '{"target_lifecycle_state": "InService"}' \
	"$BED_IMDS_ENDPOINT/_emulator/autoscaling"

# 7. The agent as a child (fake agents): no socket or state file inherited, the
# exit code passed through (ABANDON for 14), SIGTERM passed on to the agent.
head -c 1000 /dev/urandom >"$T/blob"
bed_publish "$T/blob" releases/blob.bin --sidecar >/dev/null
directive "version=f1" "bundle=s3://$BED_BUCKET/releases/blob.bin" "lifecycle_hook=$HOOK"
bed_set_user_data "$T/ud"
pending
run_boot
expect_rc 0 "fake agent as a child"
expect_agent_no_fds
# A boot slower than the heartbeat interval before the hand-over (a stalled metadata
# answer here, a long download in life): one heartbeat before the agent starts.
pending
bed_fault '{"stall": {"seconds": 1.5, "path_prefix": "/latest/meta-data/iam/security-credentials/", "count": 1}}'
run_boot
bed_reset_faults
expect_rc 0 "slow boot, quick agent"
[ "$(last_action heartbeats)" -ge 1 ] && ok "heartbeat before the hand-over" || fail "no heartbeat before the hand-over"

cat >"$T/agent14" <<'EOF'
#!/bin/sh
exit 14
EOF
chmod 755 "$T/agent14"
pending
run_boot --agent "$T/agent14"
expect_rc 14 "the agent's exit code passed through"
[ "$(last_action state)" = ABANDON ] && ok "ABANDON for exit 14" || fail "action state $(last_action state)"
cat >"$T/agent-term" <<EOF
#!/bin/sh
trap 'echo term >"$T/got-term"; exit 77' TERM
: >"$T/agent-ready"
i=0
while [ \$i -lt 600 ]; do sleep 0.1; i=\$((i + 1)); done
exit 0
EOF
chmod 755 "$T/agent-term"
pending
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u HOIST_CONFIG -u HOIST_ROOT \
	AWS_ENDPOINT_URL_S3="$HOIST_TEST_S3_ENDPOINT" "$BOOT" --root "$ROOT" --agent "$T/agent-term" >"$T/out" 2>&1 &
bpid=$!
for _ in $(seq 1 300); do [ -e "$T/agent-ready" ] && break; sleep 0.1; done
kill -TERM "$bpid"
wait "$bpid"
RC=$?
expect_rc 77 "SIGTERM reached the agent, its exit code came back"
[ -e "$T/got-term" ] && ok "the agent got SIGTERM" || fail "the agent did not get SIGTERM"
expect_out "passed on to the agent"
[ "$(last_action state)" = ABANDON ] && ok "ABANDON after the stopped deployment" || fail "action state $(last_action state)"

# The unit's final SIGKILL reaches hoist-boot alone (KillMode=process): the agent dies with it.
cat >"$T/agent-stuck" <<EOF
#!/bin/sh
echo \$\$ >"$T/agent-pid.tmp" && mv "$T/agent-pid.tmp" "$T/agent-pid"
i=0
while [ \$i -lt 600 ]; do sleep 0.1; i=\$((i + 1)); done
EOF
chmod 755 "$T/agent-stuck"
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u HOIST_CONFIG -u HOIST_ROOT \
	AWS_ENDPOINT_URL_S3="$HOIST_TEST_S3_ENDPOINT" "$BOOT" --root "$ROOT" --agent "$T/agent-stuck" >"$T/out" 2>&1 &
bpid=$!
for _ in $(seq 1 300); do [ -s "$T/agent-pid" ] && break; sleep 0.1; done
apid=$(cat "$T/agent-pid" 2>/dev/null)
kill -KILL "$bpid"
wait "$bpid" 2>/dev/null
for _ in $(seq 1 100); do kill -0 "$apid" 2>/dev/null || break; sleep 0.05; done
if [ -n "$apid" ] && ! kill -0 "$apid" 2>/dev/null; then ok "the agent died with a SIGKILLed hoist-boot"; else
	fail "the agent ($apid) outlived hoist-boot"
	[ -n "$apid" ] && kill -KILL "$apid" 2>/dev/null
fi

# 8. The stub itself fails (no such bundle: exit 8): ABANDON, the agent never runs.
directive "version=gone" "bundle=s3://$BED_BUCKET/releases/gone.tgz" "lifecycle_hook=$HOOK"
bed_set_user_data "$T/ud"
pending
run_boot
expect_rc 8 "missing bundle"
expect_no_agent
[ "$(last_action state)" = ABANDON ] && ok "ABANDON when the download fails" || fail "action state $(last_action state)"
finish
