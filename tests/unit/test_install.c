/* test_install.c - install_plan/apply/undo/verify on a private temp root:
 * list format, revision replacement, file_exists_behavior, symlink safety,
 * permissions, undo of hostile and torn lists, crash recovery. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "appspec.h"
#include "buf.h"
#include "digest.h"
#include "exitcodes.h"
#include "fsutil.h"
#include "herr.h"
#include "install.h"
#include "instfs.h"
#include "instfx_util.h"
#include "instlist.h"
#include "log.h"
#include "tree_util.h"

/* ---- fixture: base/{tree,root,state} (instfx_util.h) ------------------ */

static int setup(void **state)
{
	return instfx_setup(state, "install", "state");
}

static int teardown(void **state)
{
	return instfx_teardown(state);
}

static struct appspec_permission *add_perm(struct fx *x, const char *object, const char *pattern, int mode,
                                           unsigned line)
{
	size_t i = x->a.n_permissions++;
	struct appspec_permission *p = &x->p[i];
	memset(p, 0, sizeof(*p));
	p->object = S(x, object);
	p->pattern = S(x, pattern);
	p->except = x->exc[i];
	p->mode = mode;
	p->type_mask = PERM_TYPE_FILE | PERM_TYPE_DIRECTORY;
	p->line = line;
	return p;
}

static void add_except(struct fx *x, struct appspec_permission *p, const char *glob)
{
	p->except[p->n_except++] = S(x, glob);
}

static void put_link(const char *dir, const char *rel, const char *target)
{
	char p[PATH_MAX];
	pathf(p, dir, rel);
	assert_int_equal(symlink(target, p), 0);
}

static void put_dir(const char *dir, const char *rel, mode_t mode)
{
	char p[PATH_MAX];
	struct herr e = {0};
	pathf(p, dir, rel);
	assert_int_equal(fs_mkdir_p(p, 0755, &e), 0);
	assert_int_equal(chmod(p, mode), 0);
}

static bool exists(const char *dir, const char *rel)
{
	return lst(dir, rel).st_mode != 0;
}

static unsigned mode_of(const char *dir, const char *rel)
{
	return (unsigned)(lst(dir, rel).st_mode & 07777);
}

static void sha_hex(const char *s, char hex[SHA256_HEX_LEN + 1])
{
	uint8_t d[SHA256_LEN];
	assert_int_equal(sha256_buf(s, strlen(s), d), 0);
	hex_encode(d, SHA256_LEN, hex);
}

/* ---- snapshot of a tree: every path, type, mode, owner, content ------- */

static struct buf *snap_buf;
static size_t snap_skip;

static int snap_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	char target[PATH_MAX] = "";
	char *content = NULL;
	(void)type;
	(void)ftw;
	if (S_ISLNK(st->st_mode)) {
		ssize_t n = readlink(path, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
	}
	if (S_ISREG(st->st_mode))
		content = slurp(path, "");
	buf_printf(snap_buf, "%s %o %u:%u %s|%s\n", path + snap_skip, (unsigned)st->st_mode,
	           (unsigned)st->st_uid, (unsigned)st->st_gid, target, content ? content : "");
	free(content);
	return 0;
}

/* The whole tree under dir as text (nftw order is stable for an unchanged tree). */
static char *snapshot(const char *dir)
{
	struct buf b;
	buf_init(&b, 1 << 22);
	snap_buf = &b;
	snap_skip = strlen(dir);
	assert_int_equal(nftw(dir, snap_one, 16, FTW_PHYS), 0);
	return buf_steal(&b);
}

static struct install_opts opts(struct fx *x, const char *prev, const char *next)
{
	struct install_opts o = {x->root, x->tree, &x->a, prev, next};
	return o;
}

/* plan + apply, both expected to succeed. */
static void install_ok(struct fx *x, const char *prev, const char *next)
{
	struct install_opts o = opts(x, prev, next);
	struct install_plan *pl = NULL;
	struct herr e = {0};
	int rc = install_plan(&o, &pl, &e);
	if (rc != 0)
		fail_msg("plan: %s", e.msg);
	rc = install_apply(pl, &e);
	install_plan_free(pl);
	if (rc != 0)
		fail_msg("apply: %s", e.msg);
}

/* plan expected to fail; returns the error. */
static struct herr plan_fails(struct fx *x, const char *prev, const char *next)
{
	struct install_opts o = opts(x, prev, next);
	struct install_plan *pl = NULL;
	struct herr e = {0};
	assert_int_equal(install_plan(&o, &pl, &e), -1);
	assert_null(pl);
	assert_int_not_equal(e.code, 0);
	return e;
}

/* The rev1 bundle: a directory with dotfile, nested dirs, link; and a single file. */
static void make_rev1(struct fx *x)
{
	put(x->tree, "app/index.html", "<h1>one</h1>\n", 0644);
	put(x->tree, "app/bin/run.sh", "#!/bin/sh\necho hi\n", 0755);
	put(x->tree, "app/.env", "SECRET=1\n", 0600);
	put(x->tree, "app/sub/deep/x.txt", "x\n", 0640);
	put_link(x->tree, "app/link", "index.html");
	put(x->tree, "conf.ini", "[a]\n", 04755); /* setuid is dropped */
	add_file(x, "app", "/var/app", 3);
	add_file(x, "conf.ini", "/etc/myapp", 5);
}

/* ---- tests -------------------------------------------------------------- */

static void test_first_install_list_exact(void **state)
{
	struct fx *x = *state;
	char h1[65], h2[65], h3[65], h4[65], h5[65];
	char want[8192];
	char *got;
	char *before;
	struct install_opts o;
	struct install_plan *pl = NULL;
	struct herr e = {0};

	make_rev1(x);
	/* install_plan touches nothing */
	before = snapshot(x->root);
	o = opts(x, NULL, x->list1);
	assert_int_equal(install_plan(&o, &pl, &e), 0);
	got = snapshot(x->root);
	assert_string_equal(before, got);
	free(got);
	assert_int_equal(fs_exists(x->list1), 0);
	assert_int_equal(install_apply(pl, &e), 0);
	install_plan_free(pl);

	sha_hex("SECRET=1\n", h1);
	sha_hex("#!/bin/sh\necho hi\n", h2);
	sha_hex("<h1>one</h1>\n", h3);
	sha_hex("x\n", h4);
	sha_hex("[a]\n", h5);
	snprintf(want, sizeof(want),
	         "D - 0755 /var\n"
	         "D - 0755 /var/app\n"
	         "F %s 0600 /var/app/.env\n"
	         "D - 0755 /var/app/bin\n"
	         "F %s 0755 /var/app/bin/run.sh\n"
	         "F %s 0644 /var/app/index.html\n"
	         "L - - /var/app/link\n"
	         "D - 0755 /var/app/sub\n"
	         "D - 0755 /var/app/sub/deep\n"
	         "F %s 0640 /var/app/sub/deep/x.txt\n"
	         "D - 0755 /etc\n"
	         "D - 0755 /etc/myapp\n"
	         "F %s 0755 /etc/myapp/conf.ini\n",
	         h1, h2, h3, h4, h5);
	got = slurp(x->list1, "");
	assert_string_equal(got, want);
	free(got);
	{
		/* the final list replaced the one written ahead through a rename */
		char tmp[PATH_MAX + 8];
		snprintf(tmp, sizeof(tmp), "%s.new", x->list1);
		assert_int_equal(fs_exists(tmp), 0);
	}

	got = slurp(x->root, "var/app/index.html");
	assert_string_equal(got, "<h1>one</h1>\n");
	free(got);
	got = slurp(x->root, "var/app/.env");
	assert_string_equal(got, "SECRET=1\n");
	free(got);
	assert_int_equal(mode_of(x->root, "var/app/.env"), 0600);
	assert_int_equal(mode_of(x->root, "var/app/bin/run.sh"), 0755);
	assert_int_equal(mode_of(x->root, "var/app/sub/deep/x.txt"), 0640);
	assert_int_equal(mode_of(x->root, "etc/myapp/conf.ini"), 0755);
	assert_int_equal(mode_of(x->root, "var/app/sub"), 0755);
	assert_true(S_ISLNK(lst(x->root, "var/app/link").st_mode));
	{
		char p[PATH_MAX], t[64] = "";
		pathf(p, x->root, "var/app/link");
		assert_int_equal(readlink(p, t, sizeof(t) - 1), 10);
		assert_string_equal(t, "index.html");
	}
	assert_int_equal(install_verify(x->list1, x->root, &e), 0);
	free(before);
}

static void test_second_revision_replaces_first(void **state)
{
	struct fx *x = *state;
	struct herr e = {0};
	char *got;
	make_rev1(x);
	install_ok(x, NULL, x->list1);

	/* rev2: a new tree, only the app directory */
	assert_int_equal(fs_rm_rf(x->tree, &e), 0);
	assert_int_equal(mkdir(x->tree, 0755), 0);
	put(x->tree, "app/index.html", "<h1>two</h1>\n", 0644);
	put(x->tree, "app/new.txt", "new\n", 0644);
	x->a.n_files = 1;
	install_ok(x, x->list1, x->list2);

	got = slurp(x->root, "var/app/index.html");
	assert_string_equal(got, "<h1>two</h1>\n");
	free(got);
	assert_true(exists(x->root, "var/app/new.txt"));
	assert_false(exists(x->root, "var/app/bin"));
	assert_false(exists(x->root, "var/app/.env"));
	assert_false(exists(x->root, "var/app/link"));
	assert_false(exists(x->root, "var/app/sub"));
	assert_false(exists(x->root, "etc")); /* rev1's created dirs removed when empty */
	assert_int_equal(install_verify(x->list2, x->root, &e), 0);
	/* ownership of /var and /var/app carries over to rev2 */
	got = slurp(x->list2, "");
	assert_has(got, "D - 0755 /var\nD - 0755 /var/app\n");
	free(got);
	/* undo of rev2 leaves the root empty */
	assert_int_equal(install_undo(x->list2, x->root, &e), 0);
	assert_false(exists(x->root, "var"));
}

static void test_disallow_lists_conflicts_and_touches_nothing(void **state)
{
	struct fx *x = *state;
	struct herr e;
	char *before, *after;
	make_rev1(x);
	put(x->root, "var/app/index.html", "foreign\n", 0600);
	put(x->root, "var/app/bin/run.sh", "foreign sh\n", 0700);
	put(x->root, "var/keep", "k\n", 0644);
	/* a previous list exists: planning must not undo it */
	put(x->root, "var/old.txt", "old\n", 0644);
	put(x->base, "state/rev0.list", "", 0644);
	{
		char p[PATH_MAX];
		FILE *f;
		pathf(p, x->base, "state/rev0.list");
		f = fopen(p, "w");
		assert_non_null(f);
		fprintf(f, "F %064d 0644 /var/old.txt\n", 0);
		fclose(f);
		before = snapshot(x->root);
		e = plan_fails(x, p, x->list1);
	}
	after = snapshot(x->root);
	assert_string_equal(before, after);
	assert_int_equal(fs_exists(x->list1), 0);
	assert_int_equal(e.code, HOIST_EXIT_FAILED);
	assert_has(e.msg, "2 files already exist (not installed by hoist's previous revision)");
	assert_has(e.msg, "/var/app/index.html");
	assert_has(e.msg, "/var/app/bin/run.sh");
	assert_has(e.msg, "set file_exists_behavior: OVERWRITE or RETAIN in appspec.yml");
	free(before);
	free(after);

	/* one conflict: the exact sentence */
	put(x->root, "var/app/bin/run.sh", "", 0700);
	{
		char p[PATH_MAX];
		pathf(p, x->root, "var/app/bin/run.sh");
		assert_int_equal(unlink(p), 0);
	}
	e = plan_fails(x, NULL, x->list1);
	assert_string_equal(e.msg, "file already exists at /var/app/index.html (not installed by "
	                           "hoist's previous revision); set file_exists_behavior: OVERWRITE or "
	                           "RETAIN in appspec.yml to allow this");
}

static void test_prev_revision_files_never_conflict(void **state)
{
	struct fx *x = *state;
	make_rev1(x);
	install_ok(x, NULL, x->list1);
	/* the same revision again: every existing file is the previous revision's */
	install_ok(x, x->list1, x->list2);
	assert_true(exists(x->root, "var/app/index.html"));
}

static void test_overwrite_and_retain(void **state)
{
	struct fx *x = *state;
	char *got;
	make_rev1(x);
	put(x->root, "var/app/index.html", "foreign\n", 0600);
	x->a.file_exists_behavior = FEB_OVERWRITE;
	install_ok(x, NULL, x->list1);
	got = slurp(x->root, "var/app/index.html");
	assert_string_equal(got, "<h1>one</h1>\n");
	free(got);
	got = slurp(x->list1, "");
	assert_has(got, " 0644 /var/app/index.html\n");
	free(got);

	/* RETAIN: a foreign file is kept and not recorded */
	put(x->root, "var/app/foreign-keep/a", "", 0644);
	put(x->root, "opt/x/conf.ini", "mine\n", 0600);
	x->a.file_exists_behavior = FEB_RETAIN;
	add_file(x, "conf.ini", "/opt/x", 7);
	install_ok(x, x->list1, x->list2);
	got = slurp(x->root, "opt/x/conf.ini");
	assert_string_equal(got, "mine\n");
	free(got);
	assert_int_equal(mode_of(x->root, "opt/x/conf.ini"), 0600);
	got = slurp(x->list2, "");
	assert_null(strstr(got, "/opt/x/conf.ini"));
	assert_has(got, "/var/app/index.html\n"); /* the previous revision's: replaced */
	free(got);
}

static void test_destination_symlink_is_replaced_not_followed(void **state)
{
	struct fx *x = *state;
	char sentinel[PATH_MAX];
	char *got;
	struct herr e;
	make_rev1(x);
	put(x->base, "sentinel", "SENTINEL\n", 0644);
	pathf(sentinel, x->base, "sentinel");
	put_dir(x->root, "var/app", 0755);
	put_link(x->root, "var/app/index.html", sentinel);
	/* DISALLOW: a foreign symlink is an existing file */
	e = plan_fails(x, NULL, x->list1);
	assert_has(e.msg, "file already exists at /var/app/index.html");
	x->a.file_exists_behavior = FEB_OVERWRITE;
	install_ok(x, NULL, x->list1);
	assert_true(S_ISREG(lst(x->root, "var/app/index.html").st_mode));
	got = slurp(x->root, "var/app/index.html");
	assert_string_equal(got, "<h1>one</h1>\n");
	free(got);
	got = slurp(sentinel, "");
	assert_string_equal(got, "SENTINEL\n");
	free(got);
}

static void test_bundle_symlink_to_directory_not_recursed(void **state)
{
	struct fx *x = *state;
	char *got;
	put(x->tree, "app/real/f.txt", "f\n", 0644);
	put_link(x->tree, "app/dirlink", "real");
	put_link(x->tree, "app/outside", "/etc");
	add_file(x, "app", "/srv", 2);
	install_ok(x, NULL, x->list1);
	assert_true(S_ISLNK(lst(x->root, "srv/dirlink").st_mode));
	assert_true(S_ISLNK(lst(x->root, "srv/outside").st_mode));
	got = slurp(x->list1, "");
	assert_has(got, "L - - /srv/dirlink\nL - - /srv/outside\n");
	assert_null(strstr(got, "/srv/dirlink/"));
	assert_null(strstr(got, "/srv/outside/"));
	free(got);
}

static void test_whole_bundle_and_bad_sources(void **state)
{
	struct fx *x = *state;
	struct herr e;
	char p[PATH_MAX];
	put(x->tree, "appspec.yml", "version: 0.0\n", 0644);
	put(x->tree, "a/b", "b\n", 0644);
	add_file(x, "", "/srv/all", 2); /* source: / is the whole bundle */
	install_ok(x, NULL, x->list1);
	assert_true(exists(x->root, "srv/all/appspec.yml"));
	assert_true(exists(x->root, "srv/all/a/b"));
	/* destination "/" */
	x->a.n_files = 0;
	add_file(x, "a", "/", 3);
	install_ok(x, x->list1, x->list2);
	assert_true(exists(x->root, "b"));
	assert_false(exists(x->root, "srv"));
	x->a.n_files = 0;
	add_file(x, "a/../../etc", "/srv", 4);
	e = plan_fails(x, NULL, x->list2);
	assert_int_equal(e.code, HOIST_EXIT_BAD_BUNDLE);
	assert_has(e.msg, "line 4: source a/../../etc leaves the bundle");
	pathf(p, x->tree, "a/fifo");
	assert_int_equal(mkfifo(p, 0644), 0);
	x->a.n_files = 0;
	add_file(x, "a", "/srv", 6);
	e = plan_fails(x, NULL, x->list2);
	assert_has(e.msg, "a/fifo is not a regular file, directory or symlink");
}

static void test_duplicate_targets(void **state)
{
	struct fx *x = *state;
	struct herr e;
	put(x->tree, "x", "file\n", 0644);
	put(x->tree, "d/x/inner", "i\n", 0644);
	add_file(x, "x", "/opt", 3);
	add_file(x, "x", "/opt", 4);
	e = plan_fails(x, NULL, x->list1);
	assert_int_equal(e.code, HOIST_EXIT_BAD_BUNDLE);
	assert_has(e.msg, "duplicate target /opt/x: installed by line 3 and by line 4");

	x->a.n_files = 0;
	add_file(x, "x", "/opt", 3);
	add_file(x, "d", "/opt", 6);
	e = plan_fails(x, NULL, x->list1);
	assert_has(e.msg, "duplicate target /opt/x: line 3 installs a file there and line 6 creates "
	                  "it as a directory");

	/* a destination of one entry is a file of another */
	x->a.n_files = 0;
	add_file(x, "x", "/opt", 3);
	add_file(x, "d/x/inner", "/opt/x", 8);
	e = plan_fails(x, NULL, x->list1);
	assert_has(e.msg, "duplicate target /opt/x");
	/* two entries sharing directories is fine */
	x->a.n_files = 0;
	add_file(x, "x", "/opt", 3);
	add_file(x, "d/x/inner", "/opt/y", 8);
	install_ok(x, NULL, x->list1);
	assert_true(exists(x->root, "opt/y/inner"));
}

static void test_type_clash_with_host(void **state)
{
	struct fx *x = *state;
	struct herr e;
	make_rev1(x);
	put_dir(x->root, "var/app/index.html", 0755);
	x->a.file_exists_behavior = FEB_OVERWRITE;
	e = plan_fails(x, NULL, x->list1);
	assert_has(e.msg, "a directory exists at /var/app/index.html where the bundle has a file");
	put(x->base, "root2/var/app/sub", "a file where a dir goes\n", 0644);
	pathf(x->root, x->base, "root2");
	e = plan_fails(x, NULL, x->list1);
	assert_has(e.msg, "/var/app/sub exists and is not a directory");
}

static void test_directory_becomes_file(void **state)
{
	struct fx *x = *state;
	struct herr e;
	char *got;
	put(x->tree, "app/config/a.conf", "a\n", 0644);
	add_file(x, "app", "/srv", 2);
	install_ok(x, NULL, x->list1);
	assert_int_equal(fs_rm_rf(x->tree, &e), 0);
	put(x->tree, "app/config", "now a file\n", 0644);
	/* a foreign file inside the old directory: undo cannot empty it */
	put(x->root, "srv/config/foreign", "f\n", 0644);
	e = plan_fails(x, x->list1, x->list2);
	assert_has(e.msg, "a directory exists at /srv/config where the bundle has a file");
	assert_true(exists(x->root, "srv/config/a.conf"));
	{
		char p[PATH_MAX];
		pathf(p, x->root, "srv/config/foreign");
		assert_int_equal(unlink(p), 0);
	}
	install_ok(x, x->list1, x->list2);
	got = slurp(x->root, "srv/config");
	assert_string_equal(got, "now a file\n");
	free(got);
}

static void test_symlinks_on_the_host(void **state)
{
	struct fx *x = *state;
	char outside[PATH_MAX];
	struct herr e;
	char *got;
	struct install_opts o;
	struct install_plan *pl = NULL;
	make_rev1(x);
	x->a.n_files = 1;
	/* a pre-existing ancestor symlink (/var -> data) is followed */
	put_dir(x->root, "data", 0755);
	put_link(x->root, "var", "data");
	install_ok(x, NULL, x->list1);
	assert_true(exists(x->root, "data/app/index.html"));
	got = slurp(x->list1, "");
	assert_null(strstr(got, "D - 0755 /var\n"));
	assert_has(got, "D - 0755 /var/app\n");
	free(got);
	assert_int_equal(install_undo(x->list1, x->root, &e), 0);
	assert_false(exists(x->root, "data/app"));
	assert_true(S_ISLNK(lst(x->root, "var").st_mode));

	/* a symlink inside the copied tree is refused at plan time */
	pathf(outside, x->base, "outside");
	put_dir(x->base, "outside", 0755);
	put_dir(x->root, "data/app", 0755);
	put_link(x->root, "data/app/sub", outside);
	e = plan_fails(x, NULL, x->list1);
	assert_has(e.msg, "/var/app/sub exists and is a symlink");

	/* planted after the plan: apply refuses to write through it */
	{
		char p[PATH_MAX];
		pathf(p, x->root, "data/app/sub");
		assert_int_equal(unlink(p), 0);
	}
	o = opts(x, NULL, x->list1);
	assert_int_equal(install_plan(&o, &pl, &e), 0);
	put_link(x->root, "data/app/sub", outside);
	assert_int_equal(install_apply(pl, &e), -1);
	install_plan_free(pl);
	assert_has(e.msg, "/var/app/sub");
	assert_false(exists(outside, "deep"));
	/* undo never follows a directory it created that became a symlink */
	{
		char p[PATH_MAX];
		pathf(p, x->root, "data/app/sub");
		assert_int_equal(unlink(p), 0);
		install_ok(x, x->list1, x->list2);
		assert_true(exists(x->root, "data/app/sub/deep/x.txt"));
		assert_int_equal(fs_rm_rf(p, &e), 0);
		put(x->base, "outside/deep/x.txt", "victim\n", 0644);
		put_link(x->root, "data/app/sub", outside);
	}
	assert_int_equal(install_undo(x->list2, x->root, &e), 0);
	assert_true(exists(outside, "deep/x.txt"));
	assert_true(S_ISLNK(lst(x->root, "data/app/sub").st_mode));
	assert_false(exists(x->root, "data/app/index.html"));
}

/* Tree for permission tests: /var/app/{a.sh,b.txt,sub/{c.sh,d.txt}}. */
static void make_perm_tree(struct fx *x)
{
	put(x->tree, "app/a.sh", "a\n", 0644);
	put(x->tree, "app/b.txt", "b\n", 0644);
	put(x->tree, "app/sub/c.sh", "c\n", 0644);
	put(x->tree, "app/sub/d.txt", "d\n", 0644);
	add_file(x, "app", "/var/app", 3);
}

static void test_perm_pattern_direct_children_only(void **state)
{
	struct fx *x = *state;
	char *got;
	make_perm_tree(x);
	add_perm(x, "/var/app", "*.sh", 0700, 10);
	install_ok(x, NULL, x->list1);
	assert_int_equal(mode_of(x->root, "var/app/a.sh"), 0700);
	assert_int_equal(mode_of(x->root, "var/app/sub/c.sh"), 0644);
	assert_int_equal(mode_of(x->root, "var/app/b.txt"), 0644);
	assert_int_equal(mode_of(x->root, "var/app/sub"), 0755);
	got = slurp(x->list1, "");
	assert_has(got, " 0700 /var/app/a.sh\n"); /* the list records the final mode */
	free(got);
}

static void test_perm_except_type_and_star_star(void **state)
{
	struct fx *x = *state;
	struct appspec_permission *p;
	make_perm_tree(x);
	put_dir(x->root, "var", 0711); /* pre-existing: never touched */
	p = add_perm(x, "/var/app", "**", 0640, 10);
	add_except(x, p, "b.txt");
	add_except(x, p, "*.txt"); /* only direct children: sub/d.txt still matches */
	p->type_mask = PERM_TYPE_FILE;
	p = add_perm(x, "/var", "**", 0750, 14);
	p->type_mask = PERM_TYPE_DIRECTORY;
	install_ok(x, NULL, x->list1);
	assert_int_equal(mode_of(x->root, "var/app/a.sh"), 0640);
	assert_int_equal(mode_of(x->root, "var/app/b.txt"), 0644);
	assert_int_equal(mode_of(x->root, "var/app/sub/c.sh"), 0640);
	assert_int_equal(mode_of(x->root, "var/app/sub/d.txt"), 0640);
	assert_int_equal(mode_of(x->root, "var/app"), 0750);
	assert_int_equal(mode_of(x->root, "var/app/sub"), 0750);
	assert_int_equal(mode_of(x->root, "var"), 0711); /* object itself and pre-existing */
}

static void test_perm_object_dir_itself_and_file_object(void **state)
{
	struct fx *x = *state;
	struct appspec_permission *p;
	struct herr e;
	make_perm_tree(x);
	p = add_perm(x, "/var/app/sub", "**", 0700, 10);
	p = add_perm(x, "/var/app/a.sh", "**", 0600, 12);
	install_ok(x, NULL, x->list1);
	assert_int_equal(mode_of(x->root, "var/app/sub"), 0755);
	assert_int_equal(mode_of(x->root, "var/app/sub/c.sh"), 0700);
	assert_int_equal(mode_of(x->root, "var/app/a.sh"), 0600);
	/* a file object needs pattern "**" */
	p->pattern = S(x, "*.sh");
	e = plan_fails(x, x->list1, x->list2);
	assert_int_equal(e.code, HOIST_EXIT_BAD_BUNDLE);
	assert_has(e.msg, "line 12: permissions object /var/app/a.sh is a file");
}

static void test_perm_overlap_is_a_plan_error(void **state)
{
	struct fx *x = *state;
	struct herr e;
	struct appspec_permission *p;
	make_perm_tree(x);
	add_perm(x, "/var/app", "*.sh", 0700, 10);
	p = add_perm(x, "/var/app", "**", 0600, 12);
	p->type_mask = PERM_TYPE_FILE;
	e = plan_fails(x, NULL, x->list1);
	assert_int_equal(e.code, HOIST_EXIT_BAD_BUNDLE);
	assert_string_equal(e.msg, "appspec.yml: permissions setting for /var/app/a.sh is specified "
	                           "more than once (lines 10 and 12)");
	assert_false(exists(x->root, "var"));
}

static void test_perm_owner_group(void **state)
{
	struct fx *x = *state;
	struct appspec_permission *p;
	struct herr e;
	struct stat st;
	make_perm_tree(x);
	p = add_perm(x, "/var/app", "*.sh", 04755, 10);
	p->owner = S(x, "no-such-user-hoist");
	e = plan_fails(x, NULL, x->list1);
	assert_has(e.msg, "appspec.yml line 10: permissions owner \"no-such-user-hoist\"");
	p->owner = NULL;
	p->group = S(x, "no-such-group-hoist");
	e = plan_fails(x, NULL, x->list1);
	assert_has(e.msg, "line 10: permissions group \"no-such-group-hoist\"");
	if (geteuid() != 0) {
		skip();
		return;
	}
	p->owner = S(x, "nobody");
	p->group = S(x, "nogroup");
	install_ok(x, NULL, x->list1);
	st = lst(x->root, "var/app/a.sh");
	assert_int_equal(st.st_uid, 65534);
	assert_int_equal(st.st_gid, 65534);
	/* chown cleared setuid; hoist re-applies the mode the appspec asked for */
	assert_int_equal(st.st_mode & 07777, 04755);
	st = lst(x->root, "var/app/b.txt");
	assert_int_equal(st.st_uid, 0);
}

static void test_undo_idempotent(void **state)
{
	struct fx *x = *state;
	struct herr e = {0};
	char *before, *after;
	make_rev1(x);
	put(x->root, "etc/hosts", "127.0.0.1 localhost\n", 0644);
	before = snapshot(x->root);
	install_ok(x, NULL, x->list1);
	assert_int_equal(install_undo(x->list1, x->root, &e), 0);
	after = snapshot(x->root);
	assert_string_equal(before, after);
	free(after);
	assert_int_equal(install_undo(x->list1, x->root, &e), 0);
	after = snapshot(x->root);
	assert_string_equal(before, after);
	free(after);
	free(before);
	/* a missing list is an empty one */
	assert_int_equal(install_undo(x->list2, x->root, &e), 0);
}

static void write_list(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_undo_torn_last_line(void **state)
{
	struct fx *x = *state;
	struct herr e = {0};
	put(x->root, "a", "a\n", 0644);
	put(x->root, "d/keep", "k\n", 0644);
	put(x->root, "e/f", "f\n", 0644);
	put(x->root, "torn", "t\n", 0644);
	write_list(x->list1, "F " INSTLIST_SHA_PENDING " 0644 /a\n"
	                     "D - 0755 /d\nD - 0755 /e\nF - 0644 /e/f\nF 00 06");
	/* "F - ..." is malformed: refused as a whole, nothing removed */
	assert_int_equal(install_undo(x->list1, x->root, &e), -1);
	assert_has(e.msg, "line 4: malformed entry");
	assert_true(exists(x->root, "a"));
	write_list(x->list1, "F " INSTLIST_SHA_PENDING " 0644 /a\n"
	                     "D - 0755 /d\nD - 0755 /e\nL - - /e/f\nF 0000 0644 /torn");
	assert_int_equal(install_undo(x->list1, x->root, &e), 0);
	assert_false(exists(x->root, "a"));
	assert_true(exists(x->root, "d/keep")); /* non-empty: skipped silently */
	assert_false(exists(x->root, "e"));
	assert_true(exists(x->root, "torn"));
}

static void test_undo_refuses_hostile_lists(void **state)
{
	struct fx *x = *state;
	struct herr e = {0};
	static const char *const bad[] = {
	    "L - - /etc/../../x\n", "L - - var/x\n", "D - 0755 /\n",   "L - - /var/./x\n", "L - - //x\n",
	    "L - - /x/\n",          "X - - /x\n",    "F zz 0644 /x\n", "D - 9999 /x\n",
	};
	put(x->root, "x", "x\n", 0644);
	put(x->base, "victim", "v\n", 0644);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[256];
		snprintf(text, sizeof(text), "L - - /x\n%s", bad[i]);
		write_list(x->list1, text);
		memset(&e, 0, sizeof(e));
		assert_int_equal(install_undo(x->list1, x->root, &e), -1);
		assert_int_equal(e.code, HOIST_EXIT_FAILED);
		assert_has(e.msg, "line 2");
		assert_has(e.msg, "list refused");
		assert_true(exists(x->root, "x"));
	}
	assert_true(exists(x->base, "victim"));
}

static void test_verify_detects_changes(void **state)
{
	struct fx *x = *state;
	struct herr e = {0};
	make_rev1(x);
	install_ok(x, NULL, x->list1);
	assert_int_equal(install_verify(x->list1, x->root, &e), 0);
	put(x->root, "var/app/index.html", "<h1>defaced</h1>\n", 0644);
	assert_int_equal(install_verify(x->list1, x->root, &e), -1);
	assert_int_equal(e.code, HOIST_EXIT_FAILED);
	assert_has(e.msg, "1 of 5 installed files differ");
	assert_has(e.msg, "/var/app/index.html: sha256");
	{
		char p[PATH_MAX];
		pathf(p, x->root, "var/app/.env");
		assert_int_equal(unlink(p), 0);
	}
	assert_int_equal(install_verify(x->list1, x->root, &e), -1);
	assert_has(e.msg, "2 of 5 installed files differ");
	assert_has(e.msg, "first: /var/app/.env: missing");
}

static void test_dir_disappeared_since_plan_is_recorded(void **state)
{
	struct fx *x = *state;
	struct install_opts o;
	struct install_plan *pl = NULL;
	struct herr e = {0};
	char p[PATH_MAX];
	char *list;
	make_rev1(x);
	put_dir(x->root, "var", 0755); /* the host's, not ours: not in the list written ahead */
	o = opts(x, NULL, x->list1);
	assert_int_equal(install_plan(&o, &pl, &e), 0);
	pathf(p, x->root, "var");
	assert_int_equal(rmdir(p), 0);
	assert_int_equal(install_apply(pl, &e), 0);
	install_plan_free(pl);
	list = slurp(x->list1, "");
	/* recorded once, in plan order, as created by this revision */
	assert_true(strncmp(list, "D - 0755 /var\nD - 0755 /var/app\n", 30) == 0);
	assert_null(strstr(list + 1, "D - 0755 /var\n"));
	assert_null(strstr(list, INSTLIST_SHA_PENDING));
	free(list);
	assert_int_equal(install_verify(x->list1, x->root, &e), 0);
	assert_int_equal(install_undo(x->list1, x->root, &e), 0);
	assert_false(exists(x->root, "var"));
}

static void test_installed_copy_independent_of_tree(void **state)
{
	struct fx *x = *state;
	struct herr e = {0};
	char p[PATH_MAX];
	char h[65];
	char *got;
	FILE *f;
	/* large enough to span several extents when cloned */
	char *big = malloc(300001);
	assert_non_null(big);
	for (size_t i = 0; i < 300000; i++)
		big[i] = (char)('a' + (i * 7) % 26);
	big[300000] = '\0';
	put(x->tree, "app/big.txt", big, 0644);
	add_file(x, "app", "/srv/app", 3);
	install_ok(x, NULL, x->list1);
	sha_hex(big, h);
	got = slurp(x->list1, "");
	assert_has(got, h);
	free(got);
	/* a hook editing the installed file must not change the kept tree */
	pathf(p, x->root, "srv/app/big.txt");
	f = fopen(p, "r+");
	assert_non_null(f);
	assert_int_equal(fputs("EDITED", f) >= 0, 1);
	fclose(f);
	got = slurp(x->tree, "app/big.txt");
	assert_string_equal(got, big);
	free(got);
	assert_true(lst(x->tree, "app/big.txt").st_ino != lst(x->root, "srv/app/big.txt").st_ino);
	assert_int_equal(install_verify(x->list1, x->root, &e), -1);
	assert_has(e.msg, "/srv/app/big.txt: sha256");
	free(big);
}

static void test_many_files_synced_per_file_system(void **state)
{
	struct fx *x = *state;
	struct herr e = {0};
	char rel[64];
	char *list;
	size_t n_f = 0;
	/* more fds than install keeps for fsync: the syncfs path */
	for (int i = 0; i < 300; i++) {
		snprintf(rel, sizeof(rel), "many/d%d/f%03d", i % 3, i);
		put(x->tree, rel, rel, 0644);
	}
	add_file(x, "many", "/srv/many", 3);
	install_ok(x, NULL, x->list1);
	list = slurp(x->list1, "");
	assert_null(strstr(list, INSTLIST_SHA_PENDING));
	for (const char *p = list; (p = strstr(p, "\nF ")) != NULL; p++)
		n_f++;
	assert_int_equal(n_f, 300);
	assert_has(list, "D - 0755 /srv/many/d2\n");
	free(list);
	assert_true(exists(x->root, "srv/many/d1/f298"));
	assert_int_equal(install_verify(x->list1, x->root, &e), 0);
	assert_int_equal(install_undo(x->list1, x->root, &e), 0);
	assert_false(exists(x->root, "srv"));
}

static void test_crash_mid_apply_undo_restores(void **state)
{
	struct fx *x = *state;
	struct install_opts o;
	struct install_plan *pl = NULL;
	struct herr e = {0};
	char *before, *after, *list;
	char src[PATH_MAX];
	make_rev1(x);
	put(x->root, "etc/hosts", "127.0.0.1 localhost\n", 0644);
	before = snapshot(x->root);
	o = opts(x, NULL, x->list1);
	assert_int_equal(install_plan(&o, &pl, &e), 0);
	/* fault half-way: a source turned into a directory after the plan */
	pathf(src, x->tree, "app/index.html");
	assert_int_equal(unlink(src), 0);
	assert_int_equal(mkdir(src, 0755), 0);
	assert_int_equal(install_apply(pl, &e), -1);
	install_plan_free(pl);
	assert_has(e.msg, "index.html");
	/* the list written ahead is a superset of what was written: every path of
	 * the plan, shas pending (the list is finalised only after the bulk sync) */
	list = slurp(x->list1, "");
	assert_true(exists(x->root, "var/app/bin/run.sh"));
	assert_has(list, "D - 0755 /var/app\n");
	assert_has(list, "F " INSTLIST_SHA_PENDING " 0755 /var/app/bin/run.sh\n");
	assert_has(list, "F " INSTLIST_SHA_PENDING " 0644 /var/app/index.html\n");
	assert_false(exists(x->root, "var/app/index.html"));
	/* named ahead though never written */
	assert_has(list, "L - - /var/app/link\n");
	assert_has(list, "F " INSTLIST_SHA_PENDING " 0755 /etc/myapp/conf.ini\n");
	assert_false(exists(x->root, "var/app/link"));
	assert_false(exists(x->root, "etc/myapp"));
	assert_false(exists(x->root, "var/app/sub"));
	free(list);
	assert_int_equal(install_verify(x->list1, x->root, &e), -1);
	assert_has(e.msg, "never finished");
	/* a crash during a copy: a pending line and its temporary file */
	{
		char tmp[NAME_MAX + 1];
		char rel[PATH_MAX];
		FILE *f = fopen(x->list1, "a");
		assert_non_null(f);
		fputs("F " INSTLIST_SHA_PENDING " 0644 /var/app/zz\n", f);
		fclose(f);
		instfs_tmp_name("zz", tmp);
		snprintf(rel, sizeof(rel), "var/app/%s", tmp);
		put(x->root, rel, "half", 0600);
		assert_int_equal(install_verify(x->list1, x->root, &e), -1);
		assert_has(e.msg, "never finished");
	}
	assert_int_equal(install_undo(x->list1, x->root, &e), 0);
	after = snapshot(x->root);
	assert_string_equal(before, after);
	free(before);
	free(after);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_first_install_list_exact, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_second_revision_replaces_first, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_disallow_lists_conflicts_and_touches_nothing, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_prev_revision_files_never_conflict, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_overwrite_and_retain, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_destination_symlink_is_replaced_not_followed, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_bundle_symlink_to_directory_not_recursed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_whole_bundle_and_bad_sources, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_duplicate_targets, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_type_clash_with_host, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_directory_becomes_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_symlinks_on_the_host, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_perm_pattern_direct_children_only, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_perm_except_type_and_star_star, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_perm_object_dir_itself_and_file_object, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_perm_overlap_is_a_plan_error, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_perm_owner_group, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_undo_idempotent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_undo_torn_last_line, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_undo_refuses_hostile_lists, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_verify_detects_changes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dir_disappeared_since_plan_is_recorded, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_installed_copy_independent_of_tree, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_many_files_synced_per_file_system, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_crash_mid_apply_undo_restores, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
