/* test_health.c - health checks: the hoist.yml parser (a table of valid and
 * invalid documents with FILE:LINE:COL and message), durations, and the
 * two-phase schedule driven by a fake clock and scripted probe answers: a
 * service that comes up late, one that flaps inside min_healthy_time, one
 * that never answers (deadline), retries exhausted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitcodes.h"
#include "healthrun.h"
#include "herr.h"
#include "hoistyml.h"

#define V1 "version: 1\n"
#define HC V1 "health_checks:\n  checks:\n"

struct tcase {
	const char *name;
	const char *doc;
	int code;          /* 0 = must parse */
	const char *where; /* "hoist.yml:L:C: " prefix expected, or NULL */
	const char *frag;  /* fragment of the message */
};

static const struct tcase cases[] = {
    {"http minimal", HC "    - {type: http, url: \"http://127.0.0.1:8080/\"}\n", 0, NULL, NULL},
    {"tcp and command", HC "    - {type: tcp, port: 22}\n    - {type: command, argv: [bin/check, -q]}\n", 0,
     NULL, NULL},
    {"empty", "", HOIST_EXIT_BAD_BUNDLE, "hoist.yml:1:1: ", "empty"},
    {"no version", "health_checks:\n  checks:\n    - {type: tcp, port: 1}\n", HOIST_EXIT_BAD_BUNDLE,
     "hoist.yml:1:1: ", "version: is required"},
    {"version 2", "version: 2\n", HOIST_EXIT_BAD_BUNDLE, "hoist.yml:1:10: ", "version: '2' is not supported"},
    {"unknown top key", V1 "healthchecks: {}\n", HOIST_EXIT_BAD_BUNDLE,
     "hoist.yml:2:1: ", "unknown key 'healthchecks'"},
    {"syntax", V1 "health_checks:\n  checks: [\n", HOIST_EXIT_BAD_BUNDLE, "hoist.yml:", "YAML syntax error"},
    {"no checks", V1 "health_checks:\n  deadline: 10s\n", HOIST_EXIT_BAD_BUNDLE,
     "hoist.yml:3:3: ", "checks is required"},
    {"checks not a list", V1 "health_checks:\n  checks: {}\n", HOIST_EXIT_BAD_BUNDLE, NULL,
     "expected a list"},
    {"zero checks", V1 "health_checks:\n  checks: []\n", HOIST_EXIT_BAD_BUNDLE,
     "hoist.yml:3:3: ", "needs 1 to 16 checks"},
    {"no type", HC "    - {name: a, port: 1}\n", HOIST_EXIT_BAD_BUNDLE,
     "hoist.yml:4:7: ", "type is required"},
    {"bad type", HC "    - type: udp\n      port: 1\n", HOIST_EXIT_BAD_BUNDLE,
     "hoist.yml:4:13: ", "'udp' is not a check type"},
    {"key of another type", HC "    - type: tcp\n      port: 1\n      url: http://x/\n",
     HOIST_EXIT_BAD_BUNDLE, "hoist.yml:6:7: ", "url: is only for http checks (this one is tcp)"},
    {"unknown check key", HC "    - type: tcp\n      port: 1\n      retry: 3\n", HOIST_EXIT_BAD_BUNDLE,
     "hoist.yml:6:7: ", "unknown key 'retry'"},
    {"http without url", HC "    - type: http\n", HOIST_EXIT_BAD_BUNDLE, "hoist.yml:4:7: ", "needs url"},
    {"bad url", HC "    - {type: http, url: \"ftp://x/\"}\n", HOIST_EXIT_BAD_BUNDLE,
     "hoist.yml:4:25: ", "not an http:// or https:// URL"},
    {"bad status", HC "    - {type: http, url: \"http://x/\", expect_status: 700}\n", HOIST_EXIT_BAD_BUNDLE,
     "hoist.yml:4:53: ", "700 is out of range"},
    {"octal-looking status", HC "    - {type: http, url: \"http://x/\", expect_status: 0200}\n",
     HOIST_EXIT_BAD_BUNDLE, NULL, "expected a whole number"},
    {"tcp without port", HC "    - {type: tcp, host: localhost}\n", HOIST_EXIT_BAD_BUNDLE, NULL,
     "needs port"},
    {"port 0", HC "    - {type: tcp, port: 0}\n", HOIST_EXIT_BAD_BUNDLE, NULL, "0 is out of range"},
    {"bad host", HC "    - {type: tcp, port: 1, host: \"a b\"}\n", HOIST_EXIT_BAD_BUNDLE, NULL,
     "not a host name"},
    {"command shell string", HC "    - {type: command, argv: \"curl -f x\"}\n", HOIST_EXIT_BAD_BUNDLE,
     "hoist.yml:4:29: ", "argv: expected a list"},
    {"command dotdot", HC "    - {type: command, argv: [../x]}\n", HOIST_EXIT_BAD_BUNDLE, NULL,
     "without '..'"},
    {"command empty argv", HC "    - {type: command, argv: []}\n", HOIST_EXIT_BAD_BUNDLE, NULL,
     "needs 1 to 64 arguments"},
    {"numeric runas", HC "    - {type: command, argv: [x], runas: \"0\"}\n", HOIST_EXIT_BAD_BUNDLE, NULL,
     "not a user name"},
    {"bad duration", HC "    - {type: tcp, port: 1, interval: 2h}\n", HOIST_EXIT_BAD_BUNDLE,
     "hoist.yml:4:38: ", "interval: expected a duration"},
    {"too short interval", HC "    - {type: tcp, port: 1, interval: 1ms}\n", HOIST_EXIT_BAD_BUNDLE, NULL,
     "out of range"},
    {"negative retries", HC "    - {type: tcp, port: 1, retries: -1}\n", HOIST_EXIT_BAD_BUNDLE, NULL,
     "expected a whole number"},
    {"duplicate name", HC "    - {name: a, type: tcp, port: 1}\n    - {name: a, type: tcp, port: 2}\n",
     HOIST_EXIT_BAD_BUNDLE, "hoist.yml:5:7: ", "'a' is already the name of the check at line 4"},
    {"bad name", HC "    - {name: \"a/b\", type: tcp, port: 1}\n", HOIST_EXIT_BAD_BUNDLE, NULL,
     "use 1-63 characters"},
    {"duplicate key", HC "    - type: tcp\n      port: 1\n      port: 2\n", HOIST_EXIT_BAD_BUNDLE,
     "hoist.yml:6:7: ", "duplicate key 'port' (first at line 5)"},
    {"alias", HC "    - &a {type: tcp, port: 1}\n    - *a\n", HOIST_EXIT_BAD_BUNDLE,
     "hoist.yml:5:7: ", "YAML aliases (*a) are not supported"},
    {"tag", HC "    - !!map {type: tcp, port: 1}\n", HOIST_EXIT_BAD_BUNDLE, NULL, "YAML tags (tag:yaml.org,2002:map) are not supported"},
    {"two documents", V1 "---\n" V1, HOIST_EXIT_BAD_BUNDLE, NULL, "more than one YAML document"},
    {"deadline not above min",
     V1 "health_checks:\n  min_healthy_time: 10s\n  deadline: 10s\n  checks:\n"
        "    - {type: tcp, port: 1}\n",
     HOIST_EXIT_BAD_BUNDLE, "hoist.yml:3:3: ", "deadline (10000ms) must be longer than min_healthy_time"},
    {"too many checks",
     HC "    - {type: tcp, port: 1}\n    - {type: tcp, port: 1}\n    - {type: tcp, port: 1}\n"
        "    - {type: tcp, port: 1}\n    - {type: tcp, port: 1}\n    - {type: tcp, port: 1}\n"
        "    - {type: tcp, port: 1}\n    - {type: tcp, port: 1}\n    - {type: tcp, port: 1}\n"
        "    - {type: tcp, port: 1}\n    - {type: tcp, port: 1}\n    - {type: tcp, port: 1}\n"
        "    - {type: tcp, port: 1}\n    - {type: tcp, port: 1}\n    - {type: tcp, port: 1}\n"
        "    - {type: tcp, port: 1}\n    - {type: tcp, port: 1}\n",
     HOIST_EXIT_BAD_BUNDLE, NULL, "needs 1 to 16 checks, got 17"},
};

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct tcase *t = &cases[i];
		struct health_spec *s = NULL;
		struct herr err;
		int r;
		herr_clear(&err);
		r = hoistyml_parse(t->doc, strlen(t->doc), "hoist.yml", &s, &err);
		if (t->code == 0) {
			if (r != 0)
				fail_msg("%s: refused: %s", t->name, err.msg);
			assert_non_null(s);
			hoistyml_free(s);
			continue;
		}
		if (r == 0)
			fail_msg("%s: accepted", t->name);
		assert_null(s);
		if (err.code != t->code)
			fail_msg("%s: code %d, want %d (%s)", t->name, err.code, t->code, err.msg);
		if (t->where != NULL && strncmp(err.msg, t->where, strlen(t->where)) != 0)
			fail_msg("%s: message '%s' does not start with '%s'", t->name, err.msg, t->where);
		if (t->frag != NULL && strstr(err.msg, t->frag) == NULL)
			fail_msg("%s: message '%s' lacks '%s'", t->name, err.msg, t->frag);
	}
}

static void test_full(void **state)
{
	static const char doc[] = V1 "health_checks:\n"
	                             "  min_healthy_time: 10s\n"
	                             "  deadline: 2m\n"
	                             "  checks:\n"
	                             "    - name: web\n"
	                             "      type: http\n"
	                             "      url: https://localhost:8443/healthz\n"
	                             "      expect_status: 204\n"
	                             "      expect_body: ok\n"
	                             "      interval: 500ms\n"
	                             "      timeout: 0.25\n"
	                             "      retries: 0\n"
	                             "    - {type: tcp, port: 5432}\n"
	                             "    - {type: command, argv: [/usr/bin/test, -e, /x], runas: nobody}\n";
	struct health_spec *s = NULL;
	struct herr err;
	(void)state;
	herr_clear(&err);
	if (hoistyml_parse(doc, sizeof(doc) - 1, "hoist.yml", &s, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(s->min_healthy_ms, 10000);
	assert_int_equal(s->deadline_ms, 120000);
	assert_int_equal(s->n, 3);
	assert_string_equal(s->checks[0].name, "web");
	assert_int_equal(s->checks[0].type, HEALTH_HTTP);
	assert_int_equal(s->checks[0].line, 6);
	assert_string_equal(s->checks[0].url, "https://localhost:8443/healthz");
	assert_int_equal(s->checks[0].expect_status, 204);
	assert_string_equal(s->checks[0].expect_body, "ok");
	assert_int_equal(s->checks[0].interval_ms, 500);
	assert_int_equal(s->checks[0].timeout_ms, 250);
	assert_int_equal(s->checks[0].retries, 0);
	/* defaults */
	assert_string_equal(s->checks[1].name, "tcp-2");
	assert_string_equal(s->checks[1].host, "127.0.0.1");
	assert_int_equal(s->checks[1].port, 5432);
	assert_int_equal(s->checks[1].interval_ms, 2000);
	assert_int_equal(s->checks[1].timeout_ms, 2000);
	assert_int_equal(s->checks[1].retries, 3);
	assert_string_equal(s->checks[2].name, "command-3");
	assert_int_equal(s->checks[2].argc, 3);
	assert_string_equal(s->checks[2].argv[0], "/usr/bin/test");
	assert_string_equal(s->checks[2].argv[2], "/x");
	assert_null(s->checks[2].argv[3]);
	assert_string_equal(s->checks[2].runas, "nobody");
	hoistyml_free(s);
}

static void test_default_deadline(void **state)
{
	static const char doc[] =
	    V1 "health_checks:\n  min_healthy_time: 1m\n  checks:\n    - {type: tcp, port: 1}\n";
	struct health_spec *s = NULL;
	struct herr err;
	(void)state;
	assert_int_equal(hoistyml_parse(doc, sizeof(doc) - 1, NULL, &s, &err), 0);
	assert_int_equal(s->deadline_ms, 60000 + 300000);
	hoistyml_free(s);
}

static void test_durations(void **state)
{
	static const struct {
		const char *in;
		int ok;
		unsigned ms;
	} d[] = {{"2", 1, 2000},      {"0.5", 1, 500},   {"1.25", 1, 1250}, {"500ms", 1, 500},
	         {"10s", 1, 10000},   {"2m", 1, 120000}, {"0", 1, 0},       {"1.0005", 0, 0},
	         {"1.5ms", 0, 0},     {"", 0, 0},        {"s", 0, 0},       {"-1", 0, 0},
	         {"1h", 0, 0},        {"1 s", 0, 0},     {"1.", 0, 0},      {".5", 0, 0},
	         {"9999999999", 0, 0}};
	(void)state;
	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		unsigned ms = 12345;
		int r = hoistyml_duration(d[i].in, &ms);
		if ((r == 0) != d[i].ok)
			fail_msg("duration '%s': got %d", d[i].in, r);
		if (d[i].ok && ms != d[i].ms)
			fail_msg("duration '%s': %u ms, want %u", d[i].in, ms, d[i].ms);
	}
}

/* ---- the schedule, with a fake clock ---- */

struct fake {
	uint64_t now;
	/* per check: the answers of successive attempts ('p' pass, 'f' fail, 't' fail after
	 * using the whole timeout); past the end the last answer repeats */
	const char *script[HEALTH_MAX_CHECKS];
	unsigned calls[HEALTH_MAX_CHECKS];
	unsigned latency_ms;
	const struct health_spec *spec;
};

static uint64_t f_now(void *ud)
{
	return ((struct fake *)ud)->now;
}

static void f_sleep(void *ud, uint64_t ms)
{
	((struct fake *)ud)->now += ms;
}

static int f_probe(void *ud, const struct health_check *c, unsigned timeout_ms, char *msg, size_t cap)
{
	struct fake *f = ud;
	size_t i = (size_t)(c - f->spec->checks);
	const char *s = f->script[i];
	size_t n = strlen(s);
	char a = s[f->calls[i] < n ? f->calls[i] : n - 1];
	f->calls[i]++;
	if (a == 't') {
		f->now += timeout_ms;
		snprintf(msg, cap, "timed out");
		return -1;
	}
	f->now += f->latency_ms;
	if (a == 'p')
		return 0;
	snprintf(msg, cap, "refused #%u", f->calls[i]);
	return -1;
}

/* A spec of n tcp checks with the given timings. */
static struct health_spec *mkspec(size_t n, unsigned interval, unsigned timeout, unsigned retries,
                                  unsigned min_healthy, unsigned deadline)
{
	struct health_spec *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	s->checks = calloc(n, sizeof(*s->checks));
	assert_non_null(s->checks);
	s->n = n;
	s->min_healthy_ms = min_healthy;
	s->deadline_ms = deadline;
	for (size_t i = 0; i < n; i++) {
		snprintf(s->checks[i].name, sizeof(s->checks[i].name), "c%zu", i);
		s->checks[i].type = HEALTH_TCP;
		s->checks[i].interval_ms = interval;
		s->checks[i].timeout_ms = timeout;
		s->checks[i].retries = retries;
	}
	return s;
}

static void spec_free(struct health_spec *s)
{
	free(s->checks);
	free(s);
}

static struct health_ops fops(struct fake *f)
{
	struct health_ops o = {.ud = f, .now_ms = f_now, .sleep_ms = f_sleep, .probe = f_probe};
	return o;
}

static void test_run_late_service(void **state)
{
	struct health_spec *s = mkspec(1, 1000, 500, 5, 3000, 60000);
	struct fake f = {.now = 1000000, .script = {"fffp"}, .latency_ms = 10, .spec = s};
	struct health_ops o = fops(&f);
	struct health_report r;
	(void)state;
	assert_int_equal(health_run(s, &o, &r), 0);
	assert_string_equal(r.result, "passed");
	assert_string_equal(r.checks[0].result, "passed");
	/* passed on the 4th attempt (3 retries used) at 3040 ms, then at 4040 and 5050 while
	 * staying healthy for 3 s (until 6040) */
	assert_int_equal(r.checks[0].duration_ms, 3 * 1010 + 10);
	assert_int_equal(r.checks[0].attempts, 4 + 2);
	assert_string_equal(r.checks[0].last_error, "refused #3");
	assert_int_equal(r.duration_ms, 3040 + 3000);
	assert_string_equal(r.error, "");
	spec_free(s);
}

static void test_run_flapping(void **state)
{
	struct health_spec *s = mkspec(2, 1000, 500, 5, 10000, 60000);
	struct fake f = {.now = 0, .script = {"p", "ppf"}, .latency_ms = 1, .spec = s};
	struct health_ops o = fops(&f);
	struct health_report r;
	(void)state;
	assert_int_equal(health_run(s, &o, &r), -1);
	assert_string_equal(r.result, "failed");
	assert_string_equal(r.checks[0].result, "passed");
	assert_string_equal(r.checks[1].result, "failed");
	assert_int_equal(r.checks[1].attempts, 3);
	assert_non_null(strstr(r.error, "health check c1 failed"));
	assert_non_null(strstr(r.error, "before min_healthy_time (10000ms): refused #3"));
	assert_true(r.duration_ms < 10000);
	spec_free(s);
}

static void test_run_never_answers(void **state)
{
	/* retries would allow 1000 attempts; the 5 s deadline ends it first */
	struct health_spec *s = mkspec(2, 1000, 2000, 1000, 0, 5000);
	struct fake f = {.now = 7, .script = {"p", "t"}, .spec = s};
	struct health_ops o = fops(&f);
	struct health_report r;
	(void)state;
	assert_int_equal(health_run(s, &o, &r), -1);
	assert_string_equal(r.checks[0].result, "passed");
	assert_string_equal(r.checks[1].result, "failed");
	assert_string_equal(r.checks[1].last_error, "timed out");
	assert_non_null(strstr(r.error, "deadline of 5000ms passed; not healthy: c1"));
	/* attempts at 0 (2 s), 3 s (2 s): the deadline cuts nothing short and ends it */
	assert_int_equal(r.checks[1].attempts, 2);
	assert_int_equal(r.duration_ms, 5000);
	spec_free(s);
}

static void test_run_timeout_cut_to_deadline(void **state)
{
	struct health_spec *s = mkspec(1, 100, 10000, 1000, 0, 3000);
	struct fake f = {.now = 0, .script = {"t"}, .spec = s};
	struct health_ops o = fops(&f);
	struct health_report r;
	(void)state;
	assert_int_equal(health_run(s, &o, &r), -1);
	/* the one attempt got 3 s, not its 10 s timeout */
	assert_int_equal(r.checks[0].attempts, 1);
	assert_int_equal(r.duration_ms, 3000);
	spec_free(s);
}

static void test_run_retries_exhausted(void **state)
{
	struct health_spec *s = mkspec(1, 100, 50, 2, 0, 60000);
	struct fake f = {.now = 0, .script = {"f"}, .spec = s};
	struct health_ops o = fops(&f);
	struct health_report r;
	(void)state;
	assert_int_equal(health_run(s, &o, &r), -1);
	assert_int_equal(r.checks[0].attempts, 3);
	assert_non_null(strstr(r.error, "health check c0 failed 3 times in a row (retries: 2): refused #3"));
	spec_free(s);
}

static void test_run_min_healthy_zero(void **state)
{
	struct health_spec *s = mkspec(3, 100, 50, 0, 0, 1000);
	struct fake f = {.now = 0, .script = {"p", "p", "p"}, .spec = s};
	struct health_ops o = fops(&f);
	struct health_report r;
	(void)state;
	assert_int_equal(health_run(s, &o, &r), 0);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(r.checks[i].attempts, 1);
	assert_int_equal(r.duration_ms, 0);
	spec_free(s);
}

static void test_run_staying_past_deadline(void **state)
{
	/* healthy late: min_healthy_time cannot end before the deadline */
	struct health_spec *s = mkspec(1, 1000, 100, 100, 5000, 8000);
	struct fake f = {.now = 0, .script = {"ffffp"}, .spec = s};
	struct health_ops o = fops(&f);
	struct health_report r;
	(void)state;
	assert_int_equal(health_run(s, &o, &r), -1);
	assert_non_null(strstr(r.error, "passed before min_healthy_time (5000ms) was reached"));
	/* healthy from 4 s; known to be hopeless after the attempt at 7 s, not waited for */
	assert_int_equal(r.checks[0].attempts, 8);
	assert_int_equal(r.duration_ms, 7000);
	spec_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_full),
	    cmocka_unit_test(test_default_deadline),
	    cmocka_unit_test(test_durations),
	    cmocka_unit_test(test_run_late_service),
	    cmocka_unit_test(test_run_flapping),
	    cmocka_unit_test(test_run_never_answers),
	    cmocka_unit_test(test_run_timeout_cut_to_deadline),
	    cmocka_unit_test(test_run_retries_exhausted),
	    cmocka_unit_test(test_run_min_healthy_zero),
	    cmocka_unit_test(test_run_staying_past_deadline),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
