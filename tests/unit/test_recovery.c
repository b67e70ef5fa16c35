/* test_recovery.c - what recovery reads from the state directory: journal
 * parsing of damaged or hostile journals, version names from state files,
 * the status JSON writer and checker, and the stub's "failed here" rule for
 * interrupted deployments (issue 9, item 14 and 17). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "exitcodes.h"
#include "fsutil.h"
#include "herr.h"
#include "journal.h"
#include "orphans.h"
#include "record.h"
#include "revisions.h"
#include "state.h"
#include "status.h"

#define HEAD "hoist-journal 1\nid d-ABC\nkind deploy\n"

static int parse(const char *text, struct journal_info *j, struct herr *e)
{
	herr_clear(e);
	return journal_parse(text, strlen(text), j, e);
}

static void journal_damaged_is_named(void **st)
{
	struct journal_info j;
	struct herr e;
	(void)st;
	assert_int_equal(parse("", &j, &e), -1);
	assert_non_null(strstr(e.msg, "empty (0 bytes)"));
	/* random bytes without a newline were reported as "journal is empty" */
	assert_int_equal(journal_parse("\x8f\x01zz\xff", 5, &j, &e), -1);
	assert_non_null(strstr(e.msg, "not a hoist journal"));
	assert_int_equal(parse("hoist-journal 1\nversion v1\n", &j, &e), -1);
	assert_non_null(strstr(e.msg, "no id line"));
	assert_int_equal(parse("hoist-journal 1\nid d-A\nkind deploy\n", &j, &e), -1);
	assert_non_null(strstr(e.msg, "no version line"));
	assert_int_equal(parse("hoist-journal 1\nid d-A\nkind reboot\nversion v1\n", &j, &e), -1);
	assert_non_null(strstr(e.msg, "kind"));
	assert_int_equal(parse(HEAD "version v1\ninstalled -\nlast_good v0\nbegin Install 1\n", &j, &e), 0);
	assert_string_equal(j.version, "v1");
	assert_true(j.install_begun);
}

static void journal_names_become_no_paths(void **st)
{
	static const char *const bad[] = {
	    HEAD "version ../../etc\n",   HEAD "version v1\ninstalled ../x\n",
	    HEAD "version v1\nlast_good /etc\n", HEAD "version .hidden\n",
	    HEAD "version a/b\n",          HEAD "version v\x1b[2J\n",
	};
	struct journal_info j;
	struct herr e;
	(void)st;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i], &j, &e), -1);
		assert_int_equal(e.code, HOIST_EXIT_IO);
		assert_non_null(strstr(e.msg, "not a version name"));
		assert_null(strchr(e.msg, '\x1b')); /* shown escaped */
	}
}

static void rev_paths_refuse_bad_names(void **st)
{
	struct rev_paths p;
	struct herr e;
	(void)st;
	herr_clear(&e);
	assert_int_equal(rev_paths("/s", "..", &p, &e), -1);
	assert_int_equal(rev_paths("/s", "a/../../b", &p, &e), -1);
	assert_int_equal(rev_paths("/s", "", &p, &e), -1);
	assert_int_equal(rev_paths("/s", "v1.2_3+4-x", &p, &e), 0);
	assert_string_equal(p.tree, "/s/revisions/v1.2_3+4-x/tree");
}

static void check_json(const char *text, int want)
{
	size_t at = 0;
	assert_int_equal(status_json_valid(text, strlen(text), &at), want);
}

static void json_checker_vectors(void **st)
{
	(void)st;
	check_json("{}", 0);
	check_json(" {\"a\": [1, -2.5e3, true, false, null, \"\\u00e9\\n\", {}]}\n", 0);
	check_json("\"caf\xc3\xa9\"", 0);
	check_json("{\"a\": 1,}", -1);
	check_json("{\"a\" 1}", -1);
	check_json("{\"a\": \"\x01\"}", -1); /* raw control byte */
	check_json("\"\xff\"", -1);          /* not UTF-8 */
	check_json("\"\xc0\xaf\"", -1);      /* overlong */
	check_json("\"\xed\xa0\x80\"", -1);  /* surrogate */
	check_json("\"\\x\"", -1);
	check_json("01", -1);
	check_json("{} {}", -1);
	check_json("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", -1);
	check_json("{\"deployment_id\": \"\x01\", \n", -1);
}

static void json_writer_output_is_valid(void **st)
{
	static const char *const in[] = {"plain", "caf\xc3\xa9", "\xff\xfe raw", "a\x01\x1b[2J\x7f",
	                                 "cut \xe2\x82", "\xf4\x90\x80\x80", "q\"b\\"};
	(void)st;
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		struct buf b;
		buf_init(&b, 4096);
		assert_int_equal(json_string(&b, in[i]), 0);
		assert_int_equal(status_json_valid(b.data, b.len, NULL), 0);
		buf_free(&b);
	}
}

static void json_status_with_hostile_fields_is_valid(void **st)
{
	struct deploy_status *s = calloc(1, sizeof(*s));
	struct buf b;
	(void)st;
	assert_non_null(s);
	status_copy(s->id, sizeof(s->id), "d-\x01");
	status_copy(s->version, sizeof(s->version), "v\xff");
	status_copy(s->tail, sizeof(s->tail), "line\r\n\x1b[31mred\xc3");
	buf_init(&b, 1u << 20);
	assert_int_equal(status_json(s, &b), 0);
	assert_int_equal(status_json_valid(b.data, b.len, NULL), 0);
	buf_free(&b);
	free(s);
}


static void stat_lines_parse(void **st)
{
	/* a comm with spaces and parentheses, as a script may be named */
	static const char line[] = "4242 (we ird) (x)) S 1 4240 4240 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 "
	                           "987654 1000 100 18446744073709551615\n";
	long pg = 0, se = 0;
	unsigned long long start = 0;
	bool z = true;
	(void)st;
	assert_int_equal(orphans_parse_stat(line, strlen(line), &pg, &se, &start, &z), 0);
	assert_int_equal(pg, 4240);
	assert_int_equal(se, 4240);
	assert_int_equal(start, 987654);
	assert_false(z);
	assert_int_equal(orphans_parse_stat("12 (a) Z 1 12 12 0", 18, &pg, &se, &start, &z), -1);
	assert_int_equal(orphans_parse_stat("garbage", 7, &pg, &se, &start, &z), -1);
}

static void journal_hook_line(void **st)
{
	struct journal_info j;
	struct herr e;
	static const char ok[] = HEAD "version v1\nbegin ApplicationStart 1\n"
	                              "hook 4240 987654 0123abcd-0123-4567-89ab-0123456789ab\n";
	static const char ended[] = HEAD "version v1\nbegin ApplicationStart 1\n"
	                                 "hook 4240 987654 0123abcd-0123-4567-89ab-0123456789ab\n"
	                                 "end ApplicationStart ok 2\n";
	(void)st;
	assert_int_equal(parse(ok, &j, &e), 0);
	assert_int_equal(j.hook.pgid, 4240);
	assert_int_equal(j.hook.start_ticks, 987654);
	assert_string_equal(j.hook.boot_id, "0123abcd-0123-4567-89ab-0123456789ab");
	assert_int_equal(parse(ended, &j, &e), 0);
	assert_int_equal(j.hook.pgid, 0); /* the hook ended with its step */
	assert_int_equal(parse(HEAD "version v1\nhook 1 5 x\n", &j, &e), -1);
	assert_non_null(strstr(e.msg, "line 5: expected hook PGID TICKS BOOTID"));
	assert_int_equal(parse(HEAD "version v1\nhook -5 1 0123abcd-0123-4567-89ab-0123456789ab\n", &j, &e), -1);
}

/* A temporary state directory with revisions/V/meta. */
static void write_meta(const char *dir, const char *version, const char *text)
{
	char p[512];
	struct herr e;
	snprintf(p, sizeof(p), "%s/revisions/%s", dir, version);
	assert_int_equal(fs_mkdir_p(p, 0755, &e), 0);
	snprintf(p, sizeof(p), "%s/revisions/%s/meta", dir, version);
	assert_int_equal(fs_write_atomic(p, text, strlen(text), 0644, &e), 0);
}

static void stub_counts_interrupted_as_failed(void **st)
{
	char dir[] = "/tmp/hoist-test-recovery-XXXXXX";
	struct herr e;
	(void)st;
	assert_non_null(mkdtemp(dir));
	write_meta(dir, "v2", "version=v2\nresult=interrupted\nsha256=\n");
	write_meta(dir, "v3", "version=v3\nresult=succeeded\n");
	herr_clear(&e);
	assert_int_equal(state_deployed(dir, "v2", NULL, &e), DEPLOYED_FAILED);
	assert_int_equal(state_deployed(dir, "v3", NULL, &e), DEPLOYED_NONE);
	assert_int_equal(fs_rm_rf(dir, &e), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(journal_damaged_is_named),
	    cmocka_unit_test(journal_names_become_no_paths),
	    cmocka_unit_test(rev_paths_refuse_bad_names),
	    cmocka_unit_test(json_checker_vectors),
	    cmocka_unit_test(json_writer_output_is_valid),
	    cmocka_unit_test(json_status_with_hostile_fields_is_valid),
	    cmocka_unit_test(stub_counts_interrupted_as_failed),
	    cmocka_unit_test(stat_lines_parse),
	    cmocka_unit_test(journal_hook_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
