# shellcheck shell=bash
# Helpers shared by tests/e2e/test_boot_*.sh: a private root per test, a fake
# agent that records its argv, and assertions. Source after setting -u.

BOOT=${HOIST_BUILD_DIR:?}/agent/hoist-boot
[ -x "$BOOT" ] || { echo "missing $BOOT" >&2; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/hoist-boot-e2e.XXXXXX")
ROOT=$T/root
STATE=$ROOT/var/lib/hoist
CACHE=$STATE/bundles
AGENT=$T/fake-agent
FAILS=0
trap 'rm -rf -- "$T"' EXIT
mkdir -p "$ROOT/etc/hoist"
: >"$ROOT/etc/hoist/hoist.conf"

# The fake agent: records one argument per line, HOIST_ROOT, and every fd it
# inherited beyond 0-2 (the stub must hand over no socket and no file of its
# own; fds the test harness itself passed down are not the stub's doing).
cat >"$AGENT" <<'AGENT_EOF'
#!/bin/sh
out=$(dirname "$0")/agent.argv
: >"$out"
for a in "$@"; do printf '%s\n' "$a" >>"$out"; done
printf 'HOIST_ROOT=%s\n' "$HOIST_ROOT" >>"$out"
for fd in /proc/$$/fd/*; do
	n=${fd##*/}
	case $n in 0 | 1 | 2) ;; *) printf 'FD=%s->%s\n' "$n" "$(readlink "$fd")" >>"$out" ;; esac
done
exit 0
AGENT_EOF
chmod 755 "$AGENT"

fail() {
	echo "FAIL: $*" >&2
	[ -f "$T/out" ] && sed 's/^/    | /' "$T/out" >&2
	FAILS=$((FAILS + 1))
}
ok() { echo "ok: $*"; }

# Runs the stub against the bed with a clean AWS environment; sets RC, output in $T/out.
run_boot() {
	rm -f "$T/agent.argv"
	env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_REGION \
		-u AWS_DEFAULT_REGION -u AWS_ENDPOINT_URL -u HOIST_CONFIG -u HOIST_ROOT \
		AWS_ENDPOINT_URL_S3="${S3_ENDPOINT:-$HOIST_TEST_S3_ENDPOINT}" \
		AWS_EC2_METADATA_SERVICE_ENDPOINT="${IMDS_ENDPOINT:-$AWS_EC2_METADATA_SERVICE_ENDPOINT}" \
		timeout 60 "$BOOT" --root "$ROOT" --agent "$AGENT" "$@" >"$T/out" 2>&1
	RC=$?
}

# Writes a directive to $T/ud (extra lines from the arguments).
directive() {
	{
		echo "#hoist"
		echo "application=web"
		echo "environment=prod"
		for l in "$@"; do echo "$l"; done
	} >"$T/ud"
}

expect_rc() {
	local want=$1 what=$2
	if [ "$RC" -eq "$want" ]; then ok "$what (exit $RC)"; else fail "$what: exit $RC, want $want"; fi
}
expect_out() {
	if grep -qF -- "$1" "$T/out"; then ok "message: $1"; else fail "output lacks '$1'"; fi
}
expect_no_out() {
	if grep -qF -- "$1" "$T/out"; then fail "output has '$1'"; else ok "no '$1' in output"; fi
}
# No partial or stray file: the cache holds exactly the listed digests, tmp is empty.
expect_cache() {
	local want="" got
	for h in "$@"; do want="$want$h.bundle"$'\n'; done
	got=$(cd "$CACHE" 2>/dev/null && ls -A | sort)
	want=$(printf '%s' "$want" | sort)
	if [ "$got" = "$want" ]; then ok "cache holds [${*:-nothing}]"; else fail "cache holds [$got], want [$want]"; fi
	if [ -z "$(ls -A "$STATE/tmp" 2>/dev/null)" ]; then ok "tmp empty"; else fail "tmp not empty: $(ls -A "$STATE/tmp")"; fi
}
expect_agent_arg() {
	if [ -f "$T/agent.argv" ] && grep -qxF -- "$1" "$T/agent.argv"; then ok "agent got '$1'"; else fail "agent argv lacks '$1'"; fi
}
expect_agent_no_fds() {
	local leaked
	leaked=$(grep -E "^FD=[0-9]+->(socket:|$ROOT)" "$T/agent.argv" 2>/dev/null)
	if [ -f "$T/agent.argv" ] && [ -z "$leaked" ]; then
		ok "agent inherited no socket or state file from the stub"
	else
		fail "agent inherited: $(echo "$leaked" | tr '\n' ' ')"
	fi
}
expect_no_agent() {
	if [ -f "$T/agent.argv" ]; then fail "agent was run"; else ok "agent not run"; fi
}
finish() {
	if [ "$FAILS" -ne 0 ]; then
		echo "$FAILS check(s) failed" >&2
		exit 1
	fi
	echo "all checks passed"
}

# The start of the stub tests that fetch one bundle from the bed (after
# sourcing tests/bed/bed.sh): the bed up (stopped and $T removed on exit), a
# random 400,000-byte bundle $T/b1 published as KEY (the argument, else
# releases/app-1.tgz). Sets KEY and SHA (the bundle's sha256).
# shellcheck disable=SC2034  # KEY and SHA are for the test that calls it
boot_bed_start() {
	KEY=${1:-releases/app-1.tgz}
	trap 'bed_stop; rm -rf -- "$T"' EXIT
	bed_start || exit 1
	head -c 400000 /dev/urandom >"$T/b1"
	SHA=$(sha256sum "$T/b1" | cut -d' ' -f1)
	bed_publish "$T/b1" "$KEY" >/dev/null || exit 1
}
# A directive (lines as for directive) served as the instance's user data.
use_directive() {
	directive "$@"
	bed_set_user_data "$T/ud"
}
# Before a case: no faults, no cache or tmp/, the user data served again, no requests recorded.
fresh() {
	bed_reset_faults
	rm -rf "$CACHE" "$STATE/tmp"
	bed_set_user_data "$T/ud"
	bed_clear_requests
}
# Publishes releases/V.tgz (and its sidecar) to the bed: app/version.txt ("release V")
# installed to /opt/web, and a ValidateService hook running SNIPPET (a shell snippet),
# with timeout: TIMEOUT seconds when given. Usage: publish_bundle V SNIPPET [TIMEOUT]
publish_bundle() {
	local v=$1 d="$T/src-$1"
	mkdir -p "$d/app"
	echo "release $v" >"$d/app/version.txt"
	printf '#!/bin/sh\n%s\n' "$2" >"$d/validate.sh"
	chmod 755 "$d/validate.sh"
	printf 'version: 0.0\nos: linux\nfiles:\n  - source: app\n    destination: /opt/web\nhooks:\n  ValidateService:\n    - location: validate.sh\n' >"$d/appspec.yml"
	[ -z "${3:-}" ] || printf '      timeout: %s\n' "$3" >>"$d/appspec.yml"
	tar -czf "$T/$v.tgz" -C "$d" . && bed_publish "$T/$v.tgz" "releases/$v.tgz" --sidecar >/dev/null
}
