#!/usr/bin/env bash
# hoist-boot against the bed with S3 keys that hold "." and ".." segments
# (legal S3 keys): the request moto receives names exactly the key of the
# directive (read from moto's request log, which records the wire path),
# the signature over that path verifies, and the bundle is the one published
# under that key, not an object elsewhere that squashing would name.
set -u
# shellcheck source=/dev/null
source "$HOIST_SOURCE_DIR/tests/e2e/boot_lib.sh"
# shellcheck source=/dev/null
source "$HOIST_SOURCE_DIR/tests/bed/bed.sh"
trap 'bed_stop; rm -rf -- "$T"' EXIT
bed_start || exit 1

n=0
for key in "bundles/../../other/x.tgz" "releases/./app.tgz" "../up.tgz" "releases/v1/../app.tgz" \
	"./here.tgz" "releases//../twin.tgz"; do
	n=$((n + 1))
	head -c 20000 /dev/urandom >"$T/b$n"
	sha=$(sha256sum "$T/b$n" | cut -d' ' -f1)
	bed_publish "$T/b$n" "$key" >/dev/null || exit 1
	# a decoy where RFC 3986 squashing of the path-style URL would land
	# (in our own bucket, so the role may read it and only the bytes tell)
	squashed=$("$BED_PYTHON" -c 'import posixpath,sys; p=posixpath.normpath("/"+sys.argv[1]+"/"+sys.argv[2]); print(p.lstrip("/"))' \
		"$BED_BUCKET" "$key")
	case $squashed in "$BED_BUCKET"/*)
		head -c 20000 /dev/urandom >"$T/decoy$n"
		bed_publish "$T/decoy$n" "${squashed#"$BED_BUCKET"/}" >/dev/null || exit 1 ;;
	esac
	directive "version=$n" "bundle=s3://$BED_BUCKET/$key" "sha256=$sha"
	bed_set_user_data "$T/ud"
	bed_clear_requests
	run_boot --download-only
	expect_rc 0 "key '$key' downloaded"
	path=$(bed_requests --s3 --method GET --list | "$BED_PYTHON" -c 'import json,sys; print("\n".join(json.loads(l)["path"] for l in sys.stdin if l.strip()))')
	if [ "$path" = "/$BED_BUCKET/$key" ]; then ok "request line names /$BED_BUCKET/$key"; else fail "moto received '$path', want '/$BED_BUCKET/$key'"; fi
	cmp -s "$T/b$n" "$CACHE/$sha.bundle" && ok "the object under '$key' was fetched" || fail "cached bundle differs"
done
finish
