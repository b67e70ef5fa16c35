#!/usr/bin/env bash
# Issue 10 end to end against moto (IAM enforced): hoist-release as the build
# role (may write releases/* only) publishes two signed versions, promotes
# staging, a host follows the channel (the instance role may only read),
# production is promoted from staging, a re-run converges (no download), a
# newer version is promoted and applied, and promoting the previous version
# rolls the host back. Request counts on the channel path; the tree's
# hoist-boot and hoist run under a private root.
set -uo pipefail
# shellcheck source=/dev/null
. "$HOIST_SOURCE_DIR/tests/e2e/release_lib.sh"
requests() { bed_requests "$@"; }

# --- build side: bundle (reproducible), keys, publish ---
build key generate "$W/rel" >/dev/null || fail "key generate"
[ "$(stat -c %a "$W/rel.sec")" = 600 ] && ok "secret key mode 0600" || fail "secret key mode"
cp "$W/rel.pub" "$ROOT/etc/hoist/trusted-keys/"
for v in 1.0 2.0; do
	s=$(make_src $v)
	build bundle "$s" -o "$W/web-$v.tgz" >"$W/bundle.out" 2>&1 || fail "bundle $v: $(cat "$W/bundle.out")"
	out=$(build publish "$W/web-$v.tgz" --to "$U" --app web --version $v --sign-key "$W/rel.sec" 2>&1) ||
		fail "publish $v: $out"
done
grep -q "^sha256=$(sha256sum "$W/web-2.0.tgz" | cut -d' ' -f1)$" "$W/bundle.out" && ok "bundle prints sha256" ||
	fail "bundle sha256 line"
grep -q "release=$U/web/2.0/release" <<<"$out" && grep -q "channel=$U/web/channels/ENV" <<<"$out" &&
	ok "publish prints both directives" || fail "publish output: $out"
out=$(build publish "$W/web-2.0.tgz" --to "$U" --app web --version 2.0 --sign-key "$W/rel.sec" 2>&1)
[ $? -eq 15 ] && grep -q "already published" <<<"$out" && ok "a published version is never replaced (15)" ||
	fail "republish: $out"

# --- staging, then a host following it ---
build promote --channel "$U/web/channels/staging" --version 1.0 --sign-key "$W/rel.sec" >/dev/null ||
	fail "promote staging"
directive "channel=$U/web/channels/staging"
boot
[ $RC -eq 0 ] && [ "$(served)" = 1.0 ] && ok "boot follows staging: 1.0 deployed" || fail "staging boot: rc $RC"
n=$(requests); [ "$n" -le 6 ] && ok "first boot on the channel path: $n requests (<= 6)" || fail "$n requests"

# --- production from staging; the host is moved to prod by the operator ---
out=$(build promote --channel "$U/web/channels/prod" --from-channel "$U/web/channels/staging" --sign-key "$W/rel.sec")
grep -q "seq 1" <<<"$out" && ok "prod promoted from staging: seq 1" || fail "promote prod: $out"
directive "channel=$U/web/channels/prod"
boot
[ $RC -eq 0 ] && grep -q "already deployed; nothing to do" "$W/out" && ok "re-run converges: nothing to do" ||
	fail "converge: rc $RC"
n=$(requests); [ "$n" -le 4 ] && ok "re-run with nothing new: $n requests (<= 4)" || fail "$n requests on re-run"
[ "$(requests --s3 /hoist-releases/releases/web/1.0/web-1.0.tgz)" = 0 ] && ok "no bundle download" ||
	fail "bundle fetched again"

# a role name kept from an earlier instance profile: forgotten, the role listed again
echo "hoist-old-role" >"$STATE/imds-role"
boot
[ $RC -eq 0 ] && [ "$(cat "$STATE/imds-role")" = "$BED_ROLE_NAME" ] && ok "a stale cached role name is replaced" ||
	fail "stale role: rc $RC, cached $(cat "$STATE/imds-role")"

# --- a new version, then a rollback by promotion ---
build promote --channel "$U/web/channels/prod" --version 2.0 --sign-key "$W/rel.sec" >/dev/null || fail "promote 2.0"
boot
[ $RC -eq 0 ] && [ "$(served)" = 2.0 ] && ok "re-run applies 2.0" || fail "2.0: rc $RC"
out=$(build promote --channel "$U/web/channels/prod" --version 1.0 --sign-key "$W/rel.sec")
grep -q "seq 3 (was 2.0)" <<<"$out" && ok "rollback is a promotion with a higher seq (3)" || fail "rollback: $out"
boot
[ $RC -eq 0 ] && [ "$(served)" = 1.0 ] && ok "re-run rolls back to 1.0" || fail "rollback boot: rc $RC"
grep -rqx "seq=3" "$STATE/channels/" && ok "seq 3 recorded in the state directory" || fail "seq record"

json=$(build channel show "$U/web/channels/prod" --json)
"$BED_PYTHON" -c '
import json, sys
j = json.loads(sys.argv[1])
assert j["app"] == "web" and j["version"] == "1.0" and j["seq"] == 3 and j["expires"] is None, j
assert j["size"] > 0 and len(j["sha256"]) == 64 and j["bundle"].endswith("/web/1.0/web-1.0.tgz"), j
assert j["created"].endswith("Z") and j["signed_by"], j
' "$json" && ok "channel show --json" || fail "channel show: $json"

# --- release=: one published release through its signed manifest ---
directive "release=$U/web/2.0/release"
boot
[ $RC -eq 0 ] && [ "$(served)" = 2.0 ] && grep -q "release manifest $U/web/2.0/release: web 2.0, signed by trusted key rel.pub" "$W/out" &&
	ok "release= deploys the release it names" || fail "release=: rc $RC"
directive "channel=$U/web/channels/prod"
boot
[ $RC -eq 0 ] && [ "$(served)" = 1.0 ] && ok "back on the channel: 1.0" || fail "back to prod: rc $RC"

# --- concurrent promotions: each either wins a seq of its own or fails with 15, never silently ---
seq0=$(build channel show "$U/web/channels/prod" --json | "$BED_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["seq"])')
pids=()
for i in 1 2 3 4; do
	build promote --channel "$U/web/channels/prod" --version 2.0 --sign-key "$W/rel.sec" >"$W/race$i.out" 2>&1 &
	pids+=($!)
done
won=0 lost=0
for i in 1 2 3 4; do
	wait "${pids[$((i - 1))]}"
	case $? in
	0) won=$((won + 1)) ;;
	15) grep -q "another promotion won" "$W/race$i.out" && lost=$((lost + 1)) ;;
	esac
done
seq1=$(build channel show "$U/web/channels/prod" --json | "$BED_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["seq"])')
seqs=$(sed -n 's/.*: seq \([0-9]*\).*/\1/p' "$W"/race*.out | sort -n | uniq -d)
[ $((won + lost)) -eq 4 ] && [ "$won" -ge 1 ] && [ "$seq1" -eq $((seq0 + won)) ] && [ -z "$seqs" ] &&
	ok "4 concurrent promotions: $won won (seq $seq0 -> $seq1, no seq twice), $lost refused with 15" ||
	fail "race: won $won lost $lost seq $seq0 -> $seq1 dup [$seqs]: $(cat "$W"/race*.out)"

# --- hoist-boot --channel overrides the directive ---
build promote --channel "$U/web/channels/canary" --version 2.0 --sign-key "$W/rel.sec" --expires 2h >/dev/null
build channel show "$U/web/channels/canary" --json | "$BED_PYTHON" -c '
import datetime, json, sys
e = datetime.datetime.strptime(json.load(sys.stdin)["expires"], "%Y-%m-%dT%H:%M:%SZ")
left = (e - datetime.datetime.utcnow()).total_seconds()
assert 7000 < left <= 7200, left' && ok "--expires 2h: expires two hours from now" || fail "expires"
boot --channel "$U/web/channels/canary"
[ $RC -eq 0 ] && [ "$(served)" = 2.0 ] && ok "--channel overrides the directive" || fail "--channel: rc $RC"

[ $FAILS -eq 0 ] || { echo "$FAILS failure(s)" >&2; exit 1; }
echo "all ok"
