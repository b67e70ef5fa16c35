/* test_userdata.c - the hoist directive in EC2 user data: a table of valid
 * and invalid directives (exit code and message fragment naming key and
 * line), gzip and gzip bombs, MIME multipart (cloud-init style, base64,
 * nested), CRLF and BOM, size limits and hostile version strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "exitcodes.h"
#include "herr.h"
#include "userdata.h"

#define GOOD_BODY                                                                                            \
	"version=1.2.3\n"                                                                                    \
	"bundle=s3://my-bucket/app/{version}.tgz\n"                                                          \
	"environment=prod\n"                                                                                 \
	"application=web\n"
#define GOOD "#hoist\n" GOOD_BODY

/* Expects failure with code and a message containing frag (and frag2 when given). */
static void expect_err_n(const uint8_t *data, size_t len, int code, const char *frag, const char *frag2,
                         const char *label)
{
	struct directive d;
	struct herr err = {0};
	if (userdata_parse(data, len, &d, &err) == 0)
		fail_msg("%s: accepted", label);
	if (err.code != code || strstr(err.msg, frag) == NULL ||
	    (frag2 != NULL && strstr(err.msg, frag2) == NULL))
		fail_msg("%s: got code %d \"%s\", want code %d with \"%s\"%s%s", label, err.code, err.msg,
		         code, frag, frag2 ? " and " : "", frag2 ? frag2 : "");
	/* nothing is left allocated or half-filled */
	assert_null(d.version);
	assert_null(d.bundle);
	assert_null(d.key);
}

static void expect_err(const char *s, int code, const char *frag, const char *frag2)
{
	expect_err_n((const uint8_t *)s, strlen(s), code, frag, frag2, s);
}

/* Parses s and fails the test on error. */
static void expect_ok_n(const uint8_t *data, size_t len, struct directive *d, const char *label)
{
	struct herr err = {0};
	if (userdata_parse(data, len, d, &err) != 0)
		fail_msg("%s: refused: code %d %s", label, err.code, err.msg);
}

static void expect_good_fields(const struct directive *d)
{
	assert_string_equal(d->version, "1.2.3");
	assert_string_equal(d->bundle, "s3://my-bucket/app/1.2.3.tgz");
	assert_string_equal(d->bucket, "my-bucket");
	assert_string_equal(d->key, "app/1.2.3.tgz");
	assert_string_equal(d->environment, "prod");
	assert_string_equal(d->application, "web");
	assert_string_equal(d->deployment_group, "web-prod");
}

static void test_minimal(void **state)
{
	struct directive d;
	(void)state;
	expect_ok_n((const uint8_t *)GOOD, strlen(GOOD), &d, "minimal");
	expect_good_fields(&d);
	assert_false(d.has_sha256);
	assert_null(d.region);
	assert_null(d.endpoint);
	assert_int_equal(d.line_of_version, 2);
	directive_free(&d);
	directive_free(&d); /* twice is harmless */
}

static void test_full(void **state)
{
	const char *s = "\n\n#hoist   v1\n"
	                "# release of the week\n"
	                "  version = 2026.11.22-rc1+build.7  \n"
	                "\n"
	                "bundle\t=\ts3://releases.example-1/web/{version}/app-{version}.tgz\n"
	                "sha256 = 9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08\n"
	                "environment = staging\n"
	                "application = shop_web\n"
	                "deployment_group = shop-web-blue\n"
	                "region = us-gov-west-1\n"
	                "endpoint = http://127.0.0.1:5000\n";
	struct directive d;
	(void)state;
	expect_ok_n((const uint8_t *)s, strlen(s), &d, "full");
	assert_string_equal(d.version, "2026.11.22-rc1+build.7");
	assert_int_equal(d.line_of_version, 5); /* lines count from the first line of the text */
	assert_string_equal(
	    d.bundle, "s3://releases.example-1/web/2026.11.22-rc1+build.7/app-2026.11.22-rc1+build.7.tgz");
	assert_string_equal(d.bucket, "releases.example-1");
	assert_string_equal(d.key, "web/2026.11.22-rc1+build.7/app-2026.11.22-rc1+build.7.tgz");
	assert_true(d.has_sha256);
	assert_int_equal(d.sha256[0], 0x9f);
	assert_int_equal(d.sha256[31], 0x08);
	assert_string_equal(d.environment, "staging");
	assert_string_equal(d.application, "shop_web");
	assert_string_equal(d.deployment_group, "shop-web-blue");
	assert_string_equal(d.region, "us-gov-west-1");
	assert_string_equal(d.endpoint, "http://127.0.0.1:5000");
	directive_free(&d);
}

/* Keys that need encoding: the directive keeps them decoded, once. */
static void test_awkward_keys(void **state)
{
	static const struct {
		const char *bundle, *key;
	} t[] = {
	    {"s3://b-1/a b.tgz", "a b.tgz"},
	    {"s3://b-1/a%20b.tgz", "a b.tgz"},
	    {"s3://b-1/v1+2=3.tgz", "v1+2=3.tgz"},
	    {"s3://b-1/v1%2B2%3D3.tgz", "v1+2=3.tgz"},
	    {"s3://b-1/\xc3\xbcn\xc3\xaf/c\xc3\xb6"
	     "d\xc3\xa9.tgz",
	     "\xc3\xbcn\xc3\xaf/c\xc3\xb6"
	     "d\xc3\xa9.tgz"},
	    {"s3://b-1/til~de.tgz", "til~de.tgz"},
	    {"s3://b-1/dir/sub dir/x.tgz", "dir/sub dir/x.tgz"},
	    {"s3://b-1/100%25.tgz", "100%.tgz"},
	    {"s3://b--1/x", "x"},
	};
	char s[512];
	struct directive d;
	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(s, sizeof(s), "#hoist\nversion=1\nbundle=%s\nenvironment=e\napplication=a\n",
		         t[i].bundle);
		expect_ok_n((const uint8_t *)s, strlen(s), &d, t[i].bundle);
		assert_string_equal(d.key, t[i].key);
		assert_string_equal(d.bucket, i == 8 ? "b--1" : "b-1");
		directive_free(&d);
	}
}

/* The big table of invalid directives: code, and fragments naming key and line. */
static void test_invalid_table(void **state)
{
	static const struct {
		const char *text;
		int code;
		const char *frag, *frag2;
	} t[] = {
	    /* structure */
	    {"#hoist\nversion=1\nbundle=s3://bkt/k\nenvironment=e\n", HOIST_EXIT_DIRECTIVE,
	     "missing required key 'application'", NULL},
	    {"#hoist\nbundle=s3://bkt/k\nenvironment=e\napplication=a\n", HOIST_EXIT_DIRECTIVE,
	     "missing required key 'version'", NULL},
	    {"#hoist\nversion=1\nenvironment=e\napplication=a\n", HOIST_EXIT_DIRECTIVE,
	     "missing required key 'bundle'", NULL},
	    {"#hoist\nversion=1\nbundle=s3://bkt/k\napplication=a\n", HOIST_EXIT_DIRECTIVE,
	     "missing required key 'environment'", NULL},
	    {"#hoist\n", HOIST_EXIT_DIRECTIVE, "missing required key 'version'", NULL},
	    {"#hoist\nverison=1\n" GOOD_BODY, HOIST_EXIT_DIRECTIVE, "line 2: unknown key 'verison'", NULL},
	    {"#hoist\n" GOOD_BODY "Version=2\n", HOIST_EXIT_DIRECTIVE, "line 6: unknown key 'Version'", NULL},
	    {"#hoist\n" GOOD_BODY "\n# x\nversion=2\n", HOIST_EXIT_DIRECTIVE,
	     "line 8: duplicate key 'version'", "first on line 2"},
	    {"#hoist\n" GOOD_BODY "application = web\n", HOIST_EXIT_DIRECTIVE,
	     "line 6: duplicate key 'application'", "first on line 5"},
	    {"#hoist\nversion=1\nbundle s3://bkt/k\n", HOIST_EXIT_DIRECTIVE, "line 3: expected key=value",
	     NULL},
	    {"#hoist\n" GOOD_BODY "=x\n", HOIST_EXIT_DIRECTIVE, "line 6: unknown key ''", NULL},
	    {"#hoist v2\n" GOOD_BODY, HOIST_EXIT_DIRECTIVE, "line 1: unsupported format 'v2'", NULL},
	    {"#hoist version=1\n" GOOD_BODY, HOIST_EXIT_DIRECTIVE, "line 1: unsupported format", NULL},
	    /* hostile and bad versions */
	    {"#hoist\nversion=../1\nbundle=s3://bkt/{version}\nenvironment=e\napplication=a\n",
	     HOIST_EXIT_DIRECTIVE, "line 2: version: '../1' is not a safe name", NULL},
	    {"#hoist\nversion=1;rm -rf /\nbundle=s3://bkt/k\nenvironment=e\napplication=a\n",
	     HOIST_EXIT_DIRECTIVE, "line 2: version:", "not a safe name"},
	    {"#hoist\nversion=$(x)\nbundle=s3://bkt/k\nenvironment=e\napplication=a\n", HOIST_EXIT_DIRECTIVE,
	     "line 2: version: '$(x)'", NULL},
	    {"#hoist\nversion=a/b\nbundle=s3://bkt/k\nenvironment=e\napplication=a\n", HOIST_EXIT_DIRECTIVE,
	     "line 2: version: 'a/b'", NULL},
	    {"#hoist\nversion=\nbundle=s3://bkt/k\nenvironment=e\napplication=a\n", HOIST_EXIT_DIRECTIVE,
	     "line 2: version: ''", NULL},
	    {"#hoist\nversion=-rf\nbundle=s3://bkt/k\nenvironment=e\napplication=a\n", HOIST_EXIT_DIRECTIVE,
	     "line 2: version: '-rf'", NULL},
	    {"#hoist\nversion=.\nbundle=s3://bkt/k\nenvironment=e\napplication=a\n", HOIST_EXIT_DIRECTIVE,
	     "line 2: version: '.'", NULL},
	    {"#hoist\nversion=..\nbundle=s3://bkt/k\nenvironment=e\napplication=a\n", HOIST_EXIT_DIRECTIVE,
	     "line 2: version: '..'", NULL},
	    {"#hoist\nversion=1..2\nbundle=s3://bkt/k\nenvironment=e\napplication=a\n", HOIST_EXIT_DIRECTIVE,
	     "line 2: version: '1..2'", NULL},
	    {"#hoist\nversion=`id`\nbundle=s3://bkt/k\nenvironment=e\napplication=a\n", HOIST_EXIT_DIRECTIVE,
	     "line 2: version:", NULL},
	    {"#hoist\nversion=1 2\nbundle=s3://bkt/k\nenvironment=e\napplication=a\n", HOIST_EXIT_DIRECTIVE,
	     "line 2: version: '1 2'", NULL},
	    {"#hoist\nversion=1\t2\nbundle=s3://bkt/k\nenvironment=e\napplication=a\n", HOIST_EXIT_DIRECTIVE,
	     "line 2: version: value has control characters", NULL},
	    {"#hoist\nversion=v\xc3\xa9\nbundle=s3://bkt/k\nenvironment=e\napplication=a\n",
	     HOIST_EXIT_DIRECTIVE, "line 2: version:", NULL},
	    {"#hoist\nversion=1|2\nbundle=s3://bkt/k\nenvironment=e\napplication=a\n", HOIST_EXIT_DIRECTIVE,
	     "line 2: version:", NULL},
	    {"#hoist\nversion=1\nbundle=s3://bkt/k\nenvironment=prod/../x\napplication=a\n",
	     HOIST_EXIT_DIRECTIVE, "line 4: environment:", NULL},
	    {"#hoist\nversion=1\nbundle=s3://bkt/k\nenvironment=e\napplication=a;b\n", HOIST_EXIT_DIRECTIVE,
	     "line 5: application: 'a;b'", NULL},
	    {"#hoist\nversion=1\nbundle=s3://bkt/k\nenvironment=e\napplication=a\ndeployment_group=-x\n",
	     HOIST_EXIT_DIRECTIVE, "line 6: deployment_group: '-x'", NULL},
	    /* bundle */
	    {"#hoist\nversion=1\nbundle=https://bkt/k\nenvironment=e\napplication=a\n", HOIST_EXIT_DIRECTIVE,
	     "line 3: bundle:", "not an s3://bucket/key URL"},
	    {"#hoist\nversion=1\nbundle=s3://Bkt/k\nenvironment=e\napplication=a\n", HOIST_EXIT_DIRECTIVE,
	     "line 3: bundle:", "valid S3 bucket"},
	    {"#hoist\nversion=1\nbundle=s3://ab/k\nenvironment=e\napplication=a\n", HOIST_EXIT_DIRECTIVE,
	     "line 3: bundle:", "valid S3 bucket"},
	    {"#hoist\nversion=1\nbundle=s3://a..b/k\nenvironment=e\napplication=a\n", HOIST_EXIT_DIRECTIVE,
	     "line 3: bundle:", "valid S3 bucket"},
	    {"#hoist\nversion=1\nbundle=s3://a.-b/k\nenvironment=e\napplication=a\n", HOIST_EXIT_DIRECTIVE,
	     "line 3: bundle:", "valid S3 bucket"},
	    {"#hoist\nversion=1\nbundle=s3://-abc/k\nenvironment=e\napplication=a\n", HOIST_EXIT_DIRECTIVE,
	     "line 3: bundle:", "valid S3 bucket"},
	    {"#hoist\nversion=1\nbundle=s3://abc-/k\nenvironment=e\napplication=a\n", HOIST_EXIT_DIRECTIVE,
	     "line 3: bundle:", "valid S3 bucket"},
	    {"#hoist\nversion=1\nbundle=s3://192.168.1.10/k\nenvironment=e\napplication=a\n",
	     HOIST_EXIT_DIRECTIVE, "line 3: bundle:", "valid S3 bucket"},
	    {"#hoist\nversion=1\nbundle=s3://bk_t/k\nenvironment=e\napplication=a\n", HOIST_EXIT_DIRECTIVE,
	     "line 3: bundle:", "valid S3 bucket"},
	    {"#hoist\nversion=1\nbundle=s3://xn--bkt/k\nenvironment=e\napplication=a\n", HOIST_EXIT_DIRECTIVE,
	     "line 3: bundle:", "valid S3 bucket"},
	    {"#hoist\nversion=1\nbundle=s3://bkt\nenvironment=e\napplication=a\n", HOIST_EXIT_DIRECTIVE,
	     "line 3: bundle:", "valid S3 bucket"},
	    {"#hoist\nversion=1\nbundle=s3://bkt/\nenvironment=e\napplication=a\n", HOIST_EXIT_DIRECTIVE,
	     "line 3: bundle:", "no object key"},
	    {"#hoist\nversion=1\nbundle=s3://bkt//k\nenvironment=e\napplication=a\n", HOIST_EXIT_DIRECTIVE,
	     "line 3: bundle:", "key starting with '/'"},
	    {"#hoist\nversion=1\nbundle=s3://bkt/{ver}.tgz\nenvironment=e\napplication=a\n",
	     HOIST_EXIT_DIRECTIVE, "line 3: bundle: unknown placeholder '{ver}'", NULL},
	    {"#hoist\nversion=1\nbundle=s3://bkt/{VERSION}.tgz\nenvironment=e\napplication=a\n",
	     HOIST_EXIT_DIRECTIVE, "line 3: bundle: unknown placeholder '{VERSION}'", NULL},
	    {"#hoist\nversion=1\nbundle=s3://bkt/{version.tgz\nenvironment=e\napplication=a\n",
	     HOIST_EXIT_DIRECTIVE, "line 3: bundle: unknown placeholder", NULL},
	    {"#hoist\nversion=1\nbundle=s3://bkt/x}.tgz\nenvironment=e\napplication=a\n",
	     HOIST_EXIT_DIRECTIVE, "line 3: bundle: '}' without", NULL},
	    {"#hoist\nversion=1\nbundle=s3://bkt/a%zz\nenvironment=e\napplication=a\n", HOIST_EXIT_DIRECTIVE,
	     "line 3: bundle:", "not %XX"},
	    {"#hoist\nversion=1\nbundle=s3://bkt/a%2\nenvironment=e\napplication=a\n", HOIST_EXIT_DIRECTIVE,
	     "line 3: bundle:", "not %XX"},
	    {"#hoist\nversion=1\nbundle=s3://bkt/a%00b\nenvironment=e\napplication=a\n", HOIST_EXIT_DIRECTIVE,
	     "line 3: bundle: the key has a control character", NULL},
	    /* sha256, region, endpoint */
	    {"#hoist\n" GOOD_BODY "sha256=abc\n", HOIST_EXIT_DIRECTIVE,
	     "line 6: sha256: 'abc' is not 64 hexadecimal digits", NULL},
	    {"#hoist\n" GOOD_BODY "sha256="
	     "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a0"
	     "\n",
	     HOIST_EXIT_DIRECTIVE, "line 6: sha256:", NULL},
	    {"#hoist\n" GOOD_BODY "sha256="
	     "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a088"
	     "\n",
	     HOIST_EXIT_DIRECTIVE, "line 6: sha256:", NULL},
	    {"#hoist\n" GOOD_BODY "sha256="
	     "zf86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	     "\n",
	     HOIST_EXIT_DIRECTIVE, "line 6: sha256:", NULL},
	    {"#hoist\n" GOOD_BODY "sha256=\n", HOIST_EXIT_DIRECTIVE, "line 6: sha256:", NULL},
	    {"#hoist\n" GOOD_BODY "region=US-EAST-1\n", HOIST_EXIT_DIRECTIVE, "line 6: region: 'US-EAST-1'",
	     NULL},
	    {"#hoist\n" GOOD_BODY "region=useast1\n", HOIST_EXIT_DIRECTIVE, "line 6: region:", NULL},
	    {"#hoist\n" GOOD_BODY "region=us-east\n", HOIST_EXIT_DIRECTIVE, "line 6: region:", NULL},
	    {"#hoist\n" GOOD_BODY "region=east-1\n", HOIST_EXIT_DIRECTIVE, "line 6: region:", NULL},
	    {"#hoist\n" GOOD_BODY "region=us--east-1\n", HOIST_EXIT_DIRECTIVE, "line 6: region:", NULL},
	    {"#hoist\n" GOOD_BODY "region=us-east--1\n", HOIST_EXIT_DIRECTIVE, "line 6: region:", NULL},
	    {"#hoist\n" GOOD_BODY "region=us-east-1;\n", HOIST_EXIT_DIRECTIVE, "line 6: region:", NULL},
	    {"#hoist\n" GOOD_BODY "endpoint=ftp://x\n", HOIST_EXIT_DIRECTIVE, "line 6: endpoint: 'ftp://x'",
	     NULL},
	    {"#hoist\n" GOOD_BODY "endpoint=localhost:9000\n", HOIST_EXIT_DIRECTIVE,
	     "line 6: endpoint:", NULL},
	    {"#hoist\n" GOOD_BODY "endpoint=http://\n", HOIST_EXIT_DIRECTIVE, "line 6: endpoint:", NULL},
	    {"#hoist\n" GOOD_BODY "endpoint=http://a b\n", HOIST_EXIT_DIRECTIVE, "line 6: endpoint:", NULL},
	    /* no directive at all: exit 5 */
	    {"#!/bin/bash\necho hello\n", HOIST_EXIT_NO_DIRECTIVE, "no \"#hoist\" directive", NULL},
	    {"#cloud-config\npackages: [nginx]\n", HOIST_EXIT_NO_DIRECTIVE, "no \"#hoist\"", NULL},
	    {"#hoistx\n" GOOD_BODY, HOIST_EXIT_NO_DIRECTIVE, "no \"#hoist\"", NULL},
	    {"# hoist\n" GOOD_BODY, HOIST_EXIT_NO_DIRECTIVE, "no \"#hoist\"", NULL},
	    {GOOD_BODY, HOIST_EXIT_NO_DIRECTIVE, "no \"#hoist\"", NULL},
	    {"  \n\r\n\n", HOIST_EXIT_NO_DIRECTIVE, "no \"#hoist\"", NULL},
	    {"", HOIST_EXIT_NO_DIRECTIVE, "no user data", NULL},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		expect_err(t[i].text, t[i].code, t[i].frag, t[i].frag2);
}

/* Lengths at the limits of a token. */
static void test_token_lengths(void **state)
{
	char v[200], s[512];
	struct directive d;
	(void)state;
	memset(v, 'a', 128);
	v[128] = '\0';
	snprintf(s, sizeof(s), "#hoist\nversion=%s\nbundle=s3://bkt/k\nenvironment=e\napplication=a\n", v);
	expect_ok_n((const uint8_t *)s, strlen(s), &d, "128");
	assert_int_equal(strlen(d.version), 128);
	directive_free(&d);
	v[128] = 'a';
	v[129] = '\0';
	snprintf(s, sizeof(s), "#hoist\nversion=%s\nbundle=s3://bkt/k\nenvironment=e\napplication=a\n", v);
	expect_err(s, HOIST_EXIT_DIRECTIVE, "line 2: version:", "not a safe name");
	/* a 1025-byte key after expansion */
	char *big = malloc(1400);
	assert_non_null(big);
	int n = snprintf(big, 1400, "#hoist\nversion=1\nenvironment=e\napplication=a\nbundle=s3://bkt/");
	memset(big + n, 'k', 1025);
	big[n + 1025] = '\n';
	big[n + 1026] = '\0';
	expect_err(big, HOIST_EXIT_DIRECTIVE, "line 5: bundle: the key is longer than 1024", NULL);
	free(big);
}

static void test_token_ok_table(void **state)
{
	static const struct {
		const char *s;
		int ok;
	} t[] = {
	    {"1", 1},    {"1.2.3", 1}, {"v1+build_7-rc.1", 1},
	    {"A_b", 1},  {"0", 1},     {"", 0},
	    {".", 0},    {"..", 0},    {".hidden", 0},
	    {"-rf", 0},  {"a..b", 0},  {"a/b", 0},
	    {"a b", 0},  {"$(x)", 0},  {"a;b", 0},
	    {"a&b", 0},  {"a|b", 0},   {"a>b", 0},
	    {"a*b", 0},  {"a?b", 0},   {"a'b", 0},
	    {"a\"b", 0}, {"a\\b", 0},  {"a\nb", 0},
	    {"a~b", 0},  {"a:b", 0},   {"a=b", 0},
	    {"a%b", 0},  {"a{b", 0},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (directive_token_ok(t[i].s, 128) != t[i].ok)
			fail_msg("directive_token_ok(\"%s\") != %d", t[i].s, t[i].ok);
	assert_int_equal(directive_token_ok("abc", 2), 0);
	assert_int_equal(directive_token_ok(NULL, 2), 0);
}

/* A NUL byte anywhere in the directive is refused, with its line. */
static void test_nul_refused(void **state)
{
	const char s[] = "#hoist\nversion=1\nbundle=s3://bkt/k\0x\nenvironment=e\napplication=a\n";
	(void)state;
	expect_err_n((const uint8_t *)s, sizeof(s) - 1, HOIST_EXIT_DIRECTIVE, "line 3: NUL byte", NULL,
	             "nul");
}

/* CRLF line ends and a BOM, as a Windows editor writes them. */
static void test_crlf_bom(void **state)
{
	const char *s = "\xef\xbb\xbf#hoist\r\nversion = 1.2.3\r\nbundle=s3://my-bucket/app/{version}.tgz\r\n"
	                "environment=prod\r\napplication=web\r\n";
	const char *bad =
	    "\xef\xbb\xbf#hoist\r\nversion = 1.2.3\r\nbundle=s3://my-bucket/app/{version}.tgz\r\n"
	    "environment=prod\r\napplication=web\r\nregion=nowhere\r\n";
	struct directive d;
	(void)state;
	expect_ok_n((const uint8_t *)s, strlen(s), &d, "crlf+bom");
	expect_good_fields(&d);
	directive_free(&d);
	expect_err(bad, HOIST_EXIT_DIRECTIVE, "line 6: region: 'nowhere'", NULL);
}

/* Raw user data over 16 KiB is refused before any decoding; exactly 16 KiB is read. */
static void test_size_limit(void **state)
{
	size_t n = USERDATA_MAX_BYTES + 1;
	char *s = malloc(n + 1);
	struct directive d;
	(void)state;
	assert_non_null(s);
	memset(s, '#', n);
	memcpy(s, GOOD, strlen(GOOD));
	s[n] = '\0';
	expect_err_n((const uint8_t *)s, n, HOIST_EXIT_DIRECTIVE, "more than the 16384 allowed", NULL,
	             "16K+1");
	/* the same text at exactly the limit: padding is a trailing comment line */
	s[n - 1] = '\0';
	expect_ok_n((const uint8_t *)s, n - 1, &d, "16K");
	expect_good_fields(&d);
	directive_free(&d);
	free(s);
}

/* gzip-compresses in[0..n) into a heap buffer. */
static uint8_t *gz(const void *in, size_t n, size_t *outlen)
{
	z_stream zs;
	size_t cap = compressBound((uLong)n) + 64;
	uint8_t *out = malloc(cap);
	assert_non_null(out);
	memset(&zs, 0, sizeof(zs));
	assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY), Z_OK);
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)n;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	*outlen = cap - zs.avail_out;
	deflateEnd(&zs);
	return out;
}

/* base64 of in[0..n), with a line break every 76 characters as MIME writers do. */
static char *b64(const void *in, size_t n)
{
	size_t enc = 4 * ((n + 2) / 3);
	char *flat = malloc(enc + 1), *out = malloc(enc + enc / 76 + 2);
	size_t o = 0;
	assert_non_null(flat);
	assert_non_null(out);
	EVP_EncodeBlock((unsigned char *)flat, in, (int)n);
	for (size_t i = 0; i < enc; i++) {
		out[o++] = flat[i];
		if (i % 76 == 75)
			out[o++] = '\n';
	}
	out[o] = '\0';
	free(flat);
	return out;
}

static void test_gzip(void **state)
{
	size_t n;
	uint8_t *z = gz(GOOD, strlen(GOOD), &n);
	struct directive d;
	(void)state;
	expect_ok_n(z, n, &d, "gzip");
	expect_good_fields(&d);
	directive_free(&d);
	/* truncated: damaged, exit 4 */
	expect_err_n(z, n / 2, HOIST_EXIT_DIRECTIVE, "gzip data is", NULL, "truncated gzip");
	/* a flipped byte in the deflate data */
	z[n / 2] ^= 0x55;
	expect_err_n(z, n, HOIST_EXIT_DIRECTIVE, "gzip data is damaged", NULL, "corrupt gzip");
	free(z);
	/* a gzip'd shell script is not a directive */
	z = gz("#!/bin/sh\necho hi\n", 18, &n);
	expect_err_n(z, n, HOIST_EXIT_NO_DIRECTIVE, "no \"#hoist\"", NULL, "gzip script");
	free(z);
}

/* 32 MiB of zeros compress to ~32 KiB... so use 12 MiB (~12 KiB, under the raw limit):
 * inflating must stop at the 64 KiB budget. */
static void test_gzip_bomb(void **state)
{
	size_t big = 12u << 20, n;
	char *zeros = calloc(1, big);
	uint8_t *z;
	(void)state;
	assert_non_null(zeros);
	memcpy(zeros, GOOD, strlen(GOOD));
	z = gz(zeros, big, &n);
	free(zeros);
	assert_true(n <= USERDATA_MAX_BYTES);
	expect_err_n(z, n, HOIST_EXIT_DIRECTIVE, "more than 65536 bytes after decompression", NULL, "bomb");
	free(z);
	/* just over the budget is refused too; just under is fine */
	char *text = malloc(USERDATA_MAX_DECODED + 2);
	struct directive d;
	assert_non_null(text);
	memset(text, '#', USERDATA_MAX_DECODED + 1);
	memcpy(text, GOOD, strlen(GOOD));
	z = gz(text, USERDATA_MAX_DECODED + 1, &n);
	expect_err_n(z, n, HOIST_EXIT_DIRECTIVE, "more than 65536 bytes", NULL, "64K+1");
	free(z);
	z = gz(text, USERDATA_MAX_DECODED, &n);
	expect_ok_n(z, n, &d, "64K");
	directive_free(&d);
	free(z);
	free(text);
}

#define CLOUD_CONFIG_PART                                                                                    \
	"--==BOUND==\n"                                                                                      \
	"Content-Type: text/cloud-config; charset=\"us-ascii\"\n"                                            \
	"MIME-Version: 1.0\n"                                                                                \
	"Content-Transfer-Encoding: 7bit\n"                                                                  \
	"Content-Disposition: attachment; filename=\"cloud-config.txt\"\n"                                   \
	"\n"                                                                                                 \
	"#cloud-config\n"                                                                                    \
	"packages: [nginx]\n"

#define MIME_HEAD                                                                                            \
	"Content-Type: multipart/mixed; boundary=\"==BOUND==\"\n"                                            \
	"MIME-Version: 1.0\n"                                                                                \
	"\n"

static void test_mime_two_parts(void **state)
{
	const char *s = MIME_HEAD CLOUD_CONFIG_PART "--==BOUND==\n"
	                                            "Content-Type: text/x-hoist; charset=\"us-ascii\"\n"
	                                            "\n"
	                                            "#hoist\n" GOOD_BODY "--==BOUND==--\n";
	struct directive d;
	(void)state;
	expect_ok_n((const uint8_t *)s, strlen(s), &d, "mime 2");
	expect_good_fields(&d);
	assert_int_equal(d.line_of_version, 2); /* counted from the part's first line */
	directive_free(&d);
}

/* An x-hoist part may leave out the "#hoist" line; lines count from the part's start. */
static void test_mime_typed_part_without_marker(void **state)
{
	const char *s = MIME_HEAD "--==BOUND==\nContent-Type: text/x-hoist\n\n" GOOD_BODY "--==BOUND==--\n";
	const char *bad =
	    MIME_HEAD "--==BOUND==\nContent-Type: text/x-hoist\n\n" GOOD_BODY "sha256=nope\n--==BOUND==--\n";
	struct directive d;
	(void)state;
	expect_ok_n((const uint8_t *)s, strlen(s), &d, "typed");
	assert_int_equal(d.line_of_version, 1);
	directive_free(&d);
	expect_err(bad, HOIST_EXIT_DIRECTIVE, "line 5: sha256: 'nope'", NULL);
}

static void test_mime_three_parts_plain(void **state)
{
	const char *s = MIME_HEAD CLOUD_CONFIG_PART "--==BOUND==\n"
	                                            "Content-Type: text/x-shellscript\n"
	                                            "\n"
	                                            "#!/bin/sh\necho first boot\n"
	                                            "--==BOUND==\n"
	                                            "Content-Type: text/plain\n"
	                                            "\n"
	                                            "#hoist v1\n" GOOD_BODY "\n--==BOUND==--\n"
	                                            "epilogue is ignored\n";
	struct directive d;
	(void)state;
	expect_ok_n((const uint8_t *)s, strlen(s), &d, "mime 3");
	expect_good_fields(&d);
	directive_free(&d);
}

static void test_mime_base64_part(void **state)
{
	char *enc = b64(GOOD, strlen(GOOD)), s[4096];
	struct directive d;
	(void)state;
	snprintf(s, sizeof(s),
	         MIME_HEAD CLOUD_CONFIG_PART
	         "--==BOUND==\nContent-Type: text/x-hoist\nContent-Transfer-Encoding: base64\n\n%s\n"
	         "--==BOUND==--\n",
	         enc);
	expect_ok_n((const uint8_t *)s, strlen(s), &d, "mime b64");
	expect_good_fields(&d);
	directive_free(&d);
	free(enc);
	/* gzip inside base64 inside an x-hoist part, and as an application/gzip part */
	size_t zn;
	uint8_t *z = gz(GOOD, strlen(GOOD), &zn);
	enc = b64(z, zn);
	free(z);
	snprintf(s, sizeof(s),
	         MIME_HEAD
	         "--==BOUND==\nContent-Type: text/x-hoist\nContent-Transfer-Encoding: base64\n\n%s\n"
	         "--==BOUND==--\n",
	         enc);
	expect_ok_n((const uint8_t *)s, strlen(s), &d, "mime b64 gzip");
	expect_good_fields(&d);
	directive_free(&d);
	snprintf(s, sizeof(s),
	         MIME_HEAD CLOUD_CONFIG_PART
	         "--==BOUND==\nContent-Type: application/x-gzip\nContent-Transfer-Encoding: base64\n\n%s\n"
	         "--==BOUND==--\n",
	         enc);
	expect_ok_n((const uint8_t *)s, strlen(s), &d, "mime gzip part");
	expect_good_fields(&d);
	directive_free(&d);
	free(enc);
	/* damaged base64 */
	expect_err(MIME_HEAD "--==BOUND==\nContent-Type: text/x-hoist\nContent-Transfer-Encoding: base64\n\n"
	                     "I2hvaXN0Cn*=\n--==BOUND==--\n",
	           HOIST_EXIT_DIRECTIVE, "MIME part 1: bad base64", NULL);
	/* an encoding we do not read */
	expect_err(
	    MIME_HEAD
	    "--==BOUND==\nContent-Type: text/x-hoist\nContent-Transfer-Encoding: quoted-printable\n\n" GOOD
	    "--==BOUND==--\n",
	    HOIST_EXIT_DIRECTIVE, "'quoted-printable' is not supported", NULL);
}

/* The whole MIME document gzip-compressed, as "cloud-init" users often send it. */
static void test_gzip_of_mime(void **state)
{
	const char *s =
	    MIME_HEAD CLOUD_CONFIG_PART "--==BOUND==\nContent-Type: text/x-hoist\n\n" GOOD "--==BOUND==--\n";
	size_t n;
	uint8_t *z = gz(s, strlen(s), &n);
	struct directive d;
	(void)state;
	expect_ok_n(z, n, &d, "gzip mime");
	expect_good_fields(&d);
	directive_free(&d);
	free(z);
}

static void test_mime_two_directives(void **state)
{
	const char *s =
	    MIME_HEAD CLOUD_CONFIG_PART "--==BOUND==\nContent-Type: text/x-hoist\n\n" GOOD
	                                "--==BOUND==\nContent-Type: text/plain\n\n" GOOD "--==BOUND==--\n";
	(void)state;
	expect_err(s, HOIST_EXIT_DIRECTIVE, "more than one hoist directive (MIME parts 2 and 3)", NULL);
}

static void test_mime_nested(void **state)
{
	const char *s = MIME_HEAD CLOUD_CONFIG_PART "--==BOUND==\n"
	                                            "Content-Type: multipart/alternative; boundary=inner-b\n"
	                                            "\n"
	                                            "--inner-b\n"
	                                            "Content-Type: text/plain\n\n"
	                                            "just some notes\n"
	                                            "--inner-b\n"
	                                            "Content-Type: text/x-hoist\n\n" GOOD "--inner-b--\n"
	                                            "--==BOUND==--\n";
	const char *no_boundary =
	    MIME_HEAD "--==BOUND==\nContent-Type: multipart/mixed\n\nx\n--==BOUND==--\n";
	struct directive d;
	(void)state;
	expect_ok_n((const uint8_t *)s, strlen(s), &d, "nested");
	expect_good_fields(&d);
	directive_free(&d);
	expect_err(no_boundary, HOIST_EXIT_DIRECTIVE, "multipart without a boundary", NULL);
}

static void test_mime_no_directive(void **state)
{
	const char *s = MIME_HEAD CLOUD_CONFIG_PART
	    "--==BOUND==\nContent-Type: text/x-shellscript\n\n#!/bin/sh\necho hi\n"
	    "--==BOUND==--\n";
	const char *no_delims = MIME_HEAD "no boundary lines at all\n";
	/* a cloud-config part that happens to start with #hoist is not ours */
	const char *cc = MIME_HEAD "--==BOUND==\nContent-Type: text/cloud-config\n\n" GOOD "--==BOUND==--\n";
	(void)state;
	expect_err(s, HOIST_EXIT_NO_DIRECTIVE, "no \"#hoist\"", NULL);
	expect_err(cc, HOIST_EXIT_NO_DIRECTIVE, "no \"#hoist\"", NULL);
	expect_err(no_delims, HOIST_EXIT_DIRECTIVE, "without any \"--==BOUND==\" boundary line", NULL);
}

/* The same MIME document with CRLF everywhere and a BOM in the directive part. */
static void test_mime_crlf(void **state)
{
	const char *lf = MIME_HEAD CLOUD_CONFIG_PART "--==BOUND==\nContent-Type: text/x-hoist\n\n"
	                                             "\xef\xbb\xbf" GOOD "--==BOUND==--\n";
	char crlf[4096];
	size_t o = 0;
	struct directive d;
	(void)state;
	for (const char *p = lf; *p != '\0'; p++) {
		if (*p == '\n')
			crlf[o++] = '\r';
		crlf[o++] = *p;
	}
	crlf[o] = '\0';
	expect_ok_n((const uint8_t *)crlf, o, &d, "mime crlf");
	expect_good_fields(&d);
	assert_string_equal(d.application, "web"); /* no stray '\r' */
	directive_free(&d);
}

/* Header variants: MIME-Version first, a folded Content-Type, an unquoted boundary with
 * a following parameter, and header names in another case. */
static void test_mime_header_variants(void **state)
{
	const char *s = "MIME-Version: 1.0\n"
	                "content-type: multipart/mixed;\n"
	                "\tboundary=plain-b; charset=us-ascii\n"
	                "\n"
	                "preamble text\n"
	                "--plain-b\n"
	                "CONTENT-TYPE: TEXT/X-HOIST\n"
	                "\n" GOOD "--plain-b--\n";
	struct directive d;
	(void)state;
	expect_ok_n((const uint8_t *)s, strlen(s), &d, "header variants");
	expect_good_fields(&d);
	directive_free(&d);
}

/* Nesting deeper than UD_MAX_DEPTH levels stops. */
static void test_deep_gzip(void **state)
{
	size_t n, m;
	uint8_t *a = gz(GOOD, strlen(GOOD), &n), *b;
	(void)state;
	for (int i = 0; i < 6; i++) {
		b = gz(a, n, &m);
		free(a);
		a = b;
		n = m;
	}
	expect_err_n(a, n, HOIST_EXIT_DIRECTIVE, "nested deeper than", NULL, "deep gzip");
	free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_minimal),
	    cmocka_unit_test(test_full),
	    cmocka_unit_test(test_awkward_keys),
	    cmocka_unit_test(test_invalid_table),
	    cmocka_unit_test(test_token_lengths),
	    cmocka_unit_test(test_token_ok_table),
	    cmocka_unit_test(test_nul_refused),
	    cmocka_unit_test(test_crlf_bom),
	    cmocka_unit_test(test_size_limit),
	    cmocka_unit_test(test_gzip),
	    cmocka_unit_test(test_gzip_bomb),
	    cmocka_unit_test(test_mime_two_parts),
	    cmocka_unit_test(test_mime_typed_part_without_marker),
	    cmocka_unit_test(test_mime_three_parts_plain),
	    cmocka_unit_test(test_mime_base64_part),
	    cmocka_unit_test(test_gzip_of_mime),
	    cmocka_unit_test(test_mime_two_directives),
	    cmocka_unit_test(test_mime_nested),
	    cmocka_unit_test(test_mime_no_directive),
	    cmocka_unit_test(test_mime_crlf),
	    cmocka_unit_test(test_mime_header_variants),
	    cmocka_unit_test(test_deep_gzip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
