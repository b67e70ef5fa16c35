#!/usr/bin/env bash
# test_vm_boot.sh - the real boot test (issue 6): the tree's .deb installed
# in a Debian 12 VM under qemu (TCG), systemd running hoist-boot at boot
# against the IMDSv2 emulator at 169.254.169.254:80 and moto, both on the
# host's 127.0.0.1 and reached through qemu guestfwd rules (restrict=on: the
# guest reaches nothing else). One disk, six boots, one at a time:
#   install   dpkg -i of the injected .deb (the unit is enabled by postinst)
#   first     version 1 deployed at boot, service answers, status, journal
#   reboot    same user data: no second download, the service is up again
#   upgrade   user data says version 2: deployed at boot
#   rollback  version 3-bad fails ValidateService: version 2 restored, exit 13
#   no-imds   no metadata service: exit 75 within imds_deadline_s, boot not held
# Verdicts come from the guest's report (POSTed to a host result server and
# printed on the serial console), the emulator's and moto's request logs.
# docs/testing.md: how to run it alone, how long it takes.
set -u

src=${HOIST_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${HOIST_BUILD_DIR:-$src/build/vm}
# shellcheck source=tests/vm/vm_lib.sh
. "$src/tests/vm/vm_lib.sh"
# shellcheck source=/dev/null
. "$src/tests/bed/bed.sh"

fails=0
ok() { echo "ok - $*"; }
fail() {
	echo "FAIL - $*"
	fails=$((fails + 1))
}
check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then ok "$what"; else fail "$what"; fi
}
t_all=$(now_ms)
timing=""
note_time() { timing="$timing$(printf '%-10s %6.1f s' "$1" "$(echo "$2" | awk '{ print $1 / 1000 }')")"$'\n'; }

VM_DIR=$(mktemp -d "${TMPDIR:-/var/tmp}/hoist-vm.XXXXXX") || exit 1
cleanup() {
	vm_cleanup
	bed_stop
	if [ "$fails" -ne 0 ] || [ "${HOIST_VM_KEEP:-0}" = 1 ]; then
		# Keep the evidence (consoles, reports, logs), not the 2 GiB sparse disk.
		rm -f -- "$VM_DIR/disk.img"
		echo "vm: logs kept in $VM_DIR"
	else
		rm -rf -- "$VM_DIR"
	fi
}
trap cleanup EXIT

# ---- host, base image, .deb
vm_setup_host || exit 1
t=$(now_ms)
base=$(vm_base) || { echo "vm: base image build failed" >&2; exit 1; }
note_time base-image $(($(now_ms) - t))
t=$(now_ms)
mkdir -p "$build"
deb=$(vm_build_deb "$src" "$build/vm-pkg") || { echo "vm: .deb build failed" >&2; exit 1; }
note_time deb $(($(now_ms) - t))
echo "vm: base $base, package $deb"

# ---- the bed: moto + emulator on 127.0.0.1, then the result server
t=$(now_ms)
bed_start || exit 1
vm_result_start || exit 1
imds_port=${BED_IMDS_ENDPOINT##*:}
s3_port=${HOIST_TEST_S3_ENDPOINT##*:}

# Bundles: the sample application (hooks/), a VERSION file making each one
# a different object (the download cache is keyed by sha256).
declare -A SHA
for v in 1 2 3-bad; do
	mkdir -p "$VM_DIR/b-$v"
	cp -a "$src/hooks/." "$VM_DIR/b-$v/"
	echo "$v" >"$VM_DIR/b-$v/VERSION"
	tar -C "$VM_DIR/b-$v" -czf "$VM_DIR/sample-$v.tgz" . || exit 1
	SHA[$v]=$(sha256sum "$VM_DIR/sample-$v.tgz" | cut -d' ' -f1)
	bed_publish "$VM_DIR/sample-$v.tgz" "sample/$v.tgz" >/dev/null || exit 1
done
# set_version V: the user data for version V (endpoint = moto's guest address).
set_version() {
	printf '#hoist v1\nversion = %s\nbundle = s3://%s/sample/{version}.tgz\nsha256 = %s\nenvironment = vm\napplication = sample\nendpoint = http://%s\n' \
		"$1" "$BED_BUCKET" "${SHA[$1]}" "$VM_S3_ADDR" >"$VM_DIR/user-data"
	bed_set_user_data "$VM_DIR/user-data"
}
disk=$VM_DIR/disk.img
vm_make_disk "$base" "$disk" "$deb" || exit 1
note_time setup $(($(now_ms) - t))

# boot NAME [noimds]: one bounded boot; checks qemu exited by itself and the report arrived.
REPORT=""
boot() {
	local name=$1 imds=$imds_port
	[ "${2:-}" = noimds ] && imds=""
	bed_clear_requests
	vm_boot "$name" "$disk" "$base" "$imds" "$s3_port" "$VM_RESULT_PORT"
	note_time "$name" "$VM_BOOT_MS"
	echo "# boot $name: ${VM_BOOT_MS} ms, qemu rc $VM_QEMU_RC"
	REPORT=$VM_DIR/results/$name.txt
	check "$name: no host listener beyond 127.0.0.1 ($VM_LISTEN_BAD)" test -z "$VM_LISTEN_BAD"
	check "$name: the VM powered itself off (qemu rc $VM_QEMU_RC, 124 = timeout)" \
		grep -q 'reboot: Power down' "$VM_DIR/console-$name.log"
	[ "$VM_QEMU_RC" -eq 0 ] || fail "$name: qemu exit status $VM_QEMU_RC"
	if [ -s "$REPORT" ]; then
		ok "$name: guest report received"
		check "$name: report on the serial console" \
			grep -q "hoist-vm-verdict\[[0-9]*\]: @@ end.\?$" "$VM_DIR/console-$name.log"
	else
		fail "$name: no guest report"
		tail -n 40 "$VM_DIR/console-$name.log"
		REPORT=/dev/null
	fi
}
unit() { vm_kv "$REPORT" unit "$1"; }
status_get() { # status_get PYEXPR: evaluates over s = hoist status --json
	vm_section "$REPORT" status | sed '/^status_rc=/d' |
		python3 -c 'import json,sys; s=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1" 2>/dev/null
}
journal_has() { # journal_has IDENTIFIER MESSAGE-PREFIX: a journal entry of this boot's hoist-boot.service
	vm_section "$REPORT" journal | python3 -c '
import json, sys
ident, prefix = sys.argv[1], sys.argv[2]
for line in sys.stdin:
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("SYSLOG_IDENTIFIER") == ident and str(e.get("MESSAGE", "")).startswith(prefix):
        sys.exit(0)
sys.exit(1)' "$1" "$2"
}
serves() { vm_section "$REPORT" service | grep -q "version $1<"; }
current() { vm_kv "$REPORT" state version; }
requests() { bed_requests "$@"; }
s3_gets() { bed_requests --s3 --method GET "/$BED_BUCKET/sample/"; }

# ---- install: dpkg -i inside the guest, as a user baking an image would
boot install noimds
check "install: dpkg -i succeeded" grep -q '^dpkg_rc=0$' "$REPORT"
check "install: hoist-boot.service enabled by the package" \
	test "$(vm_section "$REPORT" enabled)" = enabled
check "install: package installed" grep -q '^hoist .* install ok installed$' "$REPORT"

# ---- 1. first boot: version 1
set_version 1
boot first
check "first: hoist-boot.service succeeded" test "$(unit Result) $(unit ExecMainStatus)" = "success 0"
check "first: the sample service answers with version 1" serves 1
check "first: current version 1" test "$(current)" = 1
check "first: hoist status --json: succeeded, version 1" \
	test "$(status_get 's["result"] + " " + s["current"]')" = "succeeded 1"
check "first: status exit 0" grep -q '^status_rc=0$' "$REPORT"
check "first: journal has hoist-boot's lines under its identifier" journal_has hoist-boot "hoist-boot: [imds] "
check "first: journal has the agent's lines (hoist: ...) under the unit's identifier" \
	journal_has hoist-boot "hoist: deployment d-"
check "first: journal has the hooks' output" journal_has hoist-boot "ValidateService scripts/validate.sh [stdout]: "
check "first: a token was PUT at the emulator (IMDSv2)" test "$(requests --imds --method PUT /latest/api/token)" -ge 1
check "first: user data read from 169.254.169.254" test "$(requests --imds --method GET /latest/user-data)" -ge 1
check "first: role credentials read" test "$(requests --imds --method GET /latest/meta-data/iam/security-credentials/)" -ge 1
check "first: one bundle download from moto" test "$(s3_gets)" = 1
check "first: moto answered 200" test "$(requests --s3 --status 200 "/$BED_BUCKET/sample/1.tgz")" = 1

# ---- 2. reboot, same user data: redeployed from the cache, no download
boot reboot
check "reboot: hoist-boot.service succeeded" test "$(unit Result) $(unit ExecMainStatus)" = "success 0"
check "reboot: no S3 request for the bundle" test "$(s3_gets)" = 0
check "reboot: user data read again" test "$(requests --imds --method GET /latest/user-data)" -ge 1
check "reboot: the sample service is up again (version 1)" serves 1
check "reboot: current version 1" test "$(current)" = 1

# ---- 3. user data changed to version 2 between boots
set_version 2
boot upgrade
check "upgrade: hoist-boot.service succeeded" test "$(unit Result) $(unit ExecMainStatus)" = "success 0"
check "upgrade: version 2 downloaded once" test "$(requests --s3 --method GET "/$BED_BUCKET/sample/2.tgz")" = 1
check "upgrade: the sample service answers with version 2" serves 2
check "upgrade: current version 2" test "$(current)" = 2
check "upgrade: status succeeded, version 2" \
	test "$(status_get 's["result"] + " " + s["current"]')" = "succeeded 2"

# ---- 4. a version whose ValidateService fails: rolled back at boot
set_version 3-bad
boot rollback
check "rollback: unit failed with exit 13 (rolled back), no restart" \
	test "$(unit Result) $(unit ExecMainStatus) $(unit NRestarts)" = "exit-code 13 0"
check "rollback: status rolled-back at ValidateService" \
	test "$(status_get 's["result"] + " " + s["failed_event"]')" = "rolled-back ValidateService"
check "rollback: rollback to version 2 succeeded" \
	test "$(status_get 's["rollback"]["result"] + " " + s["rollback"]["version"]')" = "succeeded 2"
check "rollback: current version 2 again" test "$(current)" = 2
check "rollback: the sample service answers with version 2" serves 2
check "rollback: 3-bad was downloaded" test "$(requests --s3 --method GET "/$BED_BUCKET/sample/3-bad.tgz")" = 1

# ---- 5. no metadata service: temporary failure within the deadline, boot goes on
boot no-imds noimds
check "no-imds: exit 75 (temporary), restart pending" \
	test "$(unit ExecMainStatus) $(unit SubState)" = "75 auto-restart"
start_us=$(unit ExecMainStartTimestampMonotonic)
exit_us=$(unit ExecMainExitTimestampMonotonic)
target_us=$(vm_kv "$REPORT" target ActiveEnterTimestampMonotonic)
ran_ms=$(((${exit_us:-0} - ${start_us:-0}) / 1000))
echo "# no-imds: hoist-boot ran ${ran_ms} ms; multi-user.target at $((${target_us:-0} / 1000)) ms, hoist-boot exit at $((${exit_us:-0} / 1000)) ms (guest clock)"
# imds_deadline_s = 20 bounds all IMDS work; 5 s of slack for process start-up under TCG.
check "no-imds: hoist-boot gave up within the 20 s deadline (+5 s)" test "$ran_ms" -gt 0 -a "$ran_ms" -le 25000
check "no-imds: multi-user.target reached before hoist-boot gave up" \
	test "${target_us:-0}" -gt 0 -a "${target_us:-0}" -lt "${exit_us:-0}"
check "no-imds: no request reached the emulator" test "$(requests --imds)" = 0
check "no-imds: no S3 request" test "$(requests --s3)" = 0

total=$(($(now_ms) - t_all))
note_time total "$total"
echo "# timings:"
printf '%s' "$timing" | sed 's/^/#   /'
# Also kept in the build tree: ctest shows a passing test's output only with -V.
printf '%s' "$timing" >"$build/vm-timings.txt"
if [ "$fails" -ne 0 ]; then
	echo "FAILED: $fails checks"
	exit 1
fi
echo "PASS"
