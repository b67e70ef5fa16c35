#!/usr/bin/env bash
# What a newcomer meets first (issue 9, items 1 and 3): the README's first two
# commands run on a fresh Debian 12 used as root, which has no sudo; and the
# tree is self-contained, so a fresh clone builds and tests with nothing beside
# it (no test or build input reads the reference folder beside the checkout).
set -u
src=${HOIST_SOURCE_DIR:?}
FAILS=0
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
ok() { echo "ok: $*"; }

# The first fenced block of the README, its first two commands.
mapfile -t cmds < <(awk '/^```/ { if (inb) exit; inb = 1; next } inb && NF { sub(/[ \t]*#.*/, ""); print }' \
	"$src/README.md" | head -n 2)
[ "${#cmds[@]}" -eq 2 ] && ok "README starts with two commands" || fail "README's first block has ${#cmds[@]} commands"
want=("bash scripts/demo.sh" "bash scripts/test.sh")
for i in 0 1; do
	c=${cmds[$i]:-}
	[ "$c" = "${want[$i]}" ] && ok "command $((i + 1)): $c" || fail "command $((i + 1)) is '$c', want '${want[$i]}'"
	# A fresh Debian 12 root has bash but no sudo: every word that is run must exist there.
	first=${c%% *}
	case $first in
	bash | sh) ok "'$first' exists on a fresh Debian 12" ;;
	*) fail "'$first' does not exist on a fresh Debian 12 used as root" ;;
	esac
	script=${c#* }
	[ -f "$src/$script" ] && ok "$script exists" || fail "$script missing"
done
# The scripts the commands run (and the one they call) never call sudo: as root none is needed.
for s in demo.sh test.sh setup.sh; do
	if grep -nE '(^|[;&|(`[:space:]])sudo([[:space:]]|$)' "$src/scripts/$s" | grep -v '^[0-9]*:[[:space:]]*#'; then
		fail "scripts/$s calls sudo"
	else
		ok "scripts/$s calls no sudo"
	fi
done
# The CI entry point runs exactly the README's test command.
grep -qx 'exec bash scripts/test.sh' "$src/.ci/run" && ok ".ci/run runs the README's command" || fail ".ci/run differs"

# Self-contained: nothing that builds or tests reads the shared reference folder.
hits=$(cd "$src" && grep -rnE 'HOIST_SHARED[_]DIR|shared/testdata|/work/shared' \
	CMakeLists.txt agent tests scripts .ci --include='*.c' --include='*.h' --include='*.txt' \
	--include='*.sh' --include='*.py' --include='*.cmake' --include=run \
	--exclude=test_boot_newcomer.sh 2>/dev/null)
[ -z "$hits" ] && ok "no build or test input reads the reference folder beside the checkout" || fail "reads the reference folder: $hits"
n=$(find "$src/tests/unit/fixtures/sigv4" -name request.txt 2>/dev/null | wc -l)
[ "$n" -ge 30 ] && ok "the AWS SigV4 suite is in tests/unit/fixtures/sigv4 ($n cases)" || fail "$n SigV4 cases in the tree"
grep -q 'aws-c-auth' "$src/tests/unit/fixtures/sigv4/README.md" 2>/dev/null && ok "the suite says where it comes from" \
	|| fail "tests/unit/fixtures/sigv4/README.md does not name its source"

if [ "$FAILS" -ne 0 ]; then
	echo "$FAILS check(s) failed" >&2
	exit 1
fi
echo "all checks passed"
