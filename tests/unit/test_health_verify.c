/* test_health_verify.c - the pure parts of hoist verify and hoist history: manifest
 * lines (valid and refused), the comparison of a manifest entry with what was found
 * (clean, one byte changed, mode, owner, deleted, replaced by a symlink), the rpm -V
 * columns, and history entries (result mapping, the JSON shape the fleet dashboard reads). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "exitcodes.h"
#include "history.h"
#include "filemanifest.h"
#include "verify.h"

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static int parse(const char *text, struct file_manifest *m, struct herr *err)
{
	char *t = strdup(text);
	assert_non_null(t);
	return file_manifest_parse(t, strlen(t), "manifest", m, err);
}

static void test_manifest_parse(void **state)
{
	struct file_manifest m;
	struct herr err;
	(void)state;
	assert_int_equal(parse("hoist-manifest 1\n"
	                       "F " SHA_A " 644 0 0 12 /opt/app/a file with spaces\n"
	                       "L " SHA_B " - 0 0 - /opt/app/link\n"
	                       "D - 755 1000 1000 - /opt/app\n"
	                       "F " SHA_A " 600 - - - /opt/app/from-list\n",
	                       &m, &err),
	                 0);
	assert_int_equal(m.n, 4);
	assert_int_equal(m.e[0].kind, 'F');
	assert_string_equal(m.e[0].sha, SHA_A);
	assert_int_equal(m.e[0].mode, 0644);
	assert_int_equal(m.e[0].size, 12);
	assert_string_equal(m.e[0].path, "/opt/app/a file with spaces");
	assert_int_equal(m.e[1].mode, -1);
	assert_string_equal(m.e[1].sha, SHA_B);
	assert_int_equal(m.e[2].uid, 1000);
	assert_string_equal(m.e[2].sha, "");
	assert_int_equal(m.e[3].uid, -1);
	assert_int_equal(m.e[3].size, -1);
	file_manifest_free(&m);

	static const char *const bad[] = {
	    "",
	    "hoist-manifest 2\n",
	    "hoist-manifest 1\nF " SHA_A " 644 0 0 12 /x", /* no newline: incomplete */
	    "hoist-manifest 1\nX " SHA_A " 644 0 0 12 /x\n",
	    "hoist-manifest 1\nF abc 644 0 0 12 /x\n",
	    "hoist-manifest 1\nF " SHA_A " 648 0 0 12 /x\n", /* not octal */
	    "hoist-manifest 1\nF " SHA_A " 644 0 0 12 relative\n",
	    "hoist-manifest 1\nF " SHA_A " 644 0 0\n",
	    "hoist-manifest 1\nF " SHA_A " 644 x 0 12 /x\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		herr_clear(&err);
		if (parse(bad[i], &m, &err) == 0)
			fail_msg("accepted bad manifest %zu", i);
		assert_int_equal(err.code, HOIST_EXIT_CANNOT_VERIFY);
	}
}

static struct file_manifest_entry file_entry(void)
{
	struct file_manifest_entry w;
	memset(&w, 0, sizeof(w));
	w.kind = 'F';
	strcpy(w.sha, SHA_A); /* test code: agent/ bans it, not tests */
	w.mode = 0644;
	w.uid = 0;
	w.gid = 0;
	w.size = 12;
	w.path = (char *)(uintptr_t) "/opt/app/a";
	return w;
}

static struct verify_actual same_file(void)
{
	struct verify_actual g;
	memset(&g, 0, sizeof(g));
	g.kind = 'F';
	strcpy(g.sha, SHA_A);
	g.mode = 0644;
	g.size = 12;
	return g;
}

static void test_compare(void **state)
{
	struct file_manifest_entry w = file_entry();
	struct verify_actual g = same_file();
	char f[10];
	(void)state;
	assert_int_equal(verify_compare(&w, &g), 0);
	/* one byte changed, same size */
	strcpy(g.sha, SHA_B);
	assert_int_equal(verify_compare(&w, &g), VERIFY_SHA);
	verify_flags(VERIFY_SHA, f);
	assert_string_equal(f, "..5......");
	/* mode */
	g = same_file();
	g.mode = 0600;
	assert_int_equal(verify_compare(&w, &g), VERIFY_MODE);
	/* owner and group */
	g = same_file();
	g.uid = 1;
	g.gid = 1;
	assert_int_equal(verify_compare(&w, &g), VERIFY_OWNER | VERIFY_GROUP);
	verify_flags(VERIFY_OWNER | VERIFY_GROUP, f);
	assert_string_equal(f, ".....UG..");
	/* deleted */
	memset(&g, 0, sizeof(g));
	assert_int_equal(verify_compare(&w, &g), VERIFY_MISSING);
	/* replaced by a symlink */
	g = same_file();
	g.kind = 'L';
	g.mode = 0777;
	assert_int_equal(verify_compare(&w, &g), VERIFY_TYPE | VERIFY_MODE | VERIFY_SHA);
	verify_flags(VERIFY_TYPE | VERIFY_MODE | VERIFY_SHA, f);
	assert_string_equal(f, ".M5......");
	/* size and content */
	g = same_file();
	g.size = 13;
	strcpy(g.sha, SHA_B);
	verify_flags(verify_compare(&w, &g), f);
	assert_string_equal(f, "S.5......");
	/* unreadable content */
	g = same_file();
	g.unreadable = true;
	g.sha[0] = '\0';
	verify_flags(verify_compare(&w, &g), f);
	assert_string_equal(f, "..?......");
	/* unknown attributes (an installed list without owners) are not compared */
	w.uid = w.gid = w.size = -1;
	g = same_file();
	g.uid = 5;
	g.size = 99;
	assert_int_equal(verify_compare(&w, &g), 0);
	/* a link whose target changed; link modes are not compared */
	memset(&w, 0, sizeof(w));
	w.kind = 'L';
	strcpy(w.sha, SHA_A);
	w.mode = -1;
	g = same_file();
	g.kind = 'L';
	g.mode = 0777;
	strcpy(g.sha, SHA_B);
	assert_int_equal(verify_compare(&w, &g), VERIFY_LINK);
}

static struct deploy_status *mkstatus(const char *kind, const char *result)
{
	struct deploy_status *st = calloc(1, sizeof(*st));
	assert_non_null(st);
	status_copy(st->id, sizeof(st->id), "d-ABC");
	status_copy(st->kind, sizeof(st->kind), kind);
	status_copy(st->version, sizeof(st->version), "v2");
	status_copy(st->result, sizeof(st->result), result);
	st->started = 1765000000; /* 2025-12-06T05:46:40Z */
	return st;
}

static void add_step(struct deploy_status *st, const char *event, const char *result)
{
	struct status_step *s = &st->steps[st->n_steps++];
	status_copy(s->event, sizeof(s->event), event);
	status_copy(s->result, sizeof(s->result), result);
	s->started = st->started;
	s->duration_s = 0.25;
}

static void test_history_result(void **state)
{
	struct deploy_status *st = mkstatus("deploy", "failed");
	(void)state;
	add_step(st, "DownloadBundle", "ok");
	assert_string_equal(history_result(st), "refused"); /* nothing on the host changed */
	add_step(st, "BeforeInstall", "failed");
	assert_string_equal(history_result(st), "failed");
	status_copy(st->result, sizeof(st->result), "recovered");
	assert_string_equal(history_result(st), "succeeded");
	status_copy(st->result, sizeof(st->result), "rolled-back");
	assert_string_equal(history_result(st), "rolled-back");
	free(st);
}

static void test_history_json(void **state)
{
	struct deploy_status *st = mkstatus("deploy", "rolled-back"), *rb = mkstatus("rollback", "succeeded");
	struct buf b;
	(void)state;
	status_copy(rb->version, sizeof(rb->version), "v1");
	st->rollback = rb;
	st->exit_code = 13;
	add_step(st, "DownloadBundle", "ok");
	add_step(st, "ValidateService", "ok");
	add_step(st, "HealthCheck", "failed");
	status_copy(st->tail, sizeof(st->tail), "line \"1\"\nline 2");
	status_copy(st->health.result, sizeof(st->health.result), "failed");
	buf_init(&b, 1u << 20);
	assert_int_equal(history_entry_json(st, st->started + 3, &b), 0);
	assert_string_equal(
	    b.data,
	    "{\"id\": \"d-ABC\", \"version\": \"v2\", \"kind\": \"deploy\", \"result\": \"rolled-back\", "
	    "\"started\": \"2025-12-06T05:46:40Z\", \"finished\": \"2025-12-06T05:46:43Z\", "
	    "\"failed_step\": \"HealthCheck\", \"steps\": ["
	    "{\"name\": \"DownloadBundle\", \"result\": \"ok\", \"started\": \"2025-12-06T05:46:40Z\", "
	    "\"duration_ms\": 250}, "
	    "{\"name\": \"ValidateService\", \"result\": \"ok\", \"started\": \"2025-12-06T05:46:40Z\", "
	    "\"duration_ms\": 250}, "
	    "{\"name\": \"HealthCheck\", \"result\": \"failed\", \"started\": \"2025-12-06T05:46:40Z\", "
	    "\"duration_ms\": 250}], "
	    "\"output_tail\": \"line \\\"1\\\"\\nline 2\", \"rolled_back_to\": \"v1\", \"exit_code\": 13, "
	    "\"error\": null, \"health\": {\"result\": \"failed\", \"checks\": [], \"min_healthy_time_s\": "
	    "0.000, "
	    "\"duration_ms\": 0, \"error\": null}}");
	/* in progress: no finish, no failed step, no tail */
	buf_reset(&b);
	status_copy(st->result, sizeof(st->result), "in-progress");
	assert_int_equal(history_entry_json(st, -1, &b), 0);
	assert_non_null(strstr(b.data, "\"result\": \"in-progress\", \"started\": \"2025-12-06T05:46:40Z\", "
	                               "\"finished\": null, \"failed_step\": null"));
	assert_non_null(strstr(b.data, "\"output_tail\": null, \"rolled_back_to\": null"));
	buf_reset(&b);
	status_copy(st->result, sizeof(st->result), "rolled-back");
	assert_int_equal(history_entry_text(st, st->started + 3, &b), 0);
	assert_non_null(strstr(b.data, "2025-12-06T05:46:40Z  d-ABC  deploy   v2"));
	assert_non_null(strstr(b.data, "rolled-back in 3 s at HealthCheck, rolled back to v1 (exit 13)\n"));
	buf_free(&b);
	free(st);
	free(rb);
}

/* The history keeps the newest HISTORY_KEEP entries and prints them newest first. */
static void test_history_bounded(void **state)
{
	char dir[] = "/tmp/hoist-test-history-XXXXXX", cmd[128];
	struct deploy_status *st = mkstatus("deploy", "succeeded");
	struct herr err;
	FILE *out;
	char *text = NULL;
	size_t len = 0, n = 0;
	DIR *d;
	struct dirent *e;
	(void)state;
	assert_non_null(mkdtemp(dir));
	for (int i = 0; i < HISTORY_KEEP + 5; i++) {
		snprintf(st->id, sizeof(st->id), "d-%05d", i);
		st->started = 1765000000 + i;
		history_save(dir, st);
	}
	snprintf(cmd, sizeof(cmd), "%s/history", dir);
	d = opendir(cmd);
	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += strstr(e->d_name, ".json") != NULL;
	closedir(d);
	assert_int_equal(n, HISTORY_KEEP);
	out = open_memstream(&text, &len);
	assert_non_null(out);
	assert_int_equal(history_print(dir, true, out, &err), 0);
	fclose(out);
	/* newest first; the five oldest pruned */
	assert_non_null(strstr(text, "{\"deployments\": [\n  {\"id\": \"d-00204\""));
	assert_null(strstr(text, "\"d-00004\""));
	assert_non_null(strstr(text, "\"d-00005\""));
	free(text);
	free(st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* cli_parse wants writable strings (as main's argv are): copy the literals. */
static int parse_args(struct cli *c, struct herr *e, const char *const *args)
{
	static char pool[8][64];
	static char *argv[9];
	int n = 0;
	for (; args[n] != NULL && n < 8; n++) {
		snprintf(pool[n], sizeof(pool[n]), "%s", args[n]);
		argv[n] = pool[n];
	}
	argv[n] = NULL;
	return cli_parse(n, argv, c, e);
}
#define PARSE(c, e, ...) parse_args((c), (e), (const char *const[]){"hoist", __VA_ARGS__, NULL})

/* The new commands on the command line: restart, verify [--json], history [--json]. */
static void test_cli(void **state)
{
	struct cli c;
	struct herr err;
	(void)state;
	assert_int_equal(PARSE(&c, &err, "restart"), 0);
	assert_int_equal(c.cmd, CMD_RESTART);
	assert_int_equal(PARSE(&c, &err, "--root", "/r", "verify", "--json"), 0);
	assert_int_equal(c.cmd, CMD_VERIFY);
	assert_true(c.json);
	assert_string_equal(c.root, "/r");
	assert_int_equal(PARSE(&c, &err, "history"), 0);
	assert_int_equal(c.cmd, CMD_HISTORY);
	assert_false(c.json);
	assert_int_equal(PARSE(&c, &err, "restart", "--json"), -1);
	assert_int_equal(err.code, HOIST_EXIT_USAGE);
	assert_int_equal(PARSE(&c, &err, "verify", "extra"), -1);
	assert_non_null(strstr(cli_usage(CMD_VERIFY), "Exit 0 clean, 20 drift found, 21 cannot verify"));
	assert_non_null(strstr(cli_usage(CMD_NONE), "restart"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_manifest_parse),  cmocka_unit_test(test_compare),
	    cmocka_unit_test(test_history_result),  cmocka_unit_test(test_history_json),
	    cmocka_unit_test(test_history_bounded), cmocka_unit_test(test_cli),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
