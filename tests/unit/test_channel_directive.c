/* test_channel_directive.c - the directive's channel= and release= keys
 * (they replace version+bundle and exclude them, sha256 and each other),
 * hoist-boot --channel (directive_use_channel), and the trust settings of
 * hoist.conf (trusted_keys_dir, require_signature). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "config.h"
#include "exitcodes.h"
#include "userdata.h"

#define HEAD "#hoist\napplication=web\nenvironment=prod\n"

static int parse(const char *text, struct directive *d, struct herr *err)
{
	return userdata_parse((const uint8_t *)text, strlen(text), d, err);
}

static void test_channel_ok(void **state)
{
	struct directive d;
	struct herr err = {0};
	(void)state;
	assert_int_equal(parse(HEAD "channel = s3://bkt/releases/web/channels/prod\n", &d, &err), 0);
	assert_string_equal(d.manifest_url, "s3://bkt/releases/web/channels/prod");
	assert_true(d.manifest_is_channel);
	assert_null(d.version);
	assert_null(d.bucket);
	assert_false(d.has_sha256);
	assert_string_equal(d.deployment_group, "web-prod");
	directive_free(&d);
	assert_int_equal(parse(HEAD "release=s3://bkt/releases/web/1.0/release\n", &d, &err), 0);
	assert_false(d.manifest_is_channel);
	directive_free(&d);
}

static void expect_bad(const char *text, int code, const char *frag)
{
	struct directive d;
	struct herr err = {0};
	if (parse(text, &d, &err) == 0)
		fail_msg("accepted: %s", text);
	assert_int_equal(err.code, code);
	if (strstr(err.msg, frag) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, frag);
	directive_free(&d);
}

static void test_channel_refusals(void **state)
{
	(void)state;
	expect_bad(HEAD "channel=s3://b/web/channels/prod\nversion=1\n", HOIST_EXIT_DIRECTIVE,
	           "line 5: 'version' cannot be combined with 'channel' (line 4)");
	expect_bad(HEAD "channel=s3://b/web/channels/prod\nbundle=s3://b/k\n", HOIST_EXIT_DIRECTIVE,
	           "'bundle' cannot be combined with 'channel'");
	expect_bad(HEAD "release=s3://b/web/1/release\nsha256=" "00000000000000000000000000000000"
	                "00000000000000000000000000000000\n",
	           HOIST_EXIT_DIRECTIVE, "'sha256' cannot be combined with 'release'");
	expect_bad(HEAD "channel=s3://b/web/channels/prod\nrelease=s3://b/web/1/release\n", HOIST_EXIT_DIRECTIVE,
	           "'release' cannot be combined with 'channel'");
	expect_bad(HEAD "channel=https://b/web/channels/prod\n", HOIST_EXIT_DIRECTIVE, "not an s3://BUCKET/KEY URL");
	expect_bad(HEAD "channel=s3://b\n", HOIST_EXIT_DIRECTIVE, "not an s3://BUCKET/KEY URL");
	expect_bad(HEAD "channel=s3://b/\n", HOIST_EXIT_DIRECTIVE, "not an s3://BUCKET/KEY URL");
	expect_bad(HEAD, HOIST_EXIT_DIRECTIVE, "missing required key 'version' (or channel, or release)");
}

static void test_use_channel(void **state)
{
	struct directive d;
	struct herr err = {0};
	(void)state;
	assert_int_equal(parse(HEAD "version=1\nbundle=s3://bkt/k-{version}.tgz\n", &d, &err), 0);
	assert_int_equal(directive_use_channel(&d, "s3://b/web/channels/canary", &err), 0);
	assert_string_equal(d.manifest_url, "s3://b/web/channels/canary");
	assert_true(d.manifest_is_channel);
	assert_null(d.version);
	assert_null(d.key);
	assert_int_equal(directive_use_channel(&d, "file:///etc/passwd", &err), -1);
	assert_int_equal(err.code, HOIST_EXIT_USAGE);
	directive_free(&d);
}

static void test_trust_settings(void **state)
{
	struct hoist_config c;
	struct herr err = {0};
	const char *ok = "trusted_keys_dir = /opt/keys\nrequire_signature = yes\n";
	(void)state;
	config_init(&c);
	assert_string_equal(c.trusted_keys_dir, "/etc/hoist/trusted-keys");
	assert_int_equal(c.require_signature, REQUIRE_SIG_AUTO);
	assert_int_equal(config_parse(&c, ok, strlen(ok), "hoist.conf", &err), 0);
	assert_string_equal(c.trusted_keys_dir, "/opt/keys");
	assert_int_equal(c.require_signature, REQUIRE_SIG_YES);
	assert_int_equal(config_set(&c, "require_signature", "no", &err), 0);
	assert_int_equal(c.require_signature, REQUIRE_SIG_NO);
	assert_int_equal(config_set(&c, "require_signature", "auto", &err), 0);
	assert_int_equal(c.require_signature, REQUIRE_SIG_AUTO);
	assert_int_equal(config_set(&c, "require_signature", "maybe", &err), -1);
	assert_non_null(strstr(err.msg, "require_signature: expected auto, yes or no, got 'maybe'"));
	assert_int_equal(config_set(&c, "trusted_keys_dir", "relative/keys", &err), -1);
	config_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_channel_ok),
	    cmocka_unit_test(test_channel_refusals),
	    cmocka_unit_test(test_use_channel),
	    cmocka_unit_test(test_trust_settings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
