/* test_relurl.c - the build side's pure parts: channel and prefix URLs,
 * durations, and the AWS shared config files (profiles, sections,
 * comments, nested settings). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "awsprofile.h"
#include "relurl.h"

static void test_channel(void **state)
{
	struct relurl_channel c;
	struct herr err = {0};
	(void)state;
	assert_int_equal(relurl_channel("s3://bkt/releases/web/channels/prod", &c, &err), 0);
	assert_string_equal(c.bucket, "bkt");
	assert_string_equal(c.key, "releases/web/channels/prod");
	assert_string_equal(c.base, "releases/web");
	assert_string_equal(c.app, "web");
	assert_string_equal(c.env, "prod");
	assert_int_equal(relurl_channel("s3://bkt/a/b/web/channels/prod", &c, &err), 0);
	assert_string_equal(c.base, "a/b/web");
	assert_int_equal(relurl_channel("s3://bkt/web/channels/staging", &c, &err), 0);
	assert_string_equal(c.base, "web");
	assert_string_equal(c.app, "web");
	static const char *bad[] = {"s3://bkt/channels/prod", "s3://bkt/web/chan/prod", "s3://bkt/web/channels/",
	                            "s3://bkt/web/channels/..", "http://bkt/web/channels/prod", "s3://bkt",
	                            "s3://bkt/../channels/prod"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (relurl_channel(bad[i], &c, &err) == 0)
			fail_msg("accepted %s", bad[i]);
}

static void test_prefix_join_duration(void **state)
{
	char b[64], p[256], k[256];
	struct herr err = {0};
	uint64_t s;
	(void)state;
	assert_int_equal(relurl_prefix("s3://bkt/releases/", b, sizeof(b), p, sizeof(p), &err), 0);
	assert_string_equal(b, "bkt");
	assert_string_equal(p, "releases");
	assert_int_equal(relurl_prefix("s3://bkt", b, sizeof(b), p, sizeof(p), &err), 0);
	assert_string_equal(p, "");
	assert_int_equal(relurl_prefix("s3://bkt/a//b", b, sizeof(b), p, sizeof(p), &err), -1);
	assert_int_equal(relurl_prefix("bkt/a", b, sizeof(b), p, sizeof(p), &err), -1);
	assert_int_equal(relurl_join(k, sizeof(k), "releases", "web", "1.0", "release"), 0);
	assert_string_equal(k, "releases/web/1.0/release");
	assert_int_equal(relurl_join(k, sizeof(k), "", "web", "1.0", "w.tgz"), 0);
	assert_string_equal(k, "web/1.0/w.tgz");
	assert_int_equal(relurl_duration("7d", &s), 0);
	assert_int_equal(s, 7 * 86400);
	assert_int_equal(relurl_duration("90m", &s), 0);
	assert_int_equal(s, 5400);
	assert_int_equal(relurl_duration("3600", &s), 0);
	assert_int_equal(s, 3600);
	assert_int_equal(relurl_duration("0", &s), -1);
	assert_int_equal(relurl_duration("-1h", &s), -1);
	assert_int_equal(relurl_duration("5w", &s), -1);
	assert_int_equal(relurl_duration("99999999999999999999d", &s), -1);
	assert_int_equal(relurl_duration("4000d", &s), -1); /* more than 10 years */
}

static void test_awsprofile(void **state)
{
	const char *cred = "# comment\n[default]\naws_access_key_id = AKDEF\naws_secret_access_key=SDEF\n"
	                   "[build]\r\naws_access_key_id = AKBUILD \r\n; c\naws_session_token = TOK\n";
	const char *conf = "[default]\nregion = eu-west-1\n[profile build]\nregion=us-west-2\ns3 =\n"
	                   "  region = nested-ignored\n[profile other]\nregion = ap-south-1\n";
	char v[64];
	(void)state;
	assert_int_equal(awsprofile_get(cred, strlen(cred), 0, "default", "aws_access_key_id", v, sizeof(v)), 1);
	assert_string_equal(v, "AKDEF");
	assert_int_equal(awsprofile_get(cred, strlen(cred), 0, "build", "aws_access_key_id", v, sizeof(v)), 1);
	assert_string_equal(v, "AKBUILD");
	assert_int_equal(awsprofile_get(cred, strlen(cred), 0, "build", "aws_secret_access_key", v, sizeof(v)), 0);
	assert_int_equal(awsprofile_get(cred, strlen(cred), 0, "build", "aws_session_token", v, sizeof(v)), 1);
	assert_string_equal(v, "TOK");
	assert_int_equal(awsprofile_get(conf, strlen(conf), 1, "default", "region", v, sizeof(v)), 1);
	assert_string_equal(v, "eu-west-1");
	assert_int_equal(awsprofile_get(conf, strlen(conf), 1, "build", "region", v, sizeof(v)), 1);
	assert_string_equal(v, "us-west-2");
	assert_int_equal(awsprofile_get(conf, strlen(conf), 1, "missing", "region", v, sizeof(v)), 0);
	/* the config file's [build] would be "[profile build]": a bare [other] section is not profile other */
	assert_int_equal(awsprofile_get("[other]\nregion=x\n", 17, 1, "other", "region", v, sizeof(v)), 0);
	assert_int_equal(awsprofile_get(cred, strlen(cred), 0, "default", "aws_access_key_id", v, 3), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_channel),
	    cmocka_unit_test(test_prefix_join_duration),
	    cmocka_unit_test(test_awsprofile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
