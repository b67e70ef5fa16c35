#!/usr/bin/env bash
# bed/test_bed: the test bed refuses what it must and the IMDSv2 emulator is
# right, checked with independent clients (botocore, http.client, curl).
set -uo pipefail
src=${HOIST_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
export HOIST_SOURCE_DIR=$src
# shellcheck disable=SC1091
. "$src/tests/bed/bed.sh"

fails=0
# Prints and records one shell-level check: ok WHAT CONDITION-STATUS
ok() {
	if [ "$2" -eq 0 ]; then echo "ok   $1"; else echo "FAIL $1"; fails=$((fails + 1)); fi
}

trap 'echo "test_bed: an earlier EXIT trap still runs"' EXIT
# shellcheck disable=SC2119
bed_start || { echo "FAIL bed_start"; exit 1; }
echo "bed_start took ${BED_START_MS} ms (moto: $BED_MOTO_MODE)"
case "$(trap -p EXIT)" in *bed_stop*earlier*) r=0 ;; *) r=1 ;; esac
ok "bed_start chains bed_stop before the existing EXIT trap" $r
[ "$BED_MOTO_MODE" = wire ]
ok "moto runs from moto_wire.py (wire-path signature patch)" $?

for v in HOIST_TEST_S3_ENDPOINT AWS_EC2_METADATA_SERVICE_ENDPOINT BED_DIR BED_ADMIN_ACCESS_KEY_ID \
	BED_ADMIN_SECRET_ACCESS_KEY BED_ROLE_ACCESS_KEY_ID BED_ROLE_SECRET_ACCESS_KEY \
	BED_ROLE_SESSION_TOKEN BED_BUCKET BED_REGION; do
	[ -n "${!v:-}" ]
	ok "$v is exported" $?
done
[ "$BED_BUCKET" = hoist-releases ] && [ "$BED_REGION" = us-east-1 ]
ok "BED_BUCKET=hoist-releases BED_REGION=us-east-1" $?
[ "$(stat -c %a "$BED_DIR")" = 700 ]
ok "BED_DIR is private (0700)" $?

# Every listening socket of the bed's processes is on 127.0.0.1 (read from /proc: no ss needed).
# shellcheck disable=SC2086  # one argument per pid
addrs=$("$BED_PYTHON" - $BED_PIDS <<'PY'
import os, socket, struct, sys
inodes = set()
for pid in sys.argv[1:]:
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
for table, fam in (("tcp", 4), ("tcp6", 6)):
    with open(f"/proc/net/{table}") as f:
        next(f)
        for line in f:
            p = line.split()
            if p[3] != "0A" or p[9] not in inodes:
                continue
            ip, port = p[1].split(":")
            raw = bytes.fromhex(ip)
            if fam == 4:
                host = socket.inet_ntop(socket.AF_INET, struct.pack("<I", int(ip, 16)))
            else:
                host = socket.inet_ntop(socket.AF_INET6, b"".join(
                    struct.pack("<I", int(ip[i:i + 8], 16)) for i in range(0, 32, 8)))
            print(f"{host}:{int(port, 16)}")
PY
)
r=0
[ "$(echo "$addrs" | grep -c .)" -ge 2 ] && ! echo "$addrs" | grep -v '^127\.0\.0\.1:' >/dev/null || r=1
ok "bed servers listen on 127.0.0.1 only ($(echo "$addrs" | tr '\n' ' '))" $r

work=$BED_DIR/work
mkdir -p "$work"
head -c 100000 /dev/urandom >"$work/app.tgz"
printf '#hoist\nversion=1.0\nbucket=hoist-releases\n\x00\xff binary tail' >"$work/user-data"
special="rel/sp ace+b=2&x:y,z;!'()*\$@%ü~.tgz"
bed_publish "$work/app.tgz" rel/app-1.0.tgz --sidecar >/dev/null
ok "bed_publish --sidecar" $?
bed_publish "$work/app.tgz" rel/bad.tgz --bad-checksum >/dev/null
ok "bed_publish --bad-checksum" $?
bed_publish "$work/app.tgz" rel/none.tgz --no-checksum >/dev/null
ok "bed_publish --no-checksum" $?
bed_publish "$work/app.tgz" "$special" >/dev/null
ok "bed_publish of a key with + = & : , ; ! ' ( ) * \$ @ % ü ~ (admin, signed by botocore)" $?
bed_set_user_data "$work/user-data"
ok "bed_set_user_data" $?

# Request counting from the logs.
bed_clear_requests
imds=$AWS_EC2_METADATA_SERVICE_ENDPOINT
tok=$(curl -sf -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' "$imds/latest/api/token")
curl -sf -o /dev/null -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' "$imds/latest/api/token"
curl -sf -o /dev/null -H "X-aws-ec2-metadata-token: $tok" "$imds/latest/user-data"
[ "$(bed_requests --imds /latest)" = 3 ] && [ "$(bed_requests --method PUT /latest/api/token)" = 2 ] &&
	[ "$(bed_requests --status 200 /latest/user-data)" = 1 ]
ok "bed_requests counts emulator requests by path, method, status" $?
bed_publish "$work/app.tgz" rel/count.tgz >/dev/null
[ "$(bed_requests --s3 --method PUT /hoist-releases/rel/count.tgz)" = 1 ]
ok "bed_requests --s3 counts moto requests" $?

# Shell fault helpers.
bed_fault '{"fail": {"count": 2, "path_prefix": "/latest/user-data"}}'
codes=""
for _ in 1 2 3; do
	codes="$codes$(curl -s -o /dev/null -w '%{http_code} ' -H "X-aws-ec2-metadata-token: $tok" "$imds/latest/user-data")"
done
[ "$codes" = "503 503 200 " ]
ok "bed_fault fail x2: $codes" $?
bed_fault '{"no_user_data": true}'
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-aws-ec2-metadata-token: $tok" "$imds/latest/user-data")
bed_reset_faults
tok=$(curl -sf -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' "$imds/latest/api/token")
code2=$(curl -s -o /dev/null -w '%{http_code}' -H "X-aws-ec2-metadata-token: $tok" "$imds/latest/user-data")
[ "$code" = 404 ] && [ "$code2" = 200 ]
ok "bed_fault no_user_data -> $code, bed_reset_faults -> $code2" $?
r=0
bed_fault 'not json' 2>/dev/null && r=1
ok "bed_fault refuses malformed JSON" $r

bed_proxy_start 2 777
ok "bed_proxy_start 2 777" $?

CHECK_DATA=$work/app.tgz CHECK_USER_DATA=$work/user-data CHECK_SPECIAL_KEY=$special CHECK_PROXY_K=777 \
	"$BED_PYTHON" "$src/tests/bed/check_bed.py"
ok "check_bed.py (independent clients)" $?

# The generated-object S3 emulator, with botocore's S3 client.
bed_s3gen_start
ok "bed_s3gen_start" $?
CHECK_DATA=$work/app.tgz CHECK_USER_DATA=$work/user-data "$BED_PYTHON" "$src/tests/bed/check_bed.py" s3gen
ok "check_bed.py s3gen (botocore against s3gen_emulator.py)" $?

# Credential rotation: botocore's provider sees the new key, which reads the release.
old_key=$BED_ROLE_ACCESS_KEY_ID
bed_rotate_credentials
r=$?
[ $r -eq 0 ] && [ "$BED_ROLE_ACCESS_KEY_ID" != "$old_key" ]
ok "bed_rotate_credentials gives a new role key" $?
CHECK_DATA=$work/app.tgz CHECK_USER_DATA=$work/user-data "$BED_PYTHON" - <<'PY'
import os, sys
sys.path.insert(0, os.path.join(os.environ["HOIST_SOURCE_DIR"], "tests", "bed"))
import check_bed as c
creds = c.provider_fetch()
c.check("after rotation botocore's IMDS provider gets the new key",
        creds is not None and creds.access_key == os.environ["BED_ROLE_ACCESS_KEY_ID"])
fc = creds.get_frozen_credentials()
s3 = c.s3_client(fc.access_key, fc.secret_key, fc.token)
c.check("the rotated credentials read the release and still may not write",
        s3.get_object(Bucket=c.BUCKET, Key="rel/app-1.0.tgz")["Body"].read() == open(os.environ["CHECK_DATA"], "rb").read()
        and c.s3_error(s3.put_object, Bucket=c.BUCKET, Key="x", Body=b"x")[0] == 403)
sys.exit(1 if c.FAILED else 0)
PY
ok "rotated credentials checked with botocore" $?

# bed_stop: every process gone, BED_DIR removed, idempotent.
pids=$BED_PIDS
dir=$BED_DIR
bed_stop
alive=0
for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
[ $alive -eq 0 ] && [ ! -e "$dir" ]
ok "bed_stop stops every pid ($pids) and removes BED_DIR" $?
bed_stop
ok "bed_stop twice is harmless" $?

# bed_start options: --v1 --no-role --user-data --faults --instance-id --region.
printf 'from --user-data\n' >"${TMPDIR:-/tmp}/bed-ud.$$"
bed_start --v1 --no-role --user-data "${TMPDIR:-/tmp}/bed-ud.$$" --instance-id i-0fedcba987654321 \
	--region eu-west-1 --faults '{"fail": {"count": 1, "path_prefix": "/latest/meta-data/instance-id"}}'
r=$?
rm -f "${TMPDIR:-/tmp}/bed-ud.$$"
ok "bed_start with every scenario option" $r
imds=$AWS_EC2_METADATA_SERVICE_ENDPOINT
get() { curl -s -w ' %{http_code}' "$imds$1"; }
first=$(get /latest/meta-data/instance-id)
[ "$first" = "Service Unavailable
 503" ] && [ "$(get /latest/meta-data/instance-id)" = "i-0fedcba987654321 200" ] &&
	[ "$(get /latest/meta-data/placement/region)" = "eu-west-1 200" ] && [ "$BED_REGION" = eu-west-1 ]
ok "--faults, --v1 (no token needed), --instance-id, --region" $?
[ "$(get /latest/user-data)" = "from --user-data
 200" ]
ok "--user-data FILE is served" $?
[ "$(get /latest/meta-data/iam/security-credentials/ | tail -c 4)" = " 404" ]
ok "--no-role: security-credentials/ is 404" $?
r=0
bed_start 2>/dev/null && r=1
ok "a second bed_start without bed_stop is refused" $r
r=0
bed_start --bogus 2>/dev/null && r=1
ok "bed_start refuses an unknown option" $r
bed_stop

echo "$fails shell check(s) failed"
[ $fails -eq 0 ]
