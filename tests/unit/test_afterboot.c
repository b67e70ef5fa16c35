/* test_afterboot.c - what hoist-boot does after a deployment: lifecycle
 * decisions, the Query protocol form and error parsing, the report URL, key
 * and document, the new directive and hoist.conf keys, and the agent run as
 * a child (exit codes, signals, exec failure, captured output). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentrun.h"
#include "awsquery.h"
#include "buf.h"
#include "config.h"
#include "exitcodes.h"
#include "lifecycle.h"
#include "report.h"
#include "strutil.h"
#include "userdata.h"

#define E(s) ((char *)(uintptr_t)(s))

static void test_lifecycle_decisions(void **state)
{
	(void)state;
	assert_int_equal(lifecycle_result_for(HOIST_EXIT_OK), LIFECYCLE_CONTINUE);
	assert_int_equal(lifecycle_result_for(HOIST_EXIT_ROLLED_BACK), LIFECYCLE_ABANDON);
	assert_int_equal(lifecycle_result_for(HOIST_EXIT_FAILED), LIFECYCLE_ABANDON);
	assert_int_equal(lifecycle_result_for(HOIST_EXIT_INTEGRITY), LIFECYCLE_ABANDON);
	assert_int_equal(lifecycle_result_for(128 + 15), LIFECYCLE_ABANDON);
	assert_int_equal(lifecycle_result_for(HOIST_EXIT_TEMPFAIL), LIFECYCLE_NONE);
	assert_int_equal(lifecycle_result_for(HOIST_EXIT_BUSY), LIFECYCLE_NONE);
	assert_string_equal(lifecycle_result_name(LIFECYCLE_CONTINUE), "CONTINUE");
	assert_string_equal(lifecycle_result_name(LIFECYCLE_ABANDON), "ABANDON");

	assert_true(lifecycle_state_is_launch("InService"));
	assert_true(lifecycle_state_is_launch("Warmed:Stopped"));
	assert_false(lifecycle_state_is_launch("Terminated"));
	assert_false(lifecycle_state_is_launch("Warmed:Terminated"));
	assert_false(lifecycle_state_is_launch("Standby"));
	assert_false(lifecycle_state_is_launch("inservice"));

	assert_true(str_word_ok("launch-hook", LIFECYCLE_NAME_MAX));
	assert_true(str_word_ok("my/hook_1", LIFECYCLE_NAME_MAX));
	assert_false(str_word_ok("", LIFECYCLE_NAME_MAX));
	assert_false(str_word_ok("two words", LIFECYCLE_NAME_MAX));
	assert_false(str_word_ok("tab\there", LIFECYCLE_NAME_MAX));
	assert_false(str_word_ok("caf\xc3\xa9", LIFECYCLE_NAME_MAX));
	{
		char big[300];
		memset(big, 'a', sizeof(big));
		big[255] = '\0';
		assert_true(str_word_ok(big, LIFECYCLE_NAME_MAX));
		big[255] = 'a';
		big[256] = '\0';
		assert_false(str_word_ok(big, LIFECYCLE_NAME_MAX));
	}
}

static void test_lifecycle_endpoint(void **state)
{
	char out[128];
	(void)state;
	assert_int_equal(lifecycle_endpoint("", "eu-west-1", out, sizeof(out)), 0);
	assert_string_equal(out, "https://autoscaling.eu-west-1.amazonaws.com");
	assert_int_equal(lifecycle_endpoint(NULL, "cn-north-1", out, sizeof(out)), 0);
	assert_string_equal(out, "https://autoscaling.cn-north-1.amazonaws.com.cn");
	assert_int_equal(lifecycle_endpoint("http://127.0.0.1:9", "us-east-1", out, sizeof(out)), 0);
	assert_string_equal(out, "http://127.0.0.1:9");
	assert_int_equal(lifecycle_endpoint("", "us-east-1", out, 10), -1);
}

static void test_query_form(void **state)
{
	struct buf b;
	const struct awsq_param p[] = {
	    {"AutoScalingGroupName", "web asg/1"},
	    {"InstanceId", "i-0abc"},
	    {"LifecycleActionResult", NULL}, /* absent: left out */
	    {"LifecycleHookName", "a+b=c&d~e"},
	};
	(void)state;
	buf_init(&b, 4096);
	assert_int_equal(awsq_form("CompleteLifecycleAction", "2011-01-01", p, 4, &b), 0);
	assert_string_equal(b.data, "Action=CompleteLifecycleAction&Version=2011-01-01&AutoScalingGroupName="
	                            "web%20asg%2F1&InstanceId=i-0abc&LifecycleHookName=a%2Bb%3Dc%26d~e");
	buf_free(&b);
}

static void test_query_error(void **state)
{
	static const char xml[] =
	    "<ErrorResponse xmlns=\"http://autoscaling.amazonaws.com/doc/2011-01-01/\"><Error>"
	    "<Type>Sender</Type><Code>ValidationError</Code><Message>No active Lifecycle Action found "
	    "with instance ID i-1\x1b[0m</Message></Error><RequestId>x</RequestId></ErrorResponse>";
	char code[32], msg[128];
	(void)state;
	assert_int_equal(awsq_error(xml, strlen(xml), code, sizeof(code), msg, sizeof(msg)), 1);
	assert_string_equal(code, "ValidationError");
	/* the escape byte is dropped: messages never carry control bytes */
	assert_string_equal(msg, "No active Lifecycle Action found with instance ID i-1[0m");
	assert_int_equal(awsq_error("<html>bad gateway</html>", 24, code, sizeof(code), msg, sizeof(msg)), 0);
	assert_int_equal(awsq_error(NULL, 0, code, sizeof(code), msg, sizeof(msg)), 0);
	/* truncated to fit */
	assert_int_equal(awsq_error(xml, strlen(xml), code, 6, msg, 8), 1);
	assert_string_equal(code, "Valid");
	assert_string_equal(msg, "No acti");
}

static void test_report_url_and_key(void **state)
{
	struct report_url u;
	char key[256];
	(void)state;
	assert_int_equal(report_parse_url("s3://ops-bucket/hoist/reports/", &u), 0);
	assert_string_equal(u.bucket, "ops-bucket");
	assert_string_equal(u.prefix, "hoist/reports/");
	assert_int_equal(report_key(&u, "prod", "i-0123", key, sizeof(key)), 0);
	assert_string_equal(key, "hoist/reports/prod/i-0123.json");
	assert_int_equal(report_parse_url("s3://ops-bucket/reports", &u), 0);
	assert_string_equal(u.prefix, "reports/"); /* the '/' is added */
	assert_int_equal(report_parse_url("s3://ops-bucket", &u), 0);
	assert_string_equal(u.prefix, "");
	assert_int_equal(report_key(&u, "prod", "i-0123", key, sizeof(key)), 0);
	assert_string_equal(key, "prod/i-0123.json");
	assert_int_equal(report_key(&u, "prod", "i-0123", key, 8), -1);
	assert_int_equal(report_parse_url("s3://ops-bucket/", NULL), 0);
	assert_int_equal(report_parse_url("https://ops-bucket/x/", NULL), -1);
	assert_int_equal(report_parse_url("s3://Ops/x/", NULL), -1);
	assert_int_equal(report_parse_url("s3://ab/x/", NULL), -1);
	assert_int_equal(report_parse_url("s3:///x/", NULL), -1);
	assert_int_equal(report_parse_url("s3://ops-bucket//x", NULL), -1);
	assert_int_equal(report_parse_url("s3://ops-bucket/a\nb", NULL), -1);
	assert_int_equal(report_parse_url(NULL, NULL), -1);
}

static void test_report_document(void **state)
{
	struct buf b;
	struct report_info ri = {"i-1", "ami-2",           NULL,      "web", "prod", "1.0",
	                         13,    "bad \"x\"\n\x01", "ABANDON", 0};
	static const char status[] = "  {\"result\": \"rolled-back\", \"current\": \"0.9\"}\n";
	(void)state;
	buf_init(&b, 1 << 16);
	assert_int_equal(report_document(&ri, status, strlen(status), &b), 0);
	assert_string_equal(
	    b.data, "{\"instance_id\": \"i-1\", \"ami_id\": \"ami-2\", \"availability_zone\": null, "
	            "\"boot\": {\"application\": \"web\", \"environment\": \"prod\", \"version\": "
	            "\"1.0\", \"exit_code\": 13, \"exit_name\": \"rolled-back\", \"message\": \"bad "
	            "\\\"x\\\"\\u000a\\u0001\", \"lifecycle\": \"ABANDON\", \"reported_at\": "
	            "\"1970-01-01T00:00:00Z\"}, \"result\": \"rolled-back\", \"current\": \"0.9\"}\n");
	/* an empty status object: no dangling comma */
	assert_int_equal(report_document(&ri, "{ }", 3, &b), 0);
	assert_non_null(strstr(b.data, "\"1970-01-01T00:00:00Z\"}}\n"));
	/* no status, or not an object: said so, still valid */
	assert_int_equal(report_document(&ri, NULL, 0, &b), 0);
	assert_non_null(strstr(b.data, "\"status_error\": "));
	assert_int_equal(report_document(&ri, "[1]", 3, &b), 0);
	assert_non_null(strstr(b.data, "\"status_error\": "));
	buf_free(&b);
}

static void test_directive_keys(void **state)
{
	static const char ok[] = "#hoist\nversion=1\nbundle=s3://b-1/k\napplication=web\nenvironment=prod\n"
	                         "lifecycle_hook=launch\nautoscaling_group=web-asg\n"
	                         "report=s3://ops-bucket/r/\nnotify=https://example.com/h\n";
	static const char *const bad[] = {
	    "lifecycle_hook=two words",
	    "autoscaling_group=",
	    "report=https://x/y",
	    "notify=s3://x/y",
	};
	struct directive d;
	struct herr err = {0, ""};
	(void)state;
	assert_int_equal(userdata_parse((const uint8_t *)ok, strlen(ok), &d, &err), 0);
	assert_string_equal(d.lifecycle_hook, "launch");
	assert_string_equal(d.autoscaling_group, "web-asg");
	assert_string_equal(d.report, "s3://ops-bucket/r/");
	assert_string_equal(d.notify, "https://example.com/h");
	directive_free(&d);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[512];
		(void)snprintf(
		    text, sizeof(text),
		    "#hoist\nversion=1\nbundle=s3://b-1/k\napplication=web\nenvironment=prod\n%s\n", bad[i]);
		memset(&err, 0, sizeof(err));
		assert_int_equal(userdata_parse((const uint8_t *)text, strlen(text), &d, &err), -1);
		assert_int_equal(err.code, HOIST_EXIT_DIRECTIVE);
		assert_non_null(strstr(err.msg, "line 6"));
	}
}

static void test_config_keys(void **state)
{
	struct hoist_config c;
	struct herr err = {0, ""};
	static const char text[] =
	    "lifecycle_hook = launch\nautoscaling_group = web\n"
	    "lifecycle_heartbeat_s = 60\nreport = s3://ops/r/\nnotify = https://x.example/h\n";
	char *envp[] = {E("AWS_ENDPOINT_URL_AUTO_SCALING=http://127.0.0.1:1"), NULL};
	(void)state;
	config_init(&c);
	assert_int_equal(c.lifecycle_heartbeat_s, 300);
	assert_null(c.lifecycle_hook);
	assert_int_equal(config_parse(&c, text, strlen(text), "hoist.conf", &err), 0);
	assert_int_equal(config_apply_env(&c, envp, &err), 0);
	assert_string_equal(c.lifecycle_hook, "launch");
	assert_string_equal(c.autoscaling_group, "web");
	assert_int_equal(c.lifecycle_heartbeat_s, 60);
	assert_string_equal(c.report, "s3://ops/r/");
	assert_string_equal(c.notify, "https://x.example/h");
	assert_string_equal(c.autoscaling_endpoint, "http://127.0.0.1:1");
	assert_int_equal(config_parse(&c, "lifecycle_heartbeat_s = 0\n", 26, "hoist.conf", &err), -1);
	assert_int_equal(config_parse(&c, "notify = ftp://x/\n", 18, "hoist.conf", &err), -1);
	assert_int_equal(config_parse(&c, "lifecycle_hook = \"a b\"\n", 23, "hoist.conf", &err), -1);
	assert_int_equal(err.code, HOIST_EXIT_CONFIG);
	config_free(&c);
}

static void test_agentrun_wait(void **state)
{
	const char *exit3[] = {"/bin/sh", "-c", "exit 3", NULL};
	const char *killed[] = {"/bin/sh", "-c", "kill -KILL $$", NULL};
	const char *missing[] = {"/nonexistent/hoist", NULL};
	struct herr err = {0, ""};
	int code = -1;
	(void)state;
	assert_int_equal(agentrun_wait(exit3, 0, NULL, NULL, &code, &err), 0);
	assert_int_equal(code, 3);
	assert_int_equal(agentrun_wait(killed, 0, NULL, NULL, &code, &err), 0);
	assert_int_equal(code, 128 + 9);
	assert_int_equal(agentrun_wait(missing, 0, NULL, NULL, &code, &err), -1);
	assert_int_equal(err.code, HOIST_EXIT_CONFIG);
	assert_non_null(strstr(err.msg, "cannot exec the agent /nonexistent/hoist"));
}

static void count_tick(void *ud)
{
	(*(int *)ud)++;
}

static void test_agentrun_ticks(void **state)
{
	/* a child that cannot end before 2.5 s: the tick due at 1 s must have run */
	const char *slow[] = {"/bin/sh", "-c", "sleep 2.5", NULL};
	struct herr err = {0, ""};
	int code = -1, ticks = 0;
	(void)state;
	assert_int_equal(agentrun_wait(slow, 1, count_tick, &ticks, &code, &err), 0);
	assert_int_equal(code, 0);
	assert_true(ticks >= 1);
}

static void test_agentrun_capture(void **state)
{
	const char *echo[] = {"/bin/sh", "-c", "printf '{\"a\": 1}'; echo on-stderr >&2", NULL};
	const char *big[] = {"/bin/sh", "-c", "head -c 5000 /dev/zero", NULL};
	const char *fails[] = {"/bin/sh", "-c", "exit 4", NULL};
	const char *hangs[] = {"/bin/sh", "-c", "exec sleep 30", NULL};
	struct buf b;
	struct herr err = {0, ""};
	(void)state;
	buf_init(&b, 1 << 20);
	assert_int_equal(agentrun_capture(echo, 100, 10, &b, &err), 0);
	assert_int_equal(b.len, 8);
	assert_memory_equal(b.data, "{\"a\": 1}", 8);
	assert_int_equal(agentrun_capture(big, 4096, 10, &b, &err), -1);
	assert_int_equal(err.code, HOIST_EXIT_TOO_LARGE);
	assert_int_equal(agentrun_capture(fails, 100, 10, &b, &err), -1);
	assert_non_null(strstr(err.msg, "exited 4"));
	assert_int_equal(agentrun_capture(hangs, 100, 1, &b, &err), -1);
	assert_non_null(strstr(err.msg, "no answer within 1 s"));
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lifecycle_decisions), cmocka_unit_test(test_lifecycle_endpoint),
	    cmocka_unit_test(test_query_form),          cmocka_unit_test(test_query_error),
	    cmocka_unit_test(test_report_url_and_key),  cmocka_unit_test(test_report_document),
	    cmocka_unit_test(test_directive_keys),      cmocka_unit_test(test_config_keys),
	    cmocka_unit_test(test_agentrun_wait),       cmocka_unit_test(test_agentrun_ticks),
	    cmocka_unit_test(test_agentrun_capture),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
