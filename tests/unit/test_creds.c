/* test_creds.c - the IMDS role credential document: valid, hostile and
 * malformed inputs; no credential value may ever reach an error message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "creds.h"
#include "exitcodes.h"
#include "herr.h"

#define AKID "ASIAVALUEAKID0000001"
#define SECRET "SecretValue/xyz+0123456789abcdefghijklmn"
#define TOKEN "TokenValue//////////wEXAMPLE+abc=="

/* Fails the test when msg quotes any credential value. */
static void assert_no_secret(const char *msg)
{
	if (strstr(msg, AKID) || strstr(msg, SECRET) || strstr(msg, TOKEN) || strstr(msg, "SecretValue") ||
	    strstr(msg, "TokenValue") || strstr(msg, "ASIAVALUE"))
		fail_msg("secret in error message: %s", msg);
}

/* Parses doc expecting failure with HOIST_EXIT_NO_CREDENTIALS and a message holding frag. */
static void expect_fail(const char *doc, const char *frag)
{
	struct credentials c;
	struct herr err = {0};
	memset(&c, 0x5a, sizeof(c));
	if (creds_parse_json(doc, strlen(doc), &c, &err) == 0)
		fail_msg("accepted: %s", doc);
	assert_int_equal(err.code, HOIST_EXIT_NO_CREDENTIALS);
	if (strstr(err.msg, frag) == NULL)
		fail_msg("message \"%s\" lacks \"%s\" (doc %s)", err.msg, frag, doc);
	assert_no_secret(err.msg);
	/* nothing is left behind on failure */
	assert_null(c.access_key_id);
	assert_null(c.secret_access_key);
	assert_null(c.session_token);
}

static time_t utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = {
	    .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = s};
	return timegm(&tm);
}

static void test_valid_document(void **state)
{
	const char *doc = "{\n  \"Code\" : \"Success\",\n  \"LastUpdated\" : \"2026-11-22T11:49:03Z\",\n"
	                  "  \"Type\" : \"AWS-HMAC\",\n  \"AccessKeyId\" : \"" AKID "\",\n"
	                  "  \"SecretAccessKey\" : \"" SECRET "\",\n  \"Token\" : \"" TOKEN "\",\n"
	                  "  \"Expiration\" : \"2026-11-22T18:00:00Z\"\n}\n";
	struct credentials c;
	struct herr err = {0};
	(void)state;
	assert_int_equal(creds_parse_json(doc, strlen(doc), &c, &err), 0);
	assert_string_equal(c.access_key_id, AKID);
	assert_string_equal(c.secret_access_key, SECRET);
	assert_string_equal(c.session_token, TOKEN);
	assert_true(c.expiration == utc(2026, 11, 22, 18, 0, 0));
	creds_free(&c);
	assert_null(c.access_key_id);
	assert_null(c.secret_access_key);
	assert_null(c.session_token);
	assert_int_equal(c.expiration, 0);
	creds_free(&c); /* twice is harmless */
}

/* An unknown field may hold any JSON value, nested or not. */
static void test_unknown_fields_tolerated(void **state)
{
	const char *doc = "{\"Code\":\"Success\",\"Extra\":{\"a\":[1,2,{\"b\":null}]},\"N\":5,"
	                  "\"AccessKeyId\":\"" AKID "\",\"SecretAccessKey\":\"" SECRET "\","
	                  "\"Token\":\"" TOKEN "\",\"Expiration\":\"2026-11-22T18:00:00.123456Z\"}";
	struct credentials c;
	struct herr err = {0};
	(void)state;
	assert_int_equal(creds_parse_json(doc, strlen(doc), &c, &err), 0);
	/* fractional seconds are accepted and dropped */
	assert_true(c.expiration == utc(2026, 11, 22, 18, 0, 0));
	creds_free(&c);
}

/* Builds a document with field i left out (or its value replaced when value != NULL). */
static void build(char *out, size_t outsz, int omit, const char *code, const char *exp)
{
	const char *names[] = {"Code", "AccessKeyId", "SecretAccessKey", "Token", "Expiration"};
	const char *vals[] = {code, AKID, SECRET, TOKEN, exp};
	size_t off = 0;
	off += (size_t)snprintf(out + off, outsz - off, "{");
	for (int i = 0; i < 5; i++) {
		if (i == omit)
			continue;
		off += (size_t)snprintf(out + off, outsz - off, "%s\"%s\": \"%s\"", off > 1 ? ", " : "",
		                        names[i], vals[i]);
	}
	snprintf(out + off, outsz - off, "}");
}

static void test_missing_each_field(void **state)
{
	const char *names[] = {"Code", "AccessKeyId", "SecretAccessKey", "Token", "Expiration"};
	char doc[1024], frag[64];
	(void)state;
	for (int i = 0; i < 5; i++) {
		build(doc, sizeof(doc), i, "Success", "2026-11-22T18:00:00Z");
		snprintf(frag, sizeof(frag), "missing field %s", names[i]);
		expect_fail(doc, frag);
	}
}

static void test_code_not_success(void **state)
{
	char doc[1024];
	(void)state;
	/* with every key present: the Code is named, never a key's value */
	build(doc, sizeof(doc), -1, "Failure", "2026-11-22T18:00:00Z");
	expect_fail(doc, "Code Failure: (no Message)");
	build(doc, sizeof(doc), -1, "success", "2026-11-22T18:00:00Z");
	expect_fail(doc, "Code success:");
}

/* What IMDS serves when it cannot get the role's credentials: Code and
 * Message, no keys. The message names both, not a "missing field". */
static void test_failure_document(void **state)
{
	static const char imds_failure[] =
	    "{\n  \"Code\" : \"AssumeRoleUnauthorizedAccess\",\n"
	    "  \"Message\" : \"EC2 cannot assume the role hoist-instance. Please see documentation at "
	    "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_terms-and-concepts.html.\",\n"
	    "  \"LastUpdated\" : \"2026-11-22T17:30:45Z\"\n}";
	(void)state;
	expect_fail(
	    imds_failure,
	    "instance role credentials: Code AssumeRoleUnauthorizedAccess: EC2 cannot assume the role "
	    "hoist-instance.");
	/* a Code without a Message, and bytes a terminal would act on, escaped */
	expect_fail("{\"Code\": \"InternalError\"}", "Code InternalError: (no Message)");
	expect_fail("{\"Code\": \"Bad\\u001b[2J\", \"Message\": \"line\\nbreak\"}",
	            "Code Bad\\x1b[2J: line\\x0abreak");
	/* a Success document without keys still says which key is missing */
	expect_fail("{\"Code\": \"Success\"}", "missing field AccessKeyId");
}

static void test_bad_expiration(void **state)
{
	static const char *bad[] = {
	    "tomorrow",
	    "2026-13-01T00:00:00Z",
	    "2026-02-29T00:00:00Z",
	    "2026-11-31T00:00:00Z",
	    "2026-11-22T24:00:00Z",
	    "2026-11-22T18:60:00Z",
	    "2026-11-22T18:00:00",
	    "2026-11-22T18:00:00+01:00",
	    "2026-11-22 18:00:00Z",
	    "2026-11-22T18:00:00.Z",
	    "2026-11-22T18:00:00ZZ",
	    "1969-12-31T23:59:59Z",
	    "+026-11-22T18:00:00Z",
	};
	char doc[1024];
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		build(doc, sizeof(doc), -1, "Success", bad[i]);
		expect_fail(doc, "Expiration is not a UTC time");
	}
}

static void test_parse_time_table(void **state)
{
	time_t t = 0;
	(void)state;
	assert_int_equal(creds_parse_time("1970-01-01T00:00:00Z", &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(creds_parse_time("2024-02-29T12:34:56Z", &t), 0);
	assert_true(t == utc(2024, 2, 29, 12, 34, 56));
	assert_int_equal(creds_parse_time("2000-02-29T00:00:00.5Z", &t), 0);
	assert_true(t == utc(2000, 2, 29, 0, 0, 0));
	assert_int_equal(creds_parse_time("2100-02-29T00:00:00Z", &t), -1);
	assert_int_equal(creds_parse_time("2026-11-22T18:00:00.000000000Z", &t), 0);
	assert_true(t == utc(2026, 11, 22, 18, 0, 0));
	assert_int_equal(creds_parse_time("", &t), -1);
	assert_int_equal(creds_parse_time(NULL, &t), -1);
}

static void test_malformed_json(void **state)
{
	(void)state;
	expect_fail("{\"Code\": \"Success\"", "not valid JSON");
	expect_fail("not json at all", "not a JSON object");
	expect_fail("[\"Code\", \"Success\"]", "not a JSON object");
	expect_fail("\"Success\"", "not a JSON object");
	/* YAML that is not JSON: a block mapping, unquoted keys/values */
	expect_fail("Code: Success\nAccessKeyId: " AKID "\n", "not a JSON object");
	expect_fail("{Code: \"Success\"}", "key is not a JSON string");
	expect_fail("{\"Code\": Success}", "Code is not a JSON string");
	expect_fail("{\"Code\":\"Success\"} {\"Code\":\"Success\"}", "not valid JSON");
	expect_fail("{\"Code\":\"Success\"}\n---\n{\"Code\":\"Success\"}\n", "trailing data");
	expect_fail("", "empty document");
	/* anchors and aliases are YAML only */
	expect_fail("{\"Code\": &a \"Success\", \"Token\": *a}", "not a JSON document");
}

static void test_non_string_values(void **state)
{
	(void)state;
	expect_fail("{\"Code\":\"Success\",\"AccessKeyId\":12345,\"SecretAccessKey\":\"" SECRET
	            "\",\"Token\":\"" TOKEN "\",\"Expiration\":\"2026-11-22T18:00:00Z\"}",
	            "AccessKeyId is not a JSON string");
	expect_fail("{\"Code\":\"Success\",\"AccessKeyId\":\"" AKID "\",\"SecretAccessKey\":{\"v\":\"" SECRET
	            "\"},\"Token\":\"" TOKEN "\",\"Expiration\":\"2026-11-22T18:00:00Z\"}",
	            "SecretAccessKey is not a JSON string");
	expect_fail("{\"Code\":\"Success\",\"AccessKeyId\":\"" AKID "\",\"SecretAccessKey\":\"" SECRET
	            "\",\"Token\":null,\"Expiration\":\"2026-11-22T18:00:00Z\"}",
	            "Token is not a JSON string");
	expect_fail("{\"Code\":\"Success\",\"AccessKeyId\":\"" AKID "\",\"SecretAccessKey\":\"\","
	            "\"Token\":\"" TOKEN "\",\"Expiration\":\"2026-11-22T18:00:00Z\"}",
	            "SecretAccessKey is empty");
	expect_fail("{\"Code\":\"Success\",\"AccessKeyId\":\"" AKID "\",\"SecretAccessKey\":\"a\\u0000b\","
	            "\"Token\":\"" TOKEN "\",\"Expiration\":\"2026-11-22T18:00:00Z\"}",
	            "NUL byte");
}

static void test_duplicate_key(void **state)
{
	(void)state;
	expect_fail("{\"Code\":\"Success\",\"AccessKeyId\":\"" AKID "\",\"SecretAccessKey\":\"" SECRET
	            "\",\"SecretAccessKey\":\"SecretValueTwo\",\"Token\":\"" TOKEN
	            "\",\"Expiration\":\"2026-11-22T18:00:00Z\"}",
	            "duplicate key \"SecretAccessKey\"");
	expect_fail("{\"Code\":\"Success\",\"Code\":\"Success\"}", "duplicate key \"Code\"");
	/* duplicates of unknown keys are refused too */
	expect_fail("{\"X\":1,\"X\":2}", "duplicate key \"X\"");
}

static void test_huge_input(void **state)
{
	size_t n = 16 * 1024 + 1;
	char *doc = malloc(n + 1);
	struct credentials c;
	struct herr err = {0};
	(void)state;
	assert_non_null(doc);
	memset(doc, ' ', n);
	doc[0] = '{';
	doc[n - 1] = '}';
	doc[n] = '\0';
	assert_int_equal(creds_parse_json(doc, n, &c, &err), -1);
	assert_int_equal(err.code, HOIST_EXIT_NO_CREDENTIALS);
	assert_non_null(strstr(err.msg, "16384"));
	/* exactly the limit is parsed (and fails only for missing fields) */
	assert_int_equal(creds_parse_json(doc + 1, n - 1, &c, &err), -1);
	doc[1] = '{';
	assert_int_equal(creds_parse_json(doc + 1, n - 1, &c, &err), -1);
	assert_non_null(strstr(err.msg, "missing field Code"));
	free(doc);
	/* a NUL inside the stated length is refused */
	assert_int_equal(creds_parse_json("{}\0{}", 5, &c, &err), -1);
	assert_non_null(strstr(err.msg, "NUL"));
}

static void test_expiring(void **state)
{
	struct credentials c = {.expiration = 1000};
	(void)state;
	assert_int_equal(creds_expiring(&c, 0, 300), 0);
	assert_int_equal(creds_expiring(&c, 699, 300), 0);
	assert_int_equal(creds_expiring(&c, 700, 300), 1);
	assert_int_equal(creds_expiring(&c, 2000, 0), 1);
	c.expiration = 0; /* long-lived keys never expire */
	assert_int_equal(creds_expiring(&c, 2000000000, 300), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid_document),     cmocka_unit_test(test_unknown_fields_tolerated),
	    cmocka_unit_test(test_missing_each_field), cmocka_unit_test(test_code_not_success),
	    cmocka_unit_test(test_failure_document),   cmocka_unit_test(test_bad_expiration),
	    cmocka_unit_test(test_parse_time_table),   cmocka_unit_test(test_malformed_json),
	    cmocka_unit_test(test_non_string_values),  cmocka_unit_test(test_duplicate_key),
	    cmocka_unit_test(test_huge_input),         cmocka_unit_test(test_expiring),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
