/* test_manifest.c - release and channel manifests: format then parse gives
 * the same fields (sizes past 2^32 included); malformed, incomplete,
 * duplicated and mixed-kind manifests are refused with the line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "exitcodes.h"
#include "manifest.h"

#define SHA "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"
#define HEAD "hoist-manifest 1\nkind=release\napp=web\nversion=1.0\nbundle=s3://b/p/web/1.0/web.tgz\nsha256=" SHA "\n"

static void test_roundtrip(void **state)
{
	struct manifest m = {0}, back;
	struct herr err = {0};
	struct buf b;
	(void)state;
	buf_init(&b, MANIFEST_MAX_BYTES);
	m.kind = MANIFEST_CHANNEL;
	strcpy(m.app, "web");   /* test code: banned only in agent/ */
	strcpy(m.version, "2.0-rc.1+b7");
	strcpy(m.bundle, "s3://hoist-releases/releases/web/2.0/web.tgz");
	memset(m.sha256, 0xab, 32);
	m.size = 4294967296ULL + 4097; /* past 2^32 */
	m.created = 1796605323;
	strcpy(m.channel, "prod");
	m.seq = 18446744073709551615ULL;
	m.has_expires = 1;
	m.expires = 1796605323 + 86400;
	assert_int_equal(manifest_format(&m, &b), 0);
	assert_non_null(strstr(b.data, "size=4294971393\n"));
	assert_non_null(strstr(b.data, "created=2026-12-07T"));
	assert_int_equal(manifest_parse(b.data, b.len, &back, &err), 0);
	assert_memory_equal(&m, &back, sizeof(m));
	buf_free(&b);
}

static void expect_bad(const char *text, const char *frag)
{
	struct manifest m;
	struct herr err = {0};
	if (manifest_parse(text, strlen(text), &m, &err) == 0)
		fail_msg("accepted: %s", text);
	assert_int_equal(err.code, HOIST_EXIT_INTEGRITY);
	if (strstr(err.msg, frag) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, frag);
}

static void test_refusals(void **state)
{
	(void)state;
	expect_bad("", "empty manifest");
	expect_bad("hoist-manifest 2\n", "not a hoist manifest");
	expect_bad(HEAD "size=1\ncreated=2026-12-07T01:00:00Z", "line 8: no line end");
	expect_bad(HEAD "size=1\n", "no created");
	expect_bad(HEAD "size=01\ncreated=2026-12-07T01:00:00Z\n", "line 7: invalid size");
	expect_bad(HEAD "size=18446744073709551616\ncreated=2026-12-07T01:00:00Z\n", "invalid size");
	expect_bad(HEAD "size=1\ncreated=yesterday\n", "line 8: invalid created");
	expect_bad(HEAD "size=1\nsize=2\n", "line 8: duplicate key 'size'");
	expect_bad(HEAD "size=1\ncolor=blue\n", "line 8: unknown key 'color'");
	expect_bad(HEAD "size=1\n\n", "line 8: expected key=value");
	expect_bad(HEAD "size=1\ncreated=2026-12-07T01:00:00Z\nseq=3\n", "release manifest with channel or seq");
	expect_bad("hoist-manifest 1\nkind=channel\napp=web\nversion=1.0\nbundle=s3://b/k\nsha256=" SHA
	           "\nsize=1\ncreated=2026-12-07T01:00:00Z\nchannel=prod\n",
	           "channel manifest without channel and seq");
	expect_bad("hoist-manifest 1\nkind=release\napp=../etc\n", "line 3: invalid app");
	expect_bad("hoist-manifest 1\nkind=release\nbundle=https://x/y\n", "line 3: invalid bundle");
	expect_bad("hoist-manifest 1\nkind=release\nbundle=s3://bucket/\n", "invalid bundle");
	expect_bad("hoist-manifest 1\nkind=release\nsha256=abc\n", "invalid sha256");
	expect_bad("hoist-manifest 1\nkind=channel\nseq=0\n", "invalid seq");
	expect_bad("hoist-manifest 1\nkind=other\n", "invalid kind");
}

static void test_split_s3(void **state)
{
	char b[64], k[64];
	(void)state;
	assert_int_equal(manifest_split_s3("s3://bkt/a/b/c", b, sizeof(b), k, sizeof(k)), 0);
	assert_string_equal(b, "bkt");
	assert_string_equal(k, "a/b/c");
	assert_int_equal(manifest_split_s3("s3:///k", b, sizeof(b), k, sizeof(k)), -1);
	assert_int_equal(manifest_split_s3("s3://bkt", b, sizeof(b), k, sizeof(k)), -1);
	assert_int_equal(manifest_split_s3("http://bkt/k", b, sizeof(b), k, sizeof(k)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_split_s3),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
