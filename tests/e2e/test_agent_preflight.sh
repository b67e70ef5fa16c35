#!/usr/bin/env bash
# Checks before the host is touched (issue 9 items 5-9, 11, the deploy policy):
# `hoist validate`, `hoist preflight` and `hoist deploy` give the same exit code for
# every refused bundle, and a refused deploy leaves the host as it was (no file, no
# hook, no record but its own); the policy file refuses with rule, path and line;
# non-ASCII names deploy byte-exact under LANG unset, C and C.UTF-8; a bomb stops
# before it costs disk; read-only and full destinations are found before Install.
. "$(dirname "$0")/agent_lib.sh"

# mk NAME: a small bundle directory $WORK/NAME (app/ -> /srv/demo, a hook leaving a marker).
mk() {
	local d="$WORK/$1"
	rm -rf "$d"
	mkdir -p "$d/app/conf" "$d/scripts"
	echo "hello" >"$d/app/conf/a.txt"
	printf '#!/bin/sh\necho "$LIFECYCLE_EVENT $APPLICATION_NAME $DEPLOYMENT_GROUP_NAME $DEPLOYMENT_GROUP_ID" >>"$HOIST_ROOT/hook-ran"\n' \
		>"$d/scripts/hook.sh"
	chmod 755 "$d/scripts/hook.sh"
	cat >"$d/appspec.yml" <<-'EOF'
	version: 0.0
	os: linux
	files:
	  - source: app
	    destination: /srv/demo
	hooks:
	  BeforeInstall:
	    - location: scripts/hook.sh
	EOF
	echo "$d"
}

# same CODE BUNDLE FRAGMENT: validate, preflight, preflight --json and deploy all exit CODE,
# the message names FRAGMENT, and the refused deploy changed nothing on the host.
same() {
	local code=$1 b=$2 frag=$3 n=$((${N:-0} + 1))
	N=$n
	run_expect "$code" hoist validate "$b"
	[ -z "$frag" ] || grep -qF -- "$frag" "$WORK/err" || fail "validate: no '$frag' in: $(cat "$WORK/err")"
	run_expect "$code" hoist preflight "$b"
	[ -z "$frag" ] || grep -qF -- "$frag" "$WORK/err" || fail "preflight: no '$frag' in: $(cat "$WORK/err")"
	[ "$code" = 0 ] || grep -q "^refused: " "$WORK/out" || fail "preflight does not say which check refused"
	run_expect "$code" hoist preflight --json "$b"
	python3 - "$WORK/out" "$code" <<-'EOF' || fail "preflight --json report"
	import json, sys
	r = json.load(open(sys.argv[1]))
	code = int(sys.argv[2])
	assert r["exit_code"] == code, r
	assert r["result"] == ("ok" if code == 0 else "refused"), r
	bad = [c for c in r["checks"] if c["result"] == "refused"]
	assert len(bad) == (0 if code == 0 else 1), r
	assert code == 0 or r["error"] == bad[0]["error"], r
	assert code != 0 or r["appspec"]["files"] >= 1 and "BeforeInstall" in r["appspec"]["hooks"], r
	EOF
	[ "$code" = 0 ] && return 0
	run_expect "$code" hoist deploy --bundle "$b" --version "refused$n" --no-rollback
	grep -qF -- "$frag" "$WORK/err" || fail "deploy: no '$frag' in: $(cat "$WORK/err")"
	[ ! -e "$ROOT/srv/demo" ] || fail "refused deploy ($frag) installed files"
	[ ! -e "$ROOT/hook-ran" ] || fail "refused deploy ($frag) ran a hook"
	[ ! -e "$STATE/journal" ] || fail "refused deploy ($frag) left a journal"
	[ ! -e "$STATE/current" ] || fail "refused deploy ($frag) wrote current"
}

# The good bundle passes all three, and preflight lists every check.
good=$(mk good)
same 0 "$good" ""
run_expect 0 hoist preflight "$good"
for c in policy bundle appspec installed_revision install_plan runas policy_paths modes space_and_writability; do
	grep -qx "ok: $c" "$WORK/out" || fail "preflight does not report check $c: $(cat "$WORK/out")"
done

# Item 8: what deploy refused while validate said OK, with the same code.
b=$(mk twoperm)
cat >>"$b/appspec.yml" <<-'EOF'
permissions:
  - object: /srv/demo
    mode: 644
    type: [file]
  - object: /srv/demo/conf
    mode: 600
    type: [file]
EOF
same 12 "$b" "permissions setting for /srv/demo/conf/a.txt is specified more than once"

b=$(mk ctrl)
echo x >"$b/app/conf/bad$(printf '\001')name"
same 12 "$b" 'bad\x01name'

b=$(mk owner)
cat >>"$b/appspec.yml" <<-'EOF'
permissions:
  - object: /srv/demo
    owner: hoist-no-such-user
EOF
same 14 "$b" 'permissions owner "hoist-no-such-user" is not a user on this host'

# Item 7: an unknown runas user is found before Install, not when its hook runs.
b=$(mk runas)
sed -i 's|    - location: scripts/hook.sh|    - location: scripts/hook.sh\n      runas: hoist-no-such-user|' "$b/appspec.yml"
cat >>"$b/appspec.yml" <<-'EOF'
  ApplicationStart:
    - location: scripts/hook.sh
      runas: hoist-no-such-user
EOF
sed -i '/^  BeforeInstall:/,/runas/d' "$b/appspec.yml"
same 14 "$b" 'runas user "hoist-no-such-user" is not a user on this host'

# The oversized appspec: 12 everywhere (validate of the lone file said 11).
b=$(mk big)
python3 -c 'import sys; sys.stdout.write("# " + "x" * (1 << 20) + "\n")' >>"$b/appspec.yml"
same 12 "$b" "is larger than 1048576 bytes"
run_expect 12 hoist validate "$b/appspec.yml"
grep -q "is larger than 1048576 bytes" "$WORK/err" || fail "lone oversized appspec: $(cat "$WORK/err")"

# Item 11: files: indented with no-break spaces is refused, naming the character.
b=$(mk nbsp)
python3 - "$b/appspec.yml" <<-'EOF'
import sys
p = sys.argv[1]
t = open(p, encoding="utf-8").read().replace("files:", "\u00a0\u00a0files:", 1)
open(p, "w", encoding="utf-8").write(t)
EOF
same 12 "$b" "appspec.yml:3:1: top level: key 'files' contains U+00A0 NO-BREAK SPACE"

# The deploy policy: rule, path and policy line in every refusal; 17.
mkdir -p "$ROOT/etc/hoist"
printf '# demo policy\ndeny_path = /srv/demo/conf\n' >"$ROOT/etc/hoist/policy.conf"
same 17 "$good" "policy: rule deny_path /srv/demo/conf ($ROOT/etc/hoist/policy.conf:2) refuses /srv/demo/conf"
printf 'allow_path = /opt\n' >"$ROOT/etc/hoist/policy.conf"
same 17 "$good" "rule allow_path ($ROOT/etc/hoist/policy.conf:1) refuses /srv"
printf 'allow_runas = app\n' >"$ROOT/etc/hoist/policy.conf"
same 17 "$good" "rule allow_runas ($ROOT/etc/hoist/policy.conf:1) refuses runas \"root\" of hooks.BeforeInstall"
printf 'deny_paht = /srv\n' >"$ROOT/etc/hoist/policy.conf"
same 3 "$good" "$ROOT/etc/hoist/policy.conf:1: unknown policy key 'deny_paht'"
rm "$ROOT/etc/hoist/policy.conf"
# The default deny list, and the bundle's 0666 file (installed 0666 before).
b=$(mk shadow)
sed -i 's|destination: /srv/demo|destination: /etc|' "$b/appspec.yml"
mv "$b/app/conf/a.txt" "$b/app/shadow"
same 17 "$b" "policy: rule deny_path /etc/shadow (built-in default deny list"
b=$(mk ww)
chmod 666 "$b/app/conf/a.txt"
same 17 "$b" "refuses world-writable mode 0666 for /srv/demo/conf/a.txt"
printf 'allow_world_writable = /srv/demo/conf/a.txt\n' >"$ROOT/etc/hoist/policy.conf"
same 0 "$b" ""
rm "$ROOT/etc/hoist/policy.conf"

# Item 6: a bomb (a small zip declaring 256 MiB, past the 128 MiB floor) stops before writing; the same code in preflight.
python3 - "$WORK/bomb.zip" <<-'EOF'
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED)
z.writestr("appspec.yml", "version: 0.0\nos: linux\n")
z.writestr("zeros", bytes(256 << 20))
z.close()
EOF
[ "$(stat -c %s "$WORK/bomb.zip")" -lt 1000000 ] || fail "the bomb is not small"
same 12 "$WORK/bomb.zip" "would pass the decompression limit: an archive of"

# Item 5: non-ASCII names as Python's tarfile (pax, like macOS tar) and zipfile
# (UTF-8 flag) write them, deployed byte-exact whatever LANG says.
python3 - "$WORK/utf8" <<-'EOF'
import io, sys, tarfile, zipfile
spec = b"version: 0.0\nos: linux\nfiles:\n  - source: app\n    destination: /srv/utf8\n"
names = ["app/caf\u00e9.txt", "app/d\u00efr/\u65e5\u672c.txt"]
t = tarfile.open(sys.argv[1] + ".tgz", "w:gz", format=tarfile.PAX_FORMAT)
for n, d in [("appspec.yml", spec)] + [(n, n.encode() + b"\n") for n in names]:
    i = tarfile.TarInfo(n); i.size = len(d); i.mode = 0o644
    t.addfile(i, io.BytesIO(d))
t.close()
z = zipfile.ZipFile(sys.argv[1] + ".zip", "w", zipfile.ZIP_DEFLATED)
z.writestr("appspec.yml", spec)
for n in names:
    z.writestr(n, n.encode() + b"\n")
z.close()
EOF
n=0
for b in "$WORK/utf8.tgz" "$WORK/utf8.zip"; do
	for lang in unset C C.UTF-8; do
		n=$((n + 1))
		if [ $lang = unset ]; then
			run_expect 0 env -u LANG -u LC_ALL -u LC_CTYPE "$H" --root "$ROOT" deploy --bundle "$b" --version "u$n"
		else
			run_expect 0 env -u LC_ALL -u LC_CTYPE LANG=$lang "$H" --root "$ROOT" deploy --bundle "$b" --version "u$n"
		fi
		python3 - "$ROOT/srv/utf8" <<-'EOF' || fail "non-ASCII names of $b under LANG=$lang"
		import os, sys
		d = os.fsencode(sys.argv[1])
		assert sorted(os.listdir(d)) == [b"caf\xc3\xa9.txt", b"d\xc3\xafr"], os.listdir(d)
		assert os.listdir(os.path.join(d, b"d\xc3\xafr")) == [b"\xe6\x97\xa5\xe6\x9c\xac.txt"]
		assert open(os.path.join(d, b"caf\xc3\xa9.txt"), "rb").read() == "app/caf\u00e9.txt\n".encode()
		EOF
	done
done
# Item 24: a manual deploy without names gets the documented defaults.
rm -f "$ROOT/hook-ran"
run_expect 0 hoist deploy --bundle "$good" --version g1
grep -qx "BeforeInstall hoist-local LocalFleet default-local-deployment-group" "$ROOT/hook-ran" ||
	fail "hook names on a manual deploy: $(cat "$ROOT/hook-ran")"

# The installed revision's appspec is read before anything changes (its ApplicationStop
# scripts run first): unreadable, deploy refuses, and validate and preflight say the same.
cp "$STATE/revisions/g1/tree/appspec.yml" "$WORK/g1-appspec"
echo "hooks: [" >>"$STATE/revisions/g1/tree/appspec.yml"
g2=$(mk g2)
for cmd in "validate $g2" "preflight $g2" "deploy --bundle $g2 --version g2"; do
	# shellcheck disable=SC2086
	run_expect 12 hoist $cmd
	grep -q "installed revision g1 (its ApplicationStop scripts; --ignore-stop-failures skips them)" "$WORK/err" ||
		fail "$cmd: $(cat "$WORK/err")"
done
grep -qx "version=g1" "$STATE/current" || fail "a refused deploy changed current"
[ -f "$ROOT/srv/demo/conf/a.txt" ] || fail "a refused deploy removed g1's files"
cp "$WORK/g1-appspec" "$STATE/revisions/g1/tree/appspec.yml"
run_expect 0 hoist preflight "$g2"

# docs/appspec.md: a script without execute bits that runs before Install is made executable
# in the revision's tree, while its installed copy keeps the bundle's mode (planned first).
m=$(mk modes)
chmod 644 "$m/scripts/hook.sh"
sed -i 's|^files:|files:\n  - source: scripts\n    destination: /srv/demo-scripts|' "$m/appspec.yml"
rm -f "$ROOT/hook-ran"
run_expect 0 hoist deploy --bundle "$m" --version m1
grep -q "^BeforeInstall " "$ROOT/hook-ran" || fail "the non-executable BeforeInstall script did not run"
[ "$(stat -c %a "$ROOT/srv/demo-scripts/hook.sh")" = 644 ] ||
	fail "installed mode of the script: $(stat -c %a "$ROOT/srv/demo-scripts/hook.sh")"

# Read-only and full destinations are found before anything changes (needs mount namespaces).
if unshare -m true 2>/dev/null; then
	mkdir -p "$ROOT/srv/ro" "$ROOT/srv/tiny"
	b=$(mk ro)
	sed -i 's|destination: /srv/demo|destination: /srv/ro/demo|' "$b/appspec.yml"
	t=$(mk tiny)
	sed -i 's|destination: /srv/demo|destination: /srv/tiny/demo|' "$t/appspec.yml"
	head -c 3000000 /dev/urandom >"$t/app/blob"
	cat >"$WORK/ns.sh" <<-EOF
	set -e
	mount -t tmpfs -o ro,size=1m tmpfs "$ROOT/srv/ro"
	mount -t tmpfs -o size=2m tmpfs "$ROOT/srv/tiny"
	code=0; "$H" --root "$ROOT" preflight "$b" >/dev/null 2>"$WORK/ro.err" || code=\$?
	echo "ro-preflight \$code"
	code=0; "$H" --root "$ROOT" deploy --bundle "$b" --version ro1 --no-rollback 2>>"$WORK/ro.err" || code=\$?
	echo "ro-deploy \$code"
	code=0; "$H" --root "$ROOT" preflight "$t" >/dev/null 2>"$WORK/tiny.err" || code=\$?
	echo "tiny-preflight \$code"
	code=0; "$H" --root "$ROOT" deploy --bundle "$t" --version tiny1 --no-rollback 2>>"$WORK/tiny.err" || code=\$?
	echo "tiny-deploy \$code"
	ls -A "$ROOT/srv/tiny" | wc -l
	EOF
	unshare -m bash "$WORK/ns.sh" >"$WORK/ns.out" 2>&1 || fail "namespace script: $(cat "$WORK/ns.out")"
	[ "$(head -4 "$WORK/ns.out" | tr '\n' ' ')" = "ro-preflight 11 ro-deploy 11 tiny-preflight 11 tiny-deploy 11 " ] ||
		fail "read-only/full destinations: $(cat "$WORK/ns.out") $(cat "$WORK/ro.err" "$WORK/tiny.err")"
	[ "$(tail -1 "$WORK/ns.out")" = 0 ] || fail "a refused deploy wrote on the full file system"
	grep -q "is not writable\|mounted read-only" "$WORK/ro.err" || fail "read-only: $(cat "$WORK/ro.err")"
	grep -q "not enough free space on the file system of $ROOT/srv/tiny" "$WORK/tiny.err" ||
		fail "full: $(cat "$WORK/tiny.err")"
else
	echo "SKIP: no mount namespaces here; read-only and full destinations not tried" >&2
fi
echo "ok"
