/* test_engine.c - the agent's pure parts: command line, hook environment,
 * journal parsing, retention selection, JSON escaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "exitcodes.h"
#include "herr.h"
#include "hookenv.h"
#include "journal.h"
#include "revisions.h"
#include "stage.h"
#include "status.h"

/* cli_parse wants writable strings (as main's argv are): copy the literals. */
static char argpool[32][256];
static char *argvv[33];

static int parse_list(struct cli *c, struct herr *e, const char *const *args)
{
	int n = 0;
	for (; args[n] != NULL; n++) {
		snprintf(argpool[n], sizeof(argpool[n]), "%s", args[n]);
		argvv[n] = argpool[n];
	}
	argvv[n] = NULL;
	return cli_parse(n, argvv, c, e);
}
#define ARGS(...) ((const char *const[]){"hoist", __VA_ARGS__, NULL})
#define PARSE(c, e, ...) parse_list((c), (e), ARGS(__VA_ARGS__))

static void test_cli_deploy_full(void **state)
{
	struct cli c;
	struct herr e = {0};
	(void)state;
	assert_int_equal(PARSE(&c, &e, "--root", "/tmp/r", "-v", "deploy", "--bundle=/b.tgz", "--version",
	                       "v1", "--environment", "prod", "--application", "app", "--deployment-group",
	                       "g", "--sha256", "ab", "--bundle-bucket", "bk", "--bundle-key", "k",
	                       "--bundle-etag", "t", "--no-rollback", "--ignore-stop-failures"),
	                 0);
	assert_int_equal(c.cmd, CMD_DEPLOY);
	assert_string_equal(c.root, "/tmp/r");
	assert_int_equal(c.verbosity, 1);
	assert_string_equal(c.bundle, "/b.tgz");
	assert_string_equal(c.version_name, "v1");
	assert_string_equal(c.environment, "prod");
	assert_string_equal(c.application, "app");
	assert_string_equal(c.group, "g");
	assert_string_equal(c.sha256, "ab");
	assert_string_equal(c.bucket, "bk");
	assert_string_equal(c.key, "k");
	assert_string_equal(c.etag, "t");
	assert_true(c.no_rollback);
	assert_true(c.ignore_stop_failures);
}

static void test_cli_other_commands(void **state)
{
	struct cli c;
	struct herr e = {0};
	(void)state;
	assert_int_equal(PARSE(&c, &e, "rollback", "--to", "v2"), 0);
	assert_int_equal(c.cmd, CMD_ROLLBACK);
	assert_string_equal(c.to, "v2");
	assert_int_equal(PARSE(&c, &e, "status", "--json"), 0);
	assert_true(c.json);
	assert_int_equal(PARSE(&c, &e, "validate", "x.tgz"), 0);
	assert_string_equal(c.path, "x.tgz");
	assert_int_equal(PARSE(&c, &e, "preflight", "b.tgz", "--json"), 0);
	assert_int_equal(c.cmd, CMD_PREFLIGHT);
	assert_string_equal(c.path, "b.tgz");
	assert_true(c.json);
	assert_int_equal(PARSE(&c, &e, "preflight", "--json", "b.tgz"), 0);
	assert_string_equal(c.path, "b.tgz");
	assert_non_null(strstr(cli_usage(CMD_PREFLIGHT), "hoist preflight BUNDLE [--json]"));
	assert_int_equal(PARSE(&c, &e, "list"), 0);
	assert_int_equal(c.cmd, CMD_LIST);
	assert_int_equal(PARSE(&c, &e, "recover"), 0);
	assert_int_equal(c.cmd, CMD_RECOVER);
	/* --help on a command needs none of its required options */
	assert_int_equal(PARSE(&c, &e, "deploy", "--help"), 0);
	assert_true(c.help);
	assert_int_equal(c.cmd, CMD_DEPLOY);
	assert_non_null(strstr(cli_usage(CMD_DEPLOY), "--bundle"));
	assert_int_equal(PARSE(&c, &e, "--version"), 0);
	assert_true(c.version);
}

static void test_cli_errors(void **state)
{
	const struct {
		const char *const *args;
		const char *msg;
	} bad[] = {
	    {ARGS("deploy"), "needs --bundle"},
	    {ARGS("deploy", "--bundle"), "needs a value"},
	    {ARGS("deploy", "--bundle", ""), "non-empty"},
	    {ARGS("deploy", "--bundle", "b", "--to", "x"), "unknown option --to for deploy"},
	    {ARGS("status", "--no-rollback"), "unknown option"},
	    {ARGS("frobnicate"), "unknown command 'frobnicate'"},
	    {ARGS("--bogus", "list"), "unknown option --bogus"},
	    {ARGS("validate"), "validate needs a PATH"},
	    {ARGS("validate", "a", "b"), "unexpected argument 'b'"},
	    {ARGS("preflight"), "preflight needs a PATH"},
	    {ARGS("validate", "--json", "a"), "unknown option --json for validate"},
	    {ARGS("deploy", "--bundle", "b", "--version", "../x"), "--version '../x'"},
	    {ARGS("rollback", "--to", "a/b"), "not a valid version"},
	    {(const char *const[]){"hoist", NULL}, "no command given"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cli c;
		struct herr e = {0};
		assert_int_equal(parse_list(&c, &e, bad[i].args), -1);
		assert_int_equal(e.code, HOIST_EXIT_USAGE);
		if (strstr(e.msg, bad[i].msg) == NULL)
			fail_msg("case %zu: '%s' does not contain '%s'", i, e.msg, bad[i].msg);
	}
}

static void test_cli_version_names(void **state)
{
	(void)state;
	assert_true(cli_version_ok("v1.2.3-rc_1+b"));
	assert_false(cli_version_ok(""));
	assert_false(cli_version_ok("."));
	assert_false(cli_version_ok(".."));
	assert_false(cli_version_ok("-rf"));
	assert_false(cli_version_ok(".hidden"));
	assert_false(cli_version_ok("1..2"));
	assert_false(cli_version_ok("a b"));
	assert_false(cli_version_ok("a\nb"));
	char long_name[130];
	memset(long_name, 'a', 129);
	long_name[129] = '\0';
	assert_false(cli_version_ok(long_name));
	long_name[128] = '\0';
	assert_true(cli_version_ok(long_name));
}

/* Value of NAME in envp, or NULL. */
static const char *env_get(char **envp, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; envp[i]; i++)
		if (strncmp(envp[i], name, n) == 0 && envp[i][n] == '=')
			return envp[i] + n + 1;
	return NULL;
}

static void test_hookenv_contents(void **state)
{
	struct hookenv h = {.deployment_id = "d-ABC",
	                    .application = "app",
	                    .group = "grp",
	                    .group_id = "grp",
	                    .bucket = "bk",
	                    .key = "k/x.tgz",
	                    .bundle_version = "v1",
	                    .etag = NULL,
	                    .version = "v1",
	                    .environment = "prod",
	                    .revision_dir = "/s/revisions/v1/tree",
	                    .root = ""};
	char **env;
	size_t n = 0;
	(void)state;
	setenv("AWS_SECRET_ACCESS_KEY", "leak", 1);
	env = hookenv_build(&h, "BeforeInstall", "/home/u", "u");
	assert_non_null(env);
	assert_string_equal(env_get(env, "PATH"), HOOKENV_PATH);
	assert_string_equal(env_get(env, "LANG"), "C.UTF-8");
	assert_string_equal(env_get(env, "HOME"), "/home/u");
	assert_string_equal(env_get(env, "USER"), "u");
	assert_string_equal(env_get(env, "LOGNAME"), "u");
	assert_string_equal(env_get(env, "LIFECYCLE_EVENT"), "BeforeInstall");
	assert_string_equal(env_get(env, "DEPLOYMENT_ID"), "d-ABC");
	assert_string_equal(env_get(env, "APPLICATION_NAME"), "app");
	assert_string_equal(env_get(env, "DEPLOYMENT_GROUP_NAME"), "grp");
	assert_string_equal(env_get(env, "DEPLOYMENT_GROUP_ID"), "grp");
	assert_string_equal(env_get(env, "BUNDLE_BUCKET"), "bk");
	assert_string_equal(env_get(env, "BUNDLE_KEY"), "k/x.tgz");
	assert_string_equal(env_get(env, "BUNDLE_VERSION"), "v1");
	assert_null(env_get(env, "BUNDLE_ETAG")); /* unknown: not set at all */
	assert_string_equal(env_get(env, "HOIST_VERSION"), "v1");
	assert_string_equal(env_get(env, "HOIST_ENVIRONMENT"), "prod");
	assert_string_equal(env_get(env, "HOIST_REVISION_DIR"), "/s/revisions/v1/tree");
	assert_string_equal(env_get(env, "HOIST_ROOT"), "");
	assert_null(env_get(env, "AWS_SECRET_ACCESS_KEY")); /* nothing of the agent's own */
	while (env[n])
		n++;
	assert_int_equal(n, 17);
	hookenv_free(env);
}

static void test_hookenv_local_bundle(void **state)
{
	struct hookenv h = {0};
	char **env;
	(void)state;
	env = hookenv_build(&h, "ApplicationStop", NULL, NULL);
	assert_non_null(env);
	assert_null(env_get(env, "BUNDLE_BUCKET"));
	assert_null(env_get(env, "BUNDLE_VERSION"));
	assert_string_equal(env_get(env, "DEPLOYMENT_ID"), "");
	assert_string_equal(env_get(env, "HOME"), "/");
	assert_string_equal(env_get(env, "USER"), "root");
	/* a manual deploy without the flags: the documented defaults (issue 9 item 24) */
	assert_string_equal(env_get(env, "APPLICATION_NAME"), "hoist-local");
	assert_string_equal(env_get(env, "DEPLOYMENT_GROUP_NAME"), "LocalFleet");
	assert_string_equal(env_get(env, "DEPLOYMENT_GROUP_ID"), "default-local-deployment-group");
	hookenv_free(env);
	/* --application and --environment: the group hoist-boot would pass */
	h.application = "shop";
	h.environment = "prod";
	h.group = "";
	env = hookenv_build(&h, "ApplicationStop", NULL, NULL);
	assert_non_null(env);
	assert_string_equal(env_get(env, "APPLICATION_NAME"), "shop");
	assert_string_equal(env_get(env, "DEPLOYMENT_GROUP_NAME"), "shop-prod");
	assert_string_equal(env_get(env, "DEPLOYMENT_GROUP_ID"), "shop-prod");
	hookenv_free(env);
}

static void test_journal_parse_states(void **state)
{
	static const char head[] =
	    "hoist-journal 1\nid d-X\nkind deploy\nversion v2\ninstalled v1\nlast_good -\n";
	struct journal_info j;
	struct herr e = {0};
	char text[1024];
	(void)state;
	assert_int_equal(journal_parse(head, strlen(head), &j, &e), 0);
	assert_string_equal(j.id, "d-X");
	assert_string_equal(j.kind, "deploy");
	assert_string_equal(j.version, "v2");
	assert_string_equal(j.installed, "v1");
	assert_string_equal(j.last_good, "");
	assert_false(j.host_touched);

	snprintf(text, sizeof(text), "%sbegin ApplicationStop 1\nend ApplicationStop ok 2\nbegin Install 3\n",
	         head);
	assert_int_equal(journal_parse(text, strlen(text), &j, &e), 0);
	assert_true(j.host_touched);
	assert_true(j.install_begun);
	assert_false(j.install_ended);
	assert_string_equal(j.last_step, "Install");

	snprintf(text, sizeof(text), "%sbegin Install 3\nend Install failed 4\n", head);
	assert_int_equal(journal_parse(text, strlen(text), &j, &e), 0);
	assert_false(j.install_ended);

	snprintf(text, sizeof(text), "%sbegin Install 3\nend Install ok 4\nbegin ValidateService 5\n", head);
	assert_int_equal(journal_parse(text, strlen(text), &j, &e), 0);
	assert_true(j.install_ended);
	assert_string_equal(j.last_step, "ValidateService");

	/* A torn last line (no newline) is ignored: that step never began. */
	snprintf(text, sizeof(text), "%sbegin BeforeInst", head);
	assert_int_equal(journal_parse(text, strlen(text), &j, &e), 0);
	assert_false(j.host_touched);
}

static void test_journal_parse_rejects(void **state)
{
	struct journal_info j;
	struct herr e = {0};
	static const char notj[] = "something else\n";
	static const char nover[] = "hoist-journal 1\nid d-X\n";
	static const char badkey[] = "hoist-journal 1\nversion v\nfrob x\n";
	(void)state;
	assert_int_equal(journal_parse(notj, strlen(notj), &j, &e), -1);
	assert_non_null(strstr(e.msg, "not a hoist journal"));
	assert_int_equal(journal_parse(nover, strlen(nover), &j, &e), -1);
	assert_non_null(strstr(e.msg, "no version"));
	assert_int_equal(journal_parse(badkey, strlen(badkey), &j, &e), -1);
	assert_non_null(strstr(e.msg, "line 3: unknown key 'frob'"));
	assert_int_equal(journal_parse("", 0, &j, &e), -1);
}

static void test_journal_roundtrip(void **state)
{
	char dir[] = "/tmp/hoist-test-journal-XXXXXX", path[256];
	struct journal_info h = {.id = "d-1",
	                         .kind = "rollback",
	                         .version = "v3",
	                         .installed = "",
	                         .last_good = "v2"},
	                    j;
	struct journal *jr = NULL;
	struct herr e = {0};
	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/journal", dir);
	assert_int_equal(journal_read(path, &j, &e), 1);
	assert_int_equal(journal_create(path, &h, &jr, &e), 0);
	assert_int_equal(journal_begin(jr, "BeforeInstall", &e), 0);
	assert_int_equal(journal_end(jr, "BeforeInstall", true, &e), 0);
	assert_int_equal(journal_begin(jr, "Install", &e), 0);
	assert_int_equal(journal_read(path, &j, &e), 0);
	assert_string_equal(j.kind, "rollback");
	assert_string_equal(j.installed, "");
	assert_string_equal(j.last_good, "v2");
	assert_true(j.install_begun);
	assert_int_equal(journal_close(jr, true, &e), 0);
	assert_int_equal(journal_read(path, &j, &e), 1);
	rmdir(dir);
}

static struct rev_entry ent(const char *v, long long t, uint64_t bytes, bool protect)
{
	struct rev_entry e;
	memset(&e, 0, sizeof(e));
	snprintf(e.version, sizeof(e.version), "%s", v);
	e.deployed_at = (double)t;
	e.bytes = bytes;
	e.protect = protect;
	return e;
}

/* Finds an entry by version after sorting. */
static const struct rev_entry *find(const struct rev_entry *e, size_t n, const char *v)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(e[i].version, v) == 0)
			return &e[i];
	fail_msg("no entry %s", v);
	abort(); /* not reached: fail_msg jumps out; tells the compiler the result is never NULL */
}

static void test_retention_by_count(void **state)
{
	struct rev_entry e[] = {ent("v1", 1, 10, false), ent("v2", 2, 10, true), ent("v3", 3, 10, false),
	                        ent("v4", 4, 10, false), ent("v5", 5, 10, false)};
	(void)state;
	rev_retention_select(e, 5, 3, UINT64_MAX);
	/* v2 is protected (last-good) and counts; newest v5, v4 fill the rest. */
	assert_false(find(e, 5, "v5")->remove);
	assert_false(find(e, 5, "v4")->remove);
	assert_false(find(e, 5, "v2")->remove);
	assert_true(find(e, 5, "v3")->remove);
	assert_true(find(e, 5, "v1")->remove);
}

static void test_retention_by_bytes_never_protected(void **state)
{
	struct rev_entry e[] = {ent("old", 1, 500, true), ent("cur", 9, 800, true), ent("mid", 5, 100, false),
	                        ent("new", 8, 150, false)};
	(void)state;
	/* Both protected ones exceed the byte budget and are still kept; nothing else fits. */
	rev_retention_select(e, 4, 10, 1000);
	assert_false(find(e, 4, "old")->remove);
	assert_false(find(e, 4, "cur")->remove);
	assert_true(find(e, 4, "new")->remove);
	assert_true(find(e, 4, "mid")->remove);
	/* With room, the newest unprotected one that fits is kept. */
	rev_retention_select(e, 4, 10, 1460);
	assert_false(find(e, 4, "new")->remove);
	assert_true(find(e, 4, "mid")->remove);
}

static void test_json_escaping(void **state)
{
	struct buf b;
	(void)state;
	buf_init(&b, 4096);
	assert_int_equal(json_string(&b, "a\"b\\c\nd\te\r\x01\x7f"
	                                 "\xc3\xa9"),
	                 0);
	assert_string_equal(b.data, "\"a\\\"b\\\\c\\nd\\te\\r\\u0001\\u007f\xc3\xa9\"");
	buf_reset(&b);
	assert_int_equal(json_string(&b, NULL), 0);
	assert_string_equal(b.data, "\"\"");
	buf_free(&b);
	buf_init(&b, 4);
	assert_int_equal(json_string(&b, "toolong"), -1);
	buf_free(&b);
}

static void test_status_json_shape(void **state)
{
	static struct deploy_status st, rb;
	struct buf b;
	(void)state;
	memset(&st, 0, sizeof(st));
	memset(&rb, 0, sizeof(rb));
	snprintf(st.id, sizeof(st.id), "d-1");
	snprintf(st.version, sizeof(st.version), "v3");
	snprintf(st.result, sizeof(st.result), "rolled-back");
	st.exit_code = 13;
	st.n_steps = 1;
	snprintf(st.steps[0].event, sizeof(st.steps[0].event), "ValidateService");
	snprintf(st.steps[0].result, sizeof(st.steps[0].result), "failed");
	snprintf(st.tail, sizeof(st.tail), "line \"1\"\nline 2");
	snprintf(rb.version, sizeof(rb.version), "v2");
	snprintf(rb.result, sizeof(rb.result), "succeeded");
	st.rollback = &rb;
	buf_init(&b, 1 << 20);
	assert_int_equal(status_json(&st, &b), 0);
	assert_non_null(strstr(b.data, "\"result\": \"rolled-back\", \"exit_code\": 13"));
	assert_non_null(strstr(b.data, "\"event\": \"ValidateService\""));
	assert_non_null(strstr(b.data, "\"output_tail\": \"line \\\"1\\\"\\nline 2\""));
	assert_non_null(
	    strstr(b.data, "\"rollback\": {\"deployment_id\": null, \"kind\": null, \"version\": \"v2\""));
	assert_non_null(strstr(b.data, "\"current\": null"));
	buf_free(&b);
}

static void test_stage_suffix(void **state)
{
	(void)state;
	assert_string_equal(stage_suffix("/x/app.tar.gz"), ".tar.gz");
	assert_string_equal(stage_suffix("app.TGZ"), ".tgz");
	assert_string_equal(stage_suffix("app.tar"), ".tar");
	assert_string_equal(stage_suffix("app.zip"), ".zip");
	assert_string_equal(stage_suffix("app.gz"), "");
	assert_string_equal(stage_suffix(".zip"), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cli_deploy_full),
	    cmocka_unit_test(test_cli_other_commands),
	    cmocka_unit_test(test_cli_errors),
	    cmocka_unit_test(test_cli_version_names),
	    cmocka_unit_test(test_hookenv_contents),
	    cmocka_unit_test(test_hookenv_local_bundle),
	    cmocka_unit_test(test_journal_parse_states),
	    cmocka_unit_test(test_journal_parse_rejects),
	    cmocka_unit_test(test_journal_roundtrip),
	    cmocka_unit_test(test_retention_by_count),
	    cmocka_unit_test(test_retention_by_bytes_never_protected),
	    cmocka_unit_test(test_json_escaping),
	    cmocka_unit_test(test_status_json_shape),
	    cmocka_unit_test(test_stage_suffix),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
