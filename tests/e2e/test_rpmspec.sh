#!/usr/bin/env bash
# test_rpmspec.sh - packaging/hoist.spec builds with rpmbuild from the tree and
# packages what the .deb packages (issue 5). Skips when rpmbuild (Debian
# package rpm) is missing or the programs are not in the tree yet.
set -uo pipefail

src=${HOIST_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
spec=$src/packaging/hoist.spec
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

# The spec's version must follow the project's, built or not.
version=$(sed -n 's/^project(hoist VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
spec_version=$(sed -n 's/^Version: *//p' "$spec")
[ -n "$version" ] && [ "$version" = "$spec_version" ] && ok "spec Version $spec_version" ||
	fail "packaging/hoist.spec Version '$spec_version' is not the project's '$version'"

if ! command -v rpmbuild >/dev/null 2>&1; then
	[ "$failures" -eq 0 ] || exit 1
	echo "skipped: rpmbuild is not installed (apt-get install rpm)"
	exit 0
fi
if [ ! -f "$src/agent/deploy/hoist_main.c" ] || [ ! -f "$src/agent/boot/boot_main.c" ]; then
	[ "$failures" -eq 0 ] || exit 1
	echo "skipped: rpmbuild (agent/deploy/hoist_main.c or agent/boot/boot_main.c missing)"
	exit 0
fi

top=$(mktemp -d)
trap 'rm -rf "$top"' EXIT
# --nodeps: BuildRequires name RPM packages, which a Debian rpm database lacks.
if ! rpmbuild -bb --nodeps --define "_topdir $top" --define "hoist_srcdir $src" \
	--define 'debug_package %{nil}' --define '_smp_mflags -j2' "$spec" >"$top/build.log" 2>&1; then
	tail -n 40 "$top/build.log" >&2
	echo "FAIL: rpmbuild" >&2
	exit 1
fi
rpm=$(ls "$top"/RPMS/*/hoist-"$version"-1*.rpm 2>/dev/null | head -n 1)
[ -f "$rpm" ] || { echo "FAIL: no rpm built" >&2; exit 1; }
ok "rpmbuild: $(basename "$rpm")"

rpm -qlvp "$rpm" 2>/dev/null | awk '{print $1, $3, $4, $NF}' | grep -v ' /usr/lib/.build-id' >"$top/list"
want() { grep -qx -- "$1" "$top/list" || fail "rpm lacks '$1'"; }
want "-rwxr-xr-x root root /usr/sbin/hoist"
want "-rwxr-xr-x root root /usr/sbin/hoist-boot"
want "-rw-r--r-- root root /usr/lib/systemd/system/hoist-boot.service"
want "-rwxr-xr-x root root /etc/init.d/hoist-boot"
want "-rw-r--r-- root root /etc/hoist/hoist.conf"
want "drwx--x--x root root /var/lib/hoist"
want "drwxr-x--- root root /var/log/hoist"
for page in man8/hoist.8 man8/hoist-boot.8 man5/hoist.conf.5 man7/hoist-user-data.7; do
	want "-rw-r--r-- root root /usr/share/man/$page.gz"
done
for d in "$src"/docs/*.md; do want "-rw-r--r-- root root /usr/share/doc/hoist/$(basename "$d")"; done
grep -q -e lintian -e changelog.Debian "$top/list" && fail "rpm carries Debian-only files"
[ "$(rpm -qcp "$rpm" 2>/dev/null | sort | tr '\n' ' ')" = "/etc/hoist/hoist.conf /etc/init.d/hoist-boot " ] &&
	ok "rpm config files" || fail "rpm config files: $(rpm -qcp "$rpm" 2>/dev/null)"
scripts=$(rpm -qp --scripts "$rpm" 2>/dev/null)
grep -q 'systemctl --no-reload enable hoist-boot.service' <<<"$scripts" || fail "rpm %post does not enable the unit"
grep -q 'systemctl --no-reload disable hoist-boot.service' <<<"$scripts" || fail "rpm %preun does not disable the unit"
grep -Eq 'systemctl (--no-reload )?(re)?start' <<<"$scripts" && fail "rpm scriptlets start the unit (an image bake must not deploy)"
requires=$(rpm -qRp "$rpm" 2>/dev/null | grep -Ev '^(/bin/sh|rpmlib\(|rtld\(|config\(hoist\))')
bad=$(grep -Ev '^lib[a-z0-9._+-]+\.so' <<<"$requires")
[ -z "$bad" ] && ok "rpm Requires: shared libraries only" || fail "rpm requires more than libraries: $bad"

if [ "$failures" -ne 0 ]; then
	echo "$failures check(s) failed" >&2
	exit 1
fi
echo "rpmspec: all checks passed"
