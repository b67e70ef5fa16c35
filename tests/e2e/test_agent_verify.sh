#!/usr/bin/env bash
# hoist verify: the installed files of the current revision against its manifest, like
# rpm -V: clean, one byte changed, mode changed, owner changed, file deleted, file
# replaced by a symlink; JSON; cannot verify (no revision, damaged manifest, old list).
. "$(dirname "$0")/agent_lib.sh"

run_expect 21 hoist verify
grep -q "no current revision" "$WORK/err" || fail "no revision: $(cat "$WORK/err")"
run_expect 21 hoist verify --json
[ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["result"])' "$WORK/out")" = cannot-verify ] ||
	fail "no revision JSON: $(cat "$WORK/out")"

run_expect 0 hoist deploy --bundle "$(make_src v1)" --version v1
M="$STATE/revisions/v1/installed.manifest"
[ -f "$M" ] || fail "no manifest written"
head -1 "$M" | grep -qx "hoist-manifest 1" || fail "manifest header"
grep -q "^F [0-9a-f]\{64\} 755 $(id -u) $(id -g) [0-9]* /opt/hoist-sample/bin/hello.sh$" "$M" ||
	fail "manifest entry of hello.sh: $(grep hello "$M")"

run_expect 0 hoist verify
[ ! -s "$WORK/out" ] || fail "clean verify printed: $(cat "$WORK/out")"
run_expect 0 hoist verify --json
python3 - "$WORK/out" <<'PY' || fail "clean JSON: $(cat "$WORK/out")"
import json, sys
v = json.load(open(sys.argv[1]))
assert v["result"] == "clean" and v["differences"] == [] and v["version"] == "v1", v
assert v["checked"] >= 4 and v["manifest"] == "installed.manifest", v
PY

A="$ROOT/opt/hoist-sample"
msg="$A/conf/message.txt"
# One byte changed, same size.
cp "$msg" "$WORK/message.orig"
python3 - "$msg" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[0] ^= 1
open(p, "r+b").write(b)
PY
run_expect 20 hoist verify
[ "$(cat "$WORK/out")" = "..5......    /opt/hoist-sample/conf/message.txt" ] || fail "one byte: $(cat "$WORK/out")"
cp "$WORK/message.orig" "$msg"
run_expect 0 hoist verify

# Content and size changed.
echo "more" >>"$msg"
run_expect 20 hoist verify
[ "$(cat "$WORK/out")" = "S.5......    /opt/hoist-sample/conf/message.txt" ] || fail "appended: $(cat "$WORK/out")"
cp "$WORK/message.orig" "$msg"

# Mode changed.
chmod 600 "$A/bin/hello.sh"
run_expect 20 hoist verify
[ "$(cat "$WORK/out")" = ".M.......    /opt/hoist-sample/bin/hello.sh" ] || fail "mode: $(cat "$WORK/out")"
chmod 755 "$A/bin/hello.sh"

# Owner and group changed (only root can give a file away).
if [ "$(id -u)" = 0 ]; then
	chown 1:1 "$A/README.txt"
	run_expect 20 hoist verify
	[ "$(cat "$WORK/out")" = ".....UG..    /opt/hoist-sample/README.txt" ] || fail "owner: $(cat "$WORK/out")"
	chown 0:0 "$A/README.txt"
fi

# Deleted, and replaced by a symlink (to a file with the very same content).
cp "$A/README.txt" "$WORK/readme"
rm "$A/README.txt"
ln -s "$WORK/readme" "$A/bin/hello.sh.tmp" && mv "$A/bin/hello.sh" "$WORK/hello" && mv "$A/bin/hello.sh.tmp" "$A/bin/hello.sh"
run_expect 20 hoist verify
cat >"$WORK/want" <<'TXT'
missing     /opt/hoist-sample/README.txt
.M5......    /opt/hoist-sample/bin/hello.sh
TXT
sort "$WORK/out" | diff -u <(sort "$WORK/want") - >&2 || fail "deleted and symlink"
run_expect 20 hoist verify --json
python3 - "$WORK/out" <<'PY' || fail "drift JSON: $(cat "$WORK/out")"
import json, sys
v = json.load(open(sys.argv[1]))
assert v["result"] == "drift" and v["differing"] == 2, v
d = {x["path"]: x for x in v["differences"]}
assert d["/opt/hoist-sample/README.txt"]["problems"] == ["missing"], d
h = d["/opt/hoist-sample/bin/hello.sh"]
assert "type" in h["problems"] and h["expected_type"] == "file" and h["actual_type"] == "symlink", h
PY
rm "$A/bin/hello.sh"
mv "$WORK/hello" "$A/bin/hello.sh"
cp "$WORK/readme" "$A/README.txt"
run_expect 0 hoist verify

# A damaged manifest cannot be verified against; without one, the installed list is used.
cp "$M" "$WORK/manifest.orig"
echo "F zz" >>"$M"
run_expect 21 hoist verify
grep -q "installed.manifest line [0-9]*: malformed entry" "$WORK/err" || fail "damaged manifest: $(cat "$WORK/err")"
rm "$M"
chmod 600 "$A/bin/hello.sh"
run_expect 20 hoist verify
[ "$(cat "$WORK/out")" = ".M.......    /opt/hoist-sample/bin/hello.sh" ] || fail "list fallback: $(cat "$WORK/out")"
grep -q "has no manifest" "$WORK/err" || fail "list fallback not said"
chmod 755 "$A/bin/hello.sh"
cp "$WORK/manifest.orig" "$M"

# What the revision's own hooks change belongs to it: an AfterInstall that templates a
# config and tightens its mode leaves a clean verify; a later edit is still drift.
s2=$(make_src v2)
cat >>"$s2/scripts/after_install.sh" <<'SH'
echo "templated for $HOIST_ENVIRONMENT" >>"$APP/conf/message.txt"
chmod 640 "$APP/conf/message.txt"
SH
run_expect 0 hoist deploy --bundle "$s2" --version v2 --environment prod
grep -q "templated for prod" "$A/conf/message.txt" || fail "AfterInstall did not template"
[ "$(stat -c %a "$A/conf/message.txt")" = 640 ] || fail "AfterInstall did not chmod"
run_expect 0 hoist verify
[ ! -s "$WORK/out" ] || fail "hooks' own changes reported as drift: $(cat "$WORK/out")"
grep -q "^F $(sha256sum "$A/conf/message.txt" | cut -d' ' -f1) 640 .* /opt/hoist-sample/conf/message.txt$" \
	"$STATE/revisions/v2/installed.manifest" || fail "manifest not updated: $(grep message "$STATE/revisions/v2/installed.manifest")"
echo "edited" >>"$A/conf/message.txt"
run_expect 20 hoist verify
[ "$(cat "$WORK/out")" = "S.5......    /opt/hoist-sample/conf/message.txt" ] || fail "edit after v2: $(cat "$WORK/out")"
run_expect 0 hoist rollback --to v2
run_expect 0 hoist verify

# A deployment in progress (journal present) cannot be verified.
echo "hoist-journal 1" >"$STATE/journal"
run_expect 21 hoist verify
rm "$STATE/journal"
run_expect 0 hoist verify
echo ok
