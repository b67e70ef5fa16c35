/* test_preflight.c - the checks a deployment makes on its plan before it
 * touches the host (preflight_plan after install_plan), on a private root:
 * runas users, the policy's path rules (also through host symlinks), modes,
 * free space; and bundle paths escaped in every plan message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "appspec.h"
#include "exitcodes.h"
#include "fsutil.h"
#include "herr.h"
#include "install.h"
#include "log.h"
#include "policy.h"
#include "preflight.h"
#include "tree_util.h"

struct fx {
	char base[64], tree[PATH_MAX], root[PATH_MAX], list[PATH_MAX];
	struct appspec a;
	struct appspec_file f[4];
	struct appspec_permission p[4];
	struct appspec_hook h[1];
	struct appspec_script s[2];
	struct policy pol;
	const struct appspec *prev; /* the installed revision's appspec, or NULL */
};

static int setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));
	assert_non_null(x);
	snprintf(x->base, sizeof(x->base), "/tmp/hoist-test-preflight.XXXXXX");
	assert_non_null(mkdtemp(x->base));
	snprintf(x->tree, sizeof(x->tree), "%s/tree", x->base);
	snprintf(x->root, sizeof(x->root), "%s/root", x->base);
	snprintf(x->list, sizeof(x->list), "%s/new.list", x->base);
	assert_int_equal(mkdir(x->tree, 0755), 0);
	assert_int_equal(mkdir(x->root, 0755), 0);
	x->a.filename = (char *)(uintptr_t) "appspec.yml";
	x->a.files = x->f;
	x->a.permissions = x->p;
	x->a.hooks = x->h;
	assert_int_equal(policy_init(&x->pol, "/etc/hoist/policy.conf"), 0);
	log_set_stderr(0);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;
	struct herr e = {0};
	(void)fs_rm_rf(x->base, &e);
	policy_free(&x->pol);
	free(x);
	return 0;
}

static void add_file(struct fx *x, const char *src, const char *dst, unsigned line)
{
	struct appspec_file *f = &x->f[x->a.n_files++];
	f->source = (char *)(uintptr_t)src;
	f->destination = (char *)(uintptr_t)dst;
	f->line = line;
}

static void add_hook(struct fx *x, const char *runas, unsigned line)
{
	x->h[0].event = (char *)(uintptr_t) "ApplicationStart";
	x->h[0].scripts = x->s;
	x->s[x->h[0].n_scripts].location = (char *)(uintptr_t) "start.sh";
	x->s[x->h[0].n_scripts].runas = (char *)(uintptr_t)runas;
	x->s[x->h[0].n_scripts].line = line;
	x->h[0].n_scripts++;
	x->a.n_hooks = 1;
}

static void use_policy(struct fx *x, const char *text)
{
	struct herr e = {0};
	assert_int_equal(policy_parse(&x->pol, text, strlen(text), &e), 0);
}

/* install_plan + preflight_plan; returns err (code 0 when both passed). */
static struct herr check(struct fx *x)
{
	struct install_opts o = {.root = x->root, .tree = x->tree, .spec = &x->a, .new_list = x->list};
	struct install_plan *pl = NULL;
	struct herr e = {0};
	if (install_plan(&o, &pl, &e) == 0)
		(void)preflight_plan(&x->pol, &x->a, x->prev, pl, NULL, &e);
	install_plan_free(pl);
	return e;
}

static void expect(struct fx *x, int code, const char *frag1, const char *frag2)
{
	struct herr e = check(x);
	if (e.code != code || strstr(e.msg, frag1) == NULL || (frag2 != NULL && strstr(e.msg, frag2) == NULL))
		fail_msg("code %d msg '%s'; expected %d with '%s' and '%s'", e.code, e.msg, code, frag1,
		         frag2 ? frag2 : "");
	assert_null(strchr(e.msg, '\n'));
}

static void test_ok_plan_passes(void **state)
{
	struct fx *x = *state;
	put(x->tree, "app/run", "x", 0755);
	add_file(x, "app", "/srv/app", 3);
	add_hook(x, NULL, 9);
	expect(x, 0, "", NULL);
}

/* issue 9 item 7: an unknown runas user is found before anything changes */
static void test_runas_unknown_and_not_allowed(void **state)
{
	struct fx *x = *state;
	put(x->tree, "app/run", "x", 0755);
	add_file(x, "app", "/srv/app", 3);
	add_hook(x, "hoist-no-such-user", 12);
	expect(x, HOIST_EXIT_FAILED, "appspec.yml line 12: hooks.ApplicationStart: runas user",
	       "\"hoist-no-such-user\" is not a user on this host");
	x->s[0].runas = (char *)(uintptr_t) "nobody";
	expect(x, 0, "", NULL);
	use_policy(x, "allow_runas = app\n");
	expect(x, HOIST_EXIT_POLICY, "policy: rule allow_runas (/etc/hoist/policy.conf:1) refuses runas \"nobody\"",
	       "appspec.yml line 12");
	x->s[0].runas = NULL; /* root: refused too when the list does not name it */
	expect(x, HOIST_EXIT_POLICY, "refuses runas \"root\"", NULL);
}

/* The installed revision's scripts that run before Install are checked too;
 * its later ones never run again (issue 9 item 7, the class). */
static void test_runas_of_installed_revision(void **state)
{
	struct fx *x = *state;
	struct appspec prev = {0};
	struct appspec_hook h[2] = {{0}};
	struct appspec_script s[2] = {{0}};
	put(x->tree, "app/run", "x", 0755);
	add_file(x, "app", "/srv/app", 3);
	prev.hooks = h;
	prev.n_hooks = 1;
	h[0].event = (char *)(uintptr_t) "AfterInstall";
	h[0].scripts = &s[0];
	h[0].n_scripts = 1;
	s[0].location = (char *)(uintptr_t) "after.sh";
	s[0].runas = (char *)(uintptr_t) "hoist-gone-user";
	s[0].line = 30;
	x->prev = &prev;
	expect(x, 0, "", NULL);
	h[1].event = (char *)(uintptr_t) "ApplicationStop";
	h[1].scripts = &s[1];
	h[1].n_scripts = 1;
	s[1].location = (char *)(uintptr_t) "stop.sh";
	s[1].runas = (char *)(uintptr_t) "hoist-gone-user";
	s[1].line = 21;
	prev.n_hooks = 2;
	expect(x, HOIST_EXIT_FAILED,
	       "the installed revision's appspec.yml line 21: hooks.ApplicationStop: runas user \"hoist-gone-user\" "
	       "is not a user on this host (its scripts run before Install; --ignore-stop-failures skips them)",
	       NULL);
	x->prev = NULL; /* --ignore-stop-failures: deploy passes no installed appspec */
	expect(x, 0, "", NULL);
}

static void test_default_deny_list(void **state)
{
	struct fx *x = *state;
	put(x->tree, "etc/shadow", "root::0:0:99999:7:::\n", 0640);
	put(x->tree, "etc/app.conf", "x", 0644);
	add_file(x, "etc", "/etc", 4);
	expect(x, HOIST_EXIT_POLICY, "policy: rule deny_path /etc/shadow (built-in default deny list",
	       "refuses /etc/shadow (appspec.yml line 4)");
	use_policy(x, "# an image that really wants it\ndefault_deny = false\n");
	expect(x, 0, "", NULL);
}

static void test_policy_deny_and_allow(void **state)
{
	struct fx *x = *state;
	put(x->tree, "bin/tool", "x", 0755);
	add_file(x, "bin", "/usr/local/bin", 2);
	use_policy(x, "allow_path = /srv\nallow_path = /opt\n");
	expect(x, HOIST_EXIT_POLICY, "policy: rule allow_path (/etc/hoist/policy.conf:1) refuses /usr",
	       "no allow_path pattern matches it");
	x->f[0].destination = (char *)(uintptr_t) "/opt/tool";
	expect(x, 0, "", NULL);
	use_policy(x, "deny_path = /opt/*/bin\n");
	x->f[0].destination = (char *)(uintptr_t) "/opt/x/bin";
	expect(x, HOIST_EXIT_POLICY, "rule deny_path /opt/*/bin (/etc/hoist/policy.conf:1) refuses /opt/x/bin",
	       NULL);
}

/* A host symlink in a destination path is followed by Install: the rules see where it lands. */
static void test_deny_through_host_symlink(void **state)
{
	struct fx *x = *state;
	char p[PATH_MAX + 32], t[PATH_MAX + 32];
	put(x->tree, "cfg/sudoers", "ALL ALL=(ALL) NOPASSWD: ALL\n", 0440);
	snprintf(p, sizeof(p), "%s/etc", x->root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/opt", x->root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/opt/conf", x->root);
	snprintf(t, sizeof(t), "%s/etc", x->root);
	assert_int_equal(symlink(t, p), 0);
	add_file(x, "cfg", "/opt/conf", 6);
	expect(x, HOIST_EXIT_POLICY, "refuses /opt/conf/sudoers, which resolves to /etc/sudoers",
	       "built-in default deny list");
	/* the last component is replaced, never written through: a link there is no refusal */
	assert_int_equal(unlink(p), 0);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/opt/conf/sudoers", x->root);
	snprintf(t, sizeof(t), "%s/etc/sudoers", x->root);
	assert_int_equal(symlink(t, p), 0);
	x->a.file_exists_behavior = FEB_OVERWRITE;
	expect(x, 0, "", NULL);
}

/* issue 9: a bundle's 0666 file was installed 0666; setuid by permissions too */
static void test_modes(void **state)
{
	struct fx *x = *state;
	struct appspec_permission *p = &x->p[0];
	put(x->tree, "app/data", "x", 0666);
	put(x->tree, "app/ping", "x", 0755);
	add_file(x, "app", "/srv/app", 2);
	expect(x, HOIST_EXIT_POLICY, "rule allow_world_writable (default: refused unless allow_world_writable",
	       "world-writable mode 0666 for /srv/app/data (appspec.yml line 2)");
	use_policy(x, "allow_world_writable = /srv/app/data\n");
	expect(x, 0, "", NULL);
	memset(p, 0, sizeof(*p));
	p->object = (char *)(uintptr_t) "/srv/app";
	p->pattern = (char *)(uintptr_t) "ping";
	p->mode = 04755;
	p->type_mask = PERM_TYPE_FILE;
	p->line = 7;
	x->a.n_permissions = 1;
	expect(x, HOIST_EXIT_POLICY, "refuses setuid mode 4755 for /srv/app/ping (appspec.yml line 7)", NULL);
	use_policy(x, "allow_setid = /srv/app/ping\n");
	expect(x, 0, "", NULL);
	p->mode = 0777;
	p->pattern = (char *)(uintptr_t) "**";
	expect(x, HOIST_EXIT_POLICY, "world-writable mode 0777 for /srv/app", NULL);
}

static void test_free_space(void **state)
{
	struct fx *x = *state;
	put(x->tree, "app/big", "x", 0644);
	add_file(x, "app", "/srv/app", 2);
	use_policy(x, "min_free_bytes = 1048576G\n");
	expect(x, HOIST_EXIT_IO, "not enough free space on the file system of", "min_free_bytes (1125899906842624,"
	       " /etc/hoist/policy.conf:1)");
}

/* A sparse file counts the blocks a copy of it can take, not its size: one
 * larger than the whole free space passes when its data fits. */
static void test_free_space_counts_sparse_data(void **state)
{
	struct fx *x = *state;
	struct statvfs v;
	struct herr e;
	off_t size;
	assert_int_equal(statvfs(x->root, &v), 0);
	size = (off_t)((uint64_t)v.f_bavail * v.f_frsize + ((uint64_t)1 << 30));
	if (put_sparse(x->tree, "app/disk.img", size, size / 2, "MARK") != 0)
		skip(); /* no holes on this file system */
	add_file(x, "app", "/srv/app", 2);
	e = check(x);
	if (e.code != 0)
		fail_msg("a %lld-byte sparse file with 4 bytes of data was refused: %s", (long long)size, e.msg);
}

/* issue 9 item 9: a name with a newline never reaches a message raw */
static void test_names_escaped(void **state)
{
	struct fx *x = *state;
	put(x->tree, "app/a\nb\x1b[31m", "x", 0644);
	add_file(x, "app", "/srv/app", 2);
	expect(x, HOIST_EXIT_BAD_BUNDLE, "/srv/app/a\\x0ab\\x1b[31m", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_ok_plan_passes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_runas_unknown_and_not_allowed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_runas_of_installed_revision, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_default_deny_list, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_policy_deny_and_allow, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_deny_through_host_symlink, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_modes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_free_space, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_free_space_counts_sparse_data, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_names_escaped, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
