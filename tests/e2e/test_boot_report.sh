#!/usr/bin/env bash
# hoist-boot's status reports and failure notifications against the bed: the
# report lands at PREFIX/ENV/INSTANCE-ID.json after a deployment, a rollback
# and a refusal, holding `hoist status --json` plus the instance's identity
# and the boot's outcome; a prefix the role may not write logs one warning and
# changes nothing; notify POSTs the same document on failure only, to a local
# receiver, once, without logging the URL's path.
set -u
# shellcheck source=/dev/null
source "$HOIST_SOURCE_DIR/tests/e2e/boot_lib.sh"
# shellcheck source=/dev/null
source "$HOIST_SOURCE_DIR/tests/bed/bed.sh"
RECV_PID=""
trap '[ -n "$RECV_PID" ] && kill "$RECV_PID" 2>/dev/null; bed_stop; rm -rf -- "$T"' EXIT
bed_start || exit 1
HOIST=$HOIST_BUILD_DIR/agent/hoist
KEY="$BED_REPORT_PREFIX/prod/$BED_INSTANCE_ID.json"

# The notification receiver: records each POST body in $T/notified.N, answers 204.
mkdir -p "$T/notified"
"$BED_PYTHON" - "$T/notified" >"$T/recv.log" 2>&1 <<'PY' &
import http.server, os, sys
d = sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        n = len(os.listdir(d)) - 1
        with open(os.path.join(d, f"n{n}.tmp"), "wb") as f:
            f.write(self.headers.get("Content-Type", "").encode() + b"\n" + self.path.encode() + b"\n" + body)
        os.rename(os.path.join(d, f"n{n}.tmp"), os.path.join(d, f"post.{n}"))
        self.send_response(204)
        self.end_headers()
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
with open(os.path.join(d, "port.tmp"), "w") as f:
    f.write(str(s.server_address[1]))
os.rename(os.path.join(d, "port.tmp"), os.path.join(d, "port"))
s.serve_forever()
PY
RECV_PID=$!
for _ in $(seq 1 200); do [ -s "$T/notified/port" ] && break; sleep 0.05; done
NOTIFY="http://127.0.0.1:$(cat "$T/notified/port")/hooks/s3cr3t-path"
posts() { find "$T/notified" -name 'post.*' | wc -l; }

cat >"$ROOT/etc/hoist/hoist.conf" <<EOF
report = s3://$BED_BUCKET/$BED_REPORT_PREFIX/
notify = $NOTIFY
EOF

boot_version() {
	local v=$1
	shift
	directive "version=$v" "bundle=s3://$BED_BUCKET/releases/$v.tgz" "$@"
	bed_set_user_data "$T/ud"
}
# Fetches s3://BUCKET/KEY with the admin key into $T/report.json; prints its LastModified-free body hash.
fetch() {
	"$BED_PYTHON" - "$1" "$T/report.json" <<'PY'
import boto3, os, sys
s3 = boto3.client("s3", region_name=os.environ["BED_REGION"], endpoint_url=os.environ["HOIST_TEST_S3_ENDPOINT"],
                  aws_access_key_id=os.environ["BED_ADMIN_ACCESS_KEY_ID"],
                  aws_secret_access_key=os.environ["BED_ADMIN_SECRET_ACCESS_KEY"])
try:
    body = s3.get_object(Bucket=os.environ["BED_BUCKET"], Key=sys.argv[1])["Body"].read()
except s3.exceptions.NoSuchKey:
    sys.exit(1)
open(sys.argv[2], "wb").write(body)
PY
}
# Checks the report against `hoist status --json` and the expected outcome: check EXIT_CODE VERSION
check_report() {
	"$HOIST" --root "$ROOT" status --json >"$T/status.json" 2>/dev/null
	"$BED_PYTHON" - "$T/report.json" "$T/status.json" "$1" "$2" <<'PY'
import json, os, sys
r = json.load(open(sys.argv[1]))
s = json.load(open(sys.argv[2]))
want = {"instance_id": os.environ["BED_INSTANCE_ID"], "ami_id": "ami-0abcdef1234567890",
        "availability_zone": os.environ["BED_REGION"] + "a"}
bad = [f"{k}={r.get(k)!r}" for k, v in want.items() if r.get(k) != v]
b = r.get("boot", {})
if b.get("exit_code") != int(sys.argv[3]) or b.get("version") != sys.argv[4] or b.get("environment") != "prod":
    bad.append(f"boot={b}")
bad += [f"status.{k}" for k, v in s.items() if r.get(k) != v]
print("; ".join(bad) if bad else "same")
PY
}

# 1. A deployment: the report holds the status document, identity and outcome.
publish_bundle v1 'exit 0'
boot_version v1
run_boot --agent "$HOIST"
expect_rc 0 "v1 deployed"
expect_out "report written to s3://$BED_BUCKET/$KEY"
if fetch "$KEY"; then
	r=$(check_report 0 v1)
	[ "$r" = same ] && ok "report = hoist status --json + identity + outcome" || fail "report: $r"
else
	fail "no report at $KEY"
fi
[ "$(posts)" -eq 0 ] && ok "no notification after a success" || fail "$(posts) notifications after a success"

# 2. A rollback: the report is replaced, one notification with the same document.
publish_bundle v2 'echo "not healthy" >&2; exit 1'
boot_version v2
run_boot --agent "$HOIST"
expect_rc 13 "v2 rolled back"
fetch "$KEY" && r=$(check_report 13 v2) && [ "$r" = same ] && ok "report after the rollback" || fail "report after the rollback: ${r:-none}"
expect_out "failure notified"
[ "$(posts)" -eq 1 ] && ok "one notification" || fail "$(posts) notifications"
if [ -f "$T/notified/post.0" ]; then
	head -1 "$T/notified/post.0" | grep -q "application/json" && ok "notification is JSON" || fail "notification content type"
	sed 1,2d "$T/notified/post.0" | cmp -s - "$T/report.json" && ok "notification = the report" || fail "notification differs from the report"
fi
expect_no_out "s3cr3t-path"

# 3. A refusal by the stub (this version already failed here): reported with its reason, notified.
run_boot --agent "$HOIST"
expect_rc 13 "v2 refused at boot"
fetch "$KEY" && grep -q '"message": "this version already failed on this host' "$T/report.json" &&
	ok "refusal reported with its reason" || fail "refusal report: $(cat "$T/report.json" 2>/dev/null)"
[ "$(posts)" -eq 2 ] && ok "refusal notified" || fail "$(posts) notifications"

# 4. A prefix the role may not write (the directive's report wins over hoist.conf):
# one warning, the result unchanged, nothing written.
bed_publish "$T/v1.tgz" releases/v1.tgz --sidecar >/dev/null
boot_version v1 "report=s3://$BED_BUCKET/elsewhere/"
run_boot --agent "$HOIST"
expect_rc 0 "v1 current, report refused"
n=$(grep -c "report not written" "$T/out")
[ "$n" -eq 1 ] && ok "one warning for the refused report" || fail "$n report warnings"
expect_out "access denied"
expect_out "the instance role needs s3:PutObject on the report prefix"
fetch "elsewhere/prod/$BED_INSTANCE_ID.json" && fail "a report was written outside the allowed prefix" || ok "nothing written outside the prefix"

# 4b. Static keys from the environment sign the report too, also when the boot ends
# early ("already deployed"): the admin key may write where the role may not.
env -u AWS_SESSION_TOKEN -u HOIST_CONFIG -u HOIST_ROOT AWS_ACCESS_KEY_ID="$BED_ADMIN_ACCESS_KEY_ID" \
	AWS_SECRET_ACCESS_KEY="$BED_ADMIN_SECRET_ACCESS_KEY" AWS_ENDPOINT_URL_S3="$HOIST_TEST_S3_ENDPOINT" \
	timeout 60 "$BOOT" --root "$ROOT" --agent "$HOIST" >"$T/out" 2>&1
RC=$?
expect_rc 0 "v1 current, static keys"
fetch "elsewhere/prod/$BED_INSTANCE_ID.json" && ok "report signed with the environment's keys" || fail "no report with the environment's keys"

# 5. A receiver that is down: one warning, the result unchanged.
kill "$RECV_PID" && wait "$RECV_PID" 2>/dev/null
RECV_PID=""
boot_version v2
run_boot --agent "$HOIST"
expect_rc 13 "v2 still refused, receiver down"
n=$(grep -c "nobody was notified" "$T/out")
[ "$n" -eq 1 ] && ok "one warning for the failed notification" || fail "$n notify warnings"
expect_no_out "s3cr3t-path"
finish
