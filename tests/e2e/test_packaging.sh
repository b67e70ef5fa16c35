#!/usr/bin/env bash
# test_packaging.sh - the start-up files, man pages, conffile and the .deb (issue 5).
#
# Always: systemd-analyze verify on the unit, its retry/ordering settings, a
# transaction dump proving multi-user.target does not wait for hoist-boot
# (the hook deadlock), the init script's syntax, LSB header and retry
# behaviour with a fake hoist-boot, the man pages' lint, and hoist.conf
# against agent/core/config.h. When both programs exist in the tree: a
# release build, cpack -G DEB (and RPM when rpmbuild exists), the package's
# file list, modes, Depends and conffiles, lintian (no E:), and dpkg --root
# install/purge into a throwaway root (unit enabled, init script linked,
# the host untouched).
set -uo pipefail

src=${HOIST_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 0755 "$work" # systemd --test runs as nobody and reads units from here

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }
need() { command -v "$1" >/dev/null 2>&1 || { echo "FAIL: $1 is missing (run scripts/setup.sh)" >&2; exit 1; }; }
for tool in cmake cpack dpkg dpkg-deb lintian systemd-analyze python3 gzip setpriv; do need "$tool"; done

unit=$src/systemd/hoist-boot.service
init=$src/systemd/hoist-boot.init
version=$(sed -n 's/^project(hoist VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
[ -n "$version" ] || { echo "FAIL: no project version in CMakeLists.txt" >&2; exit 1; }

# ---- man pages: lint clean, and a MANPATH for systemd-analyze's Documentation= check
mkdir -p "$work/man/man1" "$work/man/man5" "$work/man/man7" "$work/man/man8"
for page in hoist.8 hoist-boot.8 hoist.conf.5 hoist-user-data.7 hoist-release.1; do
	f=$src/man/$page
	[ -f "$f" ] || { fail "man page $page missing"; continue; }
	cp "$f" "$work/man/man${page##*.}/"
	if command -v mandoc >/dev/null 2>&1; then
		out=$(mandoc -T lint -W warning "$f" 2>&1)
	else
		out=$(groff -mdoc -z -wall -Tutf8 "$f" 2>&1)
	fi
	[ -z "$out" ] && ok "man $page lints clean" || fail "man $page: $out"
done

# ---- the unit: systemd-analyze verify (ExecStart must exist: a stub stands in
# until the package's binary does)
printf '#!/bin/sh\nexit 0\n' >"$work/hoist-boot-stub"
chmod 0755 "$work/hoist-boot-stub"
verify_unit() { # $1 = ExecStart binary
	mkdir -p "$work/verify"
	sed "s#^ExecStart=/usr/sbin/hoist-boot\$#ExecStart=$1#" "$unit" >"$work/verify/hoist-boot.service"
	grep -q "^ExecStart=$1\$" "$work/verify/hoist-boot.service" || { fail "unit: ExecStart is not /usr/sbin/hoist-boot"; return; }
	local out rc
	out=$(MANPATH=$work/man systemd-analyze verify "$work/verify/hoist-boot.service" 2>&1)
	rc=$?
	[ "$rc" -eq 0 ] && [ -z "$out" ] && ok "systemd-analyze verify ($1)" || fail "systemd-analyze verify (rc $rc): $out"
}
verify_unit "$work/hoist-boot-stub"

# Settings that carry the design (docs/operations.md): only 75 restarts.
python3 - "$unit" <<'EOF' && ok "unit settings: oneshot, restart on 75 only, bounded, no Before=multi-user.target" || fail "unit settings"
import sys
kv = {}
prevent = set()
for line in open(sys.argv[1]):
    line = line.strip()
    if not line or line.startswith('#') or line.startswith('['):
        continue
    k, v = line.split('=', 1)
    kv.setdefault(k, []).append(v)
    if k == 'RestartPreventExitStatus':
        prevent |= {t for t in v.split()}
def one(k):
    v = kv.get(k, [])
    assert len(v) == 1, f"{k}: {v}"
    return v[0]
bad = []
def want(cond, what):
    if not cond:
        bad.append(what)
want(one('Type') == 'oneshot', 'Type=oneshot')
want(one('RemainAfterExit') == 'yes', 'RemainAfterExit=yes')
want(one('Restart') == 'on-failure', 'Restart=on-failure')
codes = {int(t) for t in prevent if t.isdigit()}
want(codes == set(range(1, 256)) - {75}, f'RestartPreventExitStatus = every code but 75 (missing {sorted(set(range(1,256))-{75}-codes)[:5]}, extra {sorted(codes & {0,75})})')
want({'SIGTERM', 'SIGKILL', 'SIGSEGV', 'SIGABRT'} <= prevent, 'crashes and kills are not retried')
want('RestartForceExitStatus' not in kv, 'no RestartForceExitStatus (refused for oneshot)')
t = one('TimeoutStartSec')
want(t not in ('infinity', '0') and t.endswith('h'), f'TimeoutStartSec bounded in hours ({t})')
want(int(one('StartLimitBurst')) <= 20 and one('StartLimitIntervalSec') not in ('0', 'infinity'), 'start limit bounded')
want('network-online.target' in ' '.join(kv.get('Wants', [])), 'Wants=network-online.target')
want('network-online.target' in ' '.join(kv.get('After', [])), 'After=network-online.target')
want(not any('multi-user.target' in v or 'graphical.target' in v for v in kv.get('Before', [])), 'no Before=multi-user.target')
want(one('DefaultDependencies') == 'no', 'DefaultDependencies=no (no implicit After= from multi-user.target)')
want('shutdown.target' in ' '.join(kv.get('Conflicts', [])), 'Conflicts=shutdown.target re-added')
for k, v in (('StateDirectory', 'hoist'), ('StateDirectoryMode', '0711'), ('LogsDirectory', 'hoist'),
             ('LogsDirectoryMode', '0750'), ('SyslogIdentifier', 'hoist-boot'), ('WantedBy', 'multi-user.target'),
             ('KillMode', 'process')):
    want(one(k) == v, f'{k}={v}')
for k in ('ProtectSystem', 'PrivateTmp', 'NoNewPrivileges', 'ProtectHome'):
    want(k not in kv, f'no {k} (deployments write anywhere)')
if bad:
    print('unit: ' + '; '.join(bad), file=sys.stderr)
    sys.exit(1)
EOF

# The deadlock: systemd adds After=<unit> to multi-user.target for every unit
# it Wants= unless the unit has DefaultDependencies=no. A hook that runs
# `systemctl start app` for an app ordered after multi-user.target would then
# wait for the target, which waits for the hook. Dump the boot transaction
# (systemd --test, as nobody) and look; the control copy without
# DefaultDependencies=no must show the ordering, or the check proves nothing.
target_after() { # $1 = unit file; prints multi-user.target's After: lines naming it
	local d=$work/sdtest.$RANDOM
	mkdir -p "$d/multi-user.target.wants"
	sed "s#^ExecStart=.*#ExecStart=$work/hoist-boot-stub#" "$1" >"$d/hoist-boot.service"
	ln -s ../hoist-boot.service "$d/multi-user.target.wants/hoist-boot.service"
	chmod -R a+rX "$d"
	local as_nobody=()
	# systemd refuses test mode as root
	[ "$(id -u)" -eq 0 ] && as_nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	SYSTEMD_UNIT_PATH=$d: "${as_nobody[@]}" \
		/lib/systemd/systemd --test --system --unit=multi-user.target --log-level=emerg 2>/dev/null |
		awk '/^\t-> Unit /{u=$3} u=="multi-user.target:" && /After: hoist-boot.service/'
}
if [ -x /lib/systemd/systemd ]; then
	sed '/^DefaultDependencies=no$/d' "$unit" >"$work/control.service"
	control=$(target_after "$work/control.service")
	real=$(target_after "$unit")
	if [ -z "$control" ]; then
		fail "transaction dump: the control unit shows no implicit ordering (check cannot see it)"
	elif [ -n "$real" ]; then
		fail "multi-user.target is ordered after hoist-boot.service: $real"
	else
		ok "multi-user.target does not wait for hoist-boot.service (control shows: ${control//$'\t'/})"
	fi
else
	fail "/lib/systemd/systemd missing (install systemd)"
fi

# ---- the SysV init script
sh -n "$init" && ok "init script: sh -n" || fail "init script: sh -n"
if command -v dash >/dev/null 2>&1; then dash -n "$init" || fail "init script: dash -n"; fi
if command -v shellcheck >/dev/null 2>&1; then
	shellcheck -s sh "$init" && ok "init script: shellcheck" || fail "init script: shellcheck"
fi
header=$(sed -n '/^### BEGIN INIT INFO$/,/^### END INIT INFO$/p' "$init")
for want in '^# Provides: *hoist-boot$' '^# Required-Start:.*\$network' '^# Required-Start:.*\$remote_fs' \
	'^# Required-Start:.*\$syslog' '^# Default-Start: *2 3 4 5$' '^# Short-Description: ' '^# Required-Stop: '; do
	grep -Eq "$want" <<<"$header" || fail "init script LSB header lacks $want"
done
ok "init script: LSB header"

# Behaviour: a fake hoist-boot that fails with 75 (temporary) $FAKE_TEMP times
# and then exits $FAKE_FINAL.
cat >"$work/fake-hoist-boot" <<'EOF'
#!/bin/sh
n=$(cat "$FAKE_COUNT" 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" >"$FAKE_COUNT"
echo "attempt $n: $*"
[ -n "${FAKE_SLEEP:-}" ] && exec sleep "$FAKE_SLEEP"
[ "$n" -le "$FAKE_TEMP" ] && exit 75
exit "$FAKE_FINAL"
EOF
chmod 0755 "$work/fake-hoist-boot"
mkdir -p "$work/init-run" "$work/init-log"
printf 'HOIST_BOOT_RETRY_DELAY=0\nHOIST_BOOT_RETRIES=3\nHOIST_BOOT_ARGS="-v --same-version redeploy"\n' >"$work/init-defaults"
run_init() { # $1 = action; FAKE_TEMP/FAKE_FINAL set by the caller
	env SYSTEMCTL_SKIP_REDIRECT=1 HOIST_BOOT="$work/fake-hoist-boot" HOIST_BOOT_RUNDIR="$work/init-run" \
		HOIST_BOOT_LOGDIR="$work/init-log" HOIST_BOOT_DEFAULTS="$work/init-defaults" \
		FAKE_COUNT="$work/count" FAKE_TEMP="${FAKE_TEMP:-0}" FAKE_FINAL="${FAKE_FINAL:-0}" \
		sh "$init" "$1" >"$work/init-out" 2>&1
}
check_init() { # $1 action $2 want-rc $3 want-attempts $4 description
	rm -f "$work/count"
	run_init "$1"
	local rc=$? n
	n=$(cat "$work/count" 2>/dev/null || echo 0)
	[ "$rc" -eq "$2" ] && [ "$n" -eq "$3" ] && ok "init $1: $4" ||
		fail "init $1: $4: rc $rc (want $2), attempts $n (want $3): $(cat "$work/init-out")"
}
run_init status; [ $? -eq 3 ] && ok "init status before any run: 3" || fail "init status before any run: $(cat "$work/init-out")"
FAKE_TEMP=2 FAKE_FINAL=0 check_init start 0 3 "two temporary failures, then deployed"
grep -q 'attempt 3: -v --same-version redeploy' "$work/init-log/boot.log" || fail "init: boot.log lacks hoist-boot's output with HOIST_BOOT_ARGS"
grep -q 'temporary failure (exit 75); retry 2 of 3' "$work/init-log/boot.log" || fail "init: boot.log lacks the retry message"
[ "$(stat -c %a "$work/init-log")" = 750 ] || fail "init: log directory mode is not 0750"
run_init status; [ $? -eq 0 ] && grep -q 'deployed (exit 0' "$work/init-out" && ok "init status after success: 0" || fail "init status after success: $(cat "$work/init-out")"
FAKE_TEMP=99 FAKE_FINAL=0 check_init restart 75 4 "always temporary: 1 + 3 retries, then exit 75"
FAKE_TEMP=0 FAKE_FINAL=7 check_init restart 7 1 "permanent failure (7): no retry, its code returned"
run_init status; [ $? -eq 1 ] && grep -q 'failed (exit 7, access-denied' "$work/init-out" && ok "init status after failure: 1" || fail "init status after failure: $(cat "$work/init-out")"
FAKE_TEMP=1 FAKE_FINAL=13 check_init force-reload 13 2 "temporary then rolled back (13)"
run_init reload; [ $? -eq 3 ] || fail "init reload should be unimplemented (3)"
run_init bogus; [ $? -eq 2 ] || fail "init bogus action should be a usage error (2)"
run_init stop; [ $? -eq 0 ] || fail "init stop"
run_init status; [ $? -eq 3 ] || fail "init status after stop should be 3"

# stop interrupts a running deployment: status says running, stop ends it
# (SIGTERM), and the start returns at once without a retry.
rm -f "$work/count"
FAKE_SLEEP=30 run_init start &
starter=$!
for _ in $(seq 50); do [ -s "$work/init-run/hoist-boot.pid" ] && break; sleep 0.1; done
run_init status; st=$?
grep -q 'deployment running (pid' "$work/init-out" && [ "$st" -eq 0 ] && ok "init status while running: 0" ||
	fail "init status while running (rc $st): $(cat "$work/init-out")"
run_init stop
wait "$starter"; rc=$?
[ "$rc" -eq 143 ] && [ "$(cat "$work/count")" -eq 1 ] && ok "init stop interrupts a running deployment (start returned 143, no retry)" ||
	fail "init stop during a deployment: start returned $rc after $(cat "$work/count") attempt(s)"
kill "$starter" 2>/dev/null

# ---- hoist.conf: every key of agent/core/config.h, commented, with its default
python3 - "$src/agent/core/config.h" "$src/packaging/hoist.conf" "$src/man/hoist.conf.5" <<'EOF' && ok "hoist.conf and hoist.conf(5) list every setting of config.h with its default" || fail "hoist.conf vs config.h"
import re, sys
hdr, conf, man = (open(f).read() for f in sys.argv[1:4])
want = {}
for m in re.finditer(r'^\s*[a-z_0-9 ]+?\*?\s*(\w+);\s*/\*\s*(\w+)\s+(\S+)', hdr, re.M):
    member, key, default = m.groups()
    if member == key:
        want[key] = default
got = dict(re.findall(r'^#(\w+) = (.*)$', conf, re.M))
active = re.findall(r'^[a-z_]+\s*=', conf, re.M)
bad = []
if active:
    bad.append(f'settings not commented out: {active}')
for k in sorted(set(want) | set(got)):
    if k not in got:
        bad.append(f'{k} missing from hoist.conf')
    elif k not in want:
        bad.append(f'{k} is not in config.h')
    else:
        d = want[k].replace('<state_dir>', '/var/lib/hoist')
        d = d.split('|')[0].rstrip(':')
        if got[k] != d:
            bad.append(f'{k}: hoist.conf says {got[k]}, config.h {d}')
documented = set(re.findall(r'^\.It Cm (\w+) ', man, re.M))
for k in sorted(set(want) - documented):
    bad.append(f'{k} is not described in man/hoist.conf.5')
if len(want) < 20:
    bad.append(f'only {len(want)} keys found in config.h: parser broken?')
if bad:
    print('\n'.join(bad), file=sys.stderr)
    sys.exit(1)
EOF

# ---- the packages (need both programs)
missing=()
[ -f "$src/agent/deploy/hoist_main.c" ] || missing+=(agent/deploy/hoist_main.c)
[ -f "$src/agent/boot/boot_main.c" ] || missing+=(agent/boot/boot_main.c)
if [ ${#missing[@]} -gt 0 ]; then
	[ "$failures" -eq 0 ] || { echo "$failures check(s) failed" >&2; exit 1; }
	echo "skipped: package build, file list, lintian, dpkg --root install (missing ${missing[*]})"
	exit 0
fi

build=$work/build
if ! cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr -DHOIST_TESTS=OFF \
	>"$work/configure.log" 2>&1; then
	cat "$work/configure.log" >&2
	echo "FAIL: configure" >&2
	exit 1
fi
if ! cmake --build "$build" -j2 >"$work/build.log" 2>&1; then
	tail -n 30 "$work/build.log" >&2
	echo "FAIL: release build" >&2
	exit 1
fi
if ! (cd "$build" && cpack -G DEB >"$work/cpack.log" 2>&1); then
	cat "$work/cpack.log" >&2
	echo "FAIL: cpack -G DEB" >&2
	exit 1
fi
deb=$build/hoist_${version}-1_$(dpkg --print-architecture).deb
[ -f "$deb" ] || { echo "FAIL: $deb not built" >&2; exit 1; }
ok "built $(basename "$deb")"

# File list: exactly these files, with these modes, owned by root.
dpkg-deb -c "$deb" | awk '{ sub(/^\.\//, "", $6); print $1, $2, $6 }' >"$work/contents"
expect=$work/expect
{
	echo "-rwxr-xr-x root/root usr/sbin/hoist"
	echo "-rwxr-xr-x root/root usr/sbin/hoist-boot"
	echo "-rwxr-xr-x root/root usr/bin/hoist-release"
	echo "-rw-r--r-- root/root etc/hoist/hoist.conf"
	echo "-rwxr-xr-x root/root etc/init.d/hoist-boot"
	echo "-rw-r--r-- root/root lib/systemd/system/hoist-boot.service"
	echo "-rw-r--r-- root/root usr/share/man/man8/hoist.8.gz"
	echo "-rw-r--r-- root/root usr/share/man/man8/hoist-boot.8.gz"
	echo "-rw-r--r-- root/root usr/share/man/man1/hoist-release.1.gz"
	echo "-rw-r--r-- root/root usr/share/man/man5/hoist.conf.5.gz"
	echo "-rw-r--r-- root/root usr/share/man/man7/hoist-user-data.7.gz"
	echo "-rw-r--r-- root/root usr/share/doc/hoist/copyright"
	echo "-rw-r--r-- root/root usr/share/doc/hoist/changelog.Debian.gz"
	echo "-rw-r--r-- root/root usr/share/lintian/overrides/hoist"
	for d in "$src"/docs/*.md; do echo "-rw-r--r-- root/root usr/share/doc/hoist/$(basename "$d")"; done
	echo "drwx--x--x root/root var/lib/hoist/"
	echo "drwxr-x--- root/root var/log/hoist/"
} | sort >"$expect"
grep -v -e '^d' -e ' var/lib/hoist/$' -e ' var/log/hoist/$' "$work/contents" >"$work/files"
grep -e ' var/lib/hoist/$' -e ' var/log/hoist/$' "$work/contents" >>"$work/files"
sort -o "$work/files" "$work/files"
if diff -u "$expect" "$work/files" >"$work/contents.diff"; then
	ok "package file list, modes and owners"
else
	fail "package file list (- expected, + packaged):"$'\n'"$(cat "$work/contents.diff")"
fi
for doc in quickstart.md operations.md troubleshooting.md packaging.md exit-codes.md; do
	grep -q " usr/share/doc/hoist/$doc\$" "$work/contents" || fail "docs/$doc is not packaged"
done
awk '$1 ~ /^d/ && $2 != "root/root"' "$work/contents" | grep . && fail "directories not owned by root"

# Metadata: Depends lists Debian runtime libraries only; conffiles; scripts.
depends=$(dpkg-deb -f "$deb" Depends)
bad_deps=$(tr ',' '\n' <<<"$depends" | sed 's/^ *//; s/ .*//' | grep -Ev '^(lib[a-z0-9.+-]+|zlib1g)$')
[ -n "$depends" ] && [ -z "$bad_deps" ] && ok "Depends: $depends" || fail "Depends must be runtime libraries only: '$depends' (bad: $bad_deps)"
for lib in libc6 libcurl4 libarchive13 libyaml-0-2; do
	grep -q "$lib" <<<"$depends" || fail "Depends lacks $lib"
done
[ "$(dpkg-deb -I "$deb" conffiles | sort)" = "$(printf '/etc/hoist/hoist.conf\n/etc/init.d/hoist-boot')" ] &&
	ok "conffiles" || fail "conffiles: $(dpkg-deb -I "$deb" conffiles)"

# The packaged files are the sources: unit, init script, conffile, man pages.
dpkg-deb -x "$deb" "$work/x"
cmp -s "$work/x/lib/systemd/system/hoist-boot.service" "$unit" || fail "packaged unit differs from systemd/hoist-boot.service"
cmp -s "$work/x/etc/init.d/hoist-boot" "$init" || fail "packaged init script differs"
cmp -s "$work/x/etc/hoist/hoist.conf" "$src/packaging/hoist.conf" || fail "packaged hoist.conf differs"
for gz in "$work"/x/usr/share/man/man?/*.gz; do
	page=$(basename "$gz" .gz)
	gzip -dc "$gz" | cmp -s - "$src/man/$page" || fail "packaged man page $page differs from man/$page"
done
for prog in hoist hoist-boot; do
	out=$("$work/x/usr/sbin/$prog" --version 2>&1)
	rc=$?
	[ "$rc" -eq 0 ] && grep -q "$version" <<<"$out" && ok "$prog --version: $(head -n 1 <<<"$out")" ||
		fail "$prog --version (rc $rc): $out"
done
verify_unit "$work/x/usr/sbin/hoist-boot"

# lintian: no errors; warnings are listed.
lintian --tag-display-limit 0 "$deb" >"$work/lintian.txt" 2>&1
grep -E '^[EWI]: ' "$work/lintian.txt" | sed 's/^/lintian: /'
if grep -q '^E: ' "$work/lintian.txt"; then
	fail "lintian reports errors"
else
	ok "lintian: no errors ($(grep -c '^W: ' "$work/lintian.txt") warnings)"
fi

# dpkg --root: install into an empty root with the maintainer scripts run from
# outside (DPKG_ROOT): the unit must be enabled and the init script linked in
# that root, and nothing of it may appear on this host.
root=$work/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
touch "$root/var/lib/dpkg/status" "$root/var/lib/dpkg/available"
host_before=$(ls -d /etc/systemd/system/multi-user.target.wants/hoist-boot.service /etc/rc?.d/*hoist-boot 2>/dev/null)
if dpkg --root="$root" --force-script-chrootless --force-depends --log=/dev/null -i "$deb" >"$work/dpkg.log" 2>&1; then
	[ "$(readlink "$root/etc/systemd/system/multi-user.target.wants/hoist-boot.service")" = /lib/systemd/system/hoist-boot.service ] &&
		ok "dpkg --root: hoist-boot.service enabled (multi-user.target.wants)" || fail "dpkg --root: unit not enabled"
	[ -L "$root/etc/rc2.d/S01hoist-boot" ] && ok "dpkg --root: init script linked in rc2.d" || fail "dpkg --root: init script not linked: $(ls "$root"/etc/rc2.d 2>&1)"
	[ "$(stat -c %a "$root/var/lib/hoist")" = 711 ] && [ "$(stat -c %a "$root/var/log/hoist")" = 750 ] ||
		fail "dpkg --root: state/log directory modes"
	dpkg --root="$root" --force-script-chrootless --log=/dev/null --purge hoist >>"$work/dpkg.log" 2>&1 || fail "dpkg --purge: $(cat "$work/dpkg.log")"
	left=$(cd "$root" && find . -name '*hoist*' | grep -v '^./var/lib/dpkg/')
	[ -z "$left" ] && ok "dpkg --purge leaves nothing behind" || fail "dpkg --purge left: $left"
else
	fail "dpkg --root -i: $(cat "$work/dpkg.log")"
fi
host_after=$(ls -d /etc/systemd/system/multi-user.target.wants/hoist-boot.service /etc/rc?.d/*hoist-boot 2>/dev/null)
[ "$host_before" = "$host_after" ] || fail "the dpkg --root install changed this host: $host_after"

# RPM from the same install, when rpmbuild is there (Debian package rpm).
if command -v rpmbuild >/dev/null 2>&1; then
	if (cd "$build" && cpack -G RPM >"$work/cpack-rpm.log" 2>&1); then
		rpm=$(ls "$build"/hoist-*.rpm 2>/dev/null | head -n 1)
		rpm -qlp "$rpm" 2>/dev/null | sort >"$work/rpm-files"
		for f in /usr/sbin/hoist /usr/sbin/hoist-boot /etc/hoist/hoist.conf /etc/init.d/hoist-boot \
			/lib/systemd/system/hoist-boot.service /usr/share/man/man8/hoist.8.gz /var/lib/hoist /var/log/hoist; do
			grep -qx "$f" "$work/rpm-files" || fail "rpm lacks $f"
		done
		rpm -qcp "$rpm" 2>"$work/rpm-q.err" | grep -x /etc/hoist/hoist.conf >/dev/null \
			|| fail "rpm: hoist.conf is not %config ($(cat "$work/rpm-q.err"))"
		rpm -qp --scripts "$rpm" 2>/dev/null | grep 'enable hoist-boot.service' >/dev/null || fail "rpm: %post does not enable the unit"
		ok "rpm: $(basename "$rpm")"
	else
		fail "cpack -G RPM: $(tail -n 20 "$work/cpack-rpm.log")"
	fi
else
	echo "skipped: rpm (rpmbuild is not installed)"
fi

if [ "$failures" -ne 0 ]; then
	echo "$failures check(s) failed" >&2
	exit 1
fi
echo "packaging: all checks passed"
