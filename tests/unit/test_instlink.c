/* test_instlink.c - the linked install (instlink.c and install_apply with
 * install_plan_set_links): which files become hard links to the revision
 * tree, which are still copied, and that undo and a crash at any point of a
 * linked install leave the host as it was and the kept tree whole. */
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
#include <sys/xattr.h>
#include <unistd.h>

#include "appspec.h"
#include "buf.h"
#include "digest.h"
#include "fsutil.h"
#include "herr.h"
#include "install.h"
#include "instfs.h"
#include "instfx_util.h"
#include "instlink.h"
#include "instlist.h"
#include "kepttree.h"
#include "log.h"
#include "tree_util.h"

static int setup(void **state)
{
	return instfx_setup(state, "instlink", NULL);
}

static int teardown(void **state)
{
	return instfx_teardown(state);
}

static bool same_inode(const struct fx *x, const char *tree_rel, const char *root_rel)
{
	struct stat a = lst(x->tree, tree_rel), b = lst(x->root, root_rel);
	return a.st_mode != 0 && b.st_mode != 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

static struct install_plan *plan_links(struct fx *x, const char *prev, const char *next)
{
	struct install_opts o = {x->root, x->tree, &x->a, prev, next};
	struct install_plan *pl = NULL;
	struct herr e = {0};
	if (install_plan(&o, &pl, &e) != 0)
		fail_msg("plan: %s", e.msg);
	install_plan_set_links(pl, true, &x->a);
	install_plan_record_tree(pl, true);
	return pl;
}

static void install_links_ok(struct fx *x, const char *prev, const char *next)
{
	struct install_plan *pl = plan_links(x, prev, next);
	struct herr e = {0};
	int rc = install_apply(pl, &e);
	install_plan_free(pl);
	if (rc != 0)
		fail_msg("apply: %s", e.msg);
}

/* ---- the pure rule -------------------------------------------------------- */

static void test_eligible_rule(void **state)
{
	struct stat st;
	(void)state;
	memset(&st, 0, sizeof(st));
	st.st_mode = S_IFREG | 0644;
	st.st_nlink = 1;
	st.st_uid = 0;
	assert_true(instlink_eligible(&st, 0644, false, 0));
	assert_true(instlink_eligible(&st, 0644, false, 0));
	/* a permissions rule would chown/chmod the kept tree too */
	assert_false(instlink_eligible(&st, 0644, true, 0));
	/* a mode change (setuid dropped, a different final mode) */
	assert_false(instlink_eligible(&st, 0755, false, 0));
	/* owned by someone else: they could change the kept tree */
	assert_false(instlink_eligible(&st, 0644, false, 1000));
	/* group or others may write it: they could change the kept tree */
	st.st_mode = S_IFREG | 0664;
	assert_false(instlink_eligible(&st, 0664, false, 0));
	st.st_mode = S_IFREG | 0646;
	assert_false(instlink_eligible(&st, 0646, false, 0));
	/* already installed elsewhere (one inode, two destinations) */
	st.st_mode = S_IFREG | 0755;
	st.st_nlink = 2;
	assert_false(instlink_eligible(&st, 0755, false, 0));
	st.st_nlink = 1;
	assert_true(instlink_eligible(&st, 0755, false, 0));
	st.st_mode = S_IFLNK | 0777;
	assert_false(instlink_eligible(&st, 0777, false, 0));
}

/* ---- install_apply with links ---------------------------------------------- */

static void test_linked_install_shares_inode_and_undo_keeps_tree(void **state)
{
	struct fx *x = *state;
	struct herr e = {0};
	char h[SHA256_HEX_LEN + 1];
	uint8_t d[SHA256_LEN];
	char *list, *got;
	put(x->tree, "app/index.html", "<h1>one</h1>\n", 0644);
	put(x->tree, "app/bin/run.sh", "#!/bin/sh\necho hi\n", 0755);
	put(x->tree, "app/shared.txt", "group may write\n", 0664);
	add_file(x, "app", "/srv/app", 3);
	install_links_ok(x, NULL, x->list1);
	assert_true(same_inode(x, "app/index.html", "srv/app/index.html"));
	assert_true(same_inode(x, "app/bin/run.sh", "srv/app/bin/run.sh"));
	/* group-writable: copied, a write through it never reaches the tree */
	assert_false(same_inode(x, "app/shared.txt", "srv/app/shared.txt"));
	got = slurp(x->root, "srv/app/shared.txt");
	assert_string_equal(got, "group may write\n");
	free(got);
	assert_int_equal(lst(x->root, "srv/app/bin/run.sh").st_mode & 07777, 0755);
	/* the list records the real sha256 of a linked file, as of a copy */
	assert_int_equal(sha256_buf("<h1>one</h1>\n", 13, d), 0);
	hex_encode(d, SHA256_LEN, h);
	list = slurp(x->list1, NULL);
	assert_has(list, h);
	assert_null(strstr(list, INSTLIST_SHA_PENDING));
	free(list);
	assert_int_equal(install_verify(x->list1, x->root, &e), 0);
	/* undo removes the installed names; the tree keeps every file, one name each */
	assert_int_equal(install_undo(x->list1, x->root, &e), 0);
	assert_false(lst(x->root, "srv").st_mode != 0);
	assert_int_equal(lst(x->tree, "app/index.html").st_nlink, 1);
	got = slurp(x->tree, "app/index.html");
	assert_string_equal(got, "<h1>one</h1>\n");
	free(got);
	/* installed again (a rollback to this tree): linked again */
	install_links_ok(x, NULL, x->list2);
	assert_true(same_inode(x, "app/index.html", "srv/app/index.html"));
	/* replacing the revision by itself (redeploy): undo, then link again */
	install_links_ok(x, x->list2, x->list1);
	assert_true(same_inode(x, "app/index.html", "srv/app/index.html"));
	assert_int_equal(install_verify(x->list1, x->root, &e), 0);
}

static void test_rule_or_second_destination_copies(void **state)
{
	struct fx *x = *state;
	struct appspec_permission *p = &x->p[0];
	put(x->tree, "a/conf", "k=v\n", 0644);
	put(x->tree, "b/data", "d\n", 0644);
	add_file(x, "a/conf", "/etc/one", 3);
	add_file(x, "a/conf", "/etc/two", 3);
	add_file(x, "b", "/srv/b", 3);
	/* a permissions mode reaches /srv/b: the tree must not change mode */
	memset(p, 0, sizeof(*p));
	p->object = S(x, "/srv/b");
	p->except = x->exc[0];
	p->mode = 0600;
	p->type_mask = PERM_TYPE_FILE;
	p->line = 9;
	x->a.n_permissions = 1;
	install_links_ok(x, NULL, x->list1);
	/* the first destination links, the second copies (one inode, one host name) */
	assert_true(same_inode(x, "a/conf", "etc/one/conf") != same_inode(x, "a/conf", "etc/two/conf"));
	assert_false(same_inode(x, "b/data", "srv/b/data"));
	assert_int_equal(lst(x->root, "srv/b/data").st_mode & 07777, 0600);
	assert_int_equal(lst(x->tree, "b/data").st_mode & 07777, 0644);
}

/* A fault half-way through a linked install (a later source is no longer a
 * file): the list written ahead lets undo restore the host, and the tree keeps
 * every file with one name. */
static void test_fault_mid_linked_apply_undo_restores(void **state)
{
	struct fx *x = *state;
	struct install_plan *pl;
	struct herr e = {0};
	char src[PATH_MAX];
	char *list;
	put(x->tree, "app/a.txt", "a\n", 0644);
	put(x->tree, "app/b.txt", "b\n", 0644);
	put(x->tree, "app/c.txt", "c\n", 0644);
	put(x->root, "etc/hosts", "127.0.0.1 localhost\n", 0644);
	add_file(x, "app", "/srv/app", 3);
	pl = plan_links(x, NULL, x->list1);
	pathf(src, x->tree, "app/b.txt");
	assert_int_equal(unlink(src), 0);
	assert_int_equal(mkdir(src, 0755), 0);
	assert_int_equal(install_apply(pl, &e), -1);
	install_plan_free(pl);
	assert_true(same_inode(x, "app/a.txt", "srv/app/a.txt"));
	list = slurp(x->list1, NULL);
	assert_has(list, "F " INSTLIST_SHA_PENDING " 0644 /srv/app/c.txt\n");
	free(list);
	assert_int_equal(install_undo(x->list1, x->root, &e), 0);
	assert_false(lst(x->root, "srv").st_mode != 0);
	assert_true(lst(x->root, "etc/hosts").st_mode != 0);
	assert_int_equal(lst(x->tree, "app/a.txt").st_nlink, 1);
	assert_int_equal(lst(x->tree, "app/c.txt").st_nlink, 1);
}

/* A crash between the link and the rename leaves the tree's inode under the
 * destination's temporary name: undo removes that name, never the tree's. */
static void test_crash_between_link_and_rename(void **state)
{
	struct fx *x = *state;
	struct herr e = {0};
	char tmp[NAME_MAX + 1], rel[PATH_MAX], from[PATH_MAX], to[PATH_MAX];
	char *got;
	FILE *f;
	put(x->tree, "app/a.txt", "a\n", 0644);
	put(x->root, "srv/app/keep", "host's own\n", 0644);
	instfs_tmp_name("a.txt", tmp);
	snprintf(rel, sizeof(rel), "srv/app/%s", tmp);
	pathf(from, x->tree, "app/a.txt");
	pathf(to, x->root, rel);
	assert_int_equal(link(from, to), 0);
	f = fopen(x->list1, "w");
	assert_non_null(f);
	fputs("F " INSTLIST_SHA_PENDING " 0644 /srv/app/a.txt\n", f);
	fclose(f);
	assert_int_equal(install_verify(x->list1, x->root, &e), -1);
	assert_int_equal(install_undo(x->list1, x->root, &e), 0);
	assert_false(lst(x->root, rel).st_mode != 0);
	assert_true(lst(x->root, "srv/app/keep").st_mode != 0);
	assert_int_equal(lst(x->tree, "app/a.txt").st_nlink, 1);
	got = slurp(x->tree, "app/a.txt");
	assert_string_equal(got, "a\n");
	free(got);
}

/* Without install_plan_set_links nothing is linked (query's preflight, the
 * `install_links = false` setting). */
static void test_links_off_copies(void **state)
{
	struct fx *x = *state;
	struct install_opts o = {x->root, x->tree, &x->a, NULL, x->list1};
	struct install_plan *pl = NULL;
	struct herr e = {0};
	put(x->tree, "app/a.txt", "a\n", 0644);
	add_file(x, "app", "/srv/app", 3);
	assert_int_equal(install_plan(&o, &pl, &e), 0);
	assert_int_equal(install_apply(pl, &e), 0);
	install_plan_free(pl);
	assert_false(same_inode(x, "app/a.txt", "srv/app/a.txt"));
}

/* A copy keeps a sparse file's holes (instfs_copy leaves a chunk of zeros
 * unwritten), with the size, the data and the digest of the tree's file. */
static void test_copy_keeps_holes(void **state)
{
	struct fx *x = *state;
	struct install_opts o = {x->root, x->tree, &x->a, NULL, x->list1};
	struct install_plan *pl = NULL;
	struct herr e = {0};
	uint8_t want[SHA256_LEN], got[SHA256_LEN];
	char p[PATH_MAX];
	off_t size = (off_t)64 << 20;
	struct stat st;
	if (put_sparse(x->tree, "app/disk.img", size, (size >> 1) + 1, "MARK") != 0)
		skip(); /* no holes on this file system */
	add_file(x, "app", "/srv/app", 3);
	assert_int_equal(install_plan(&o, &pl, &e), 0);
	assert_int_equal(install_apply(pl, &e), 0);
	install_plan_free(pl);
	assert_false(same_inode(x, "app/disk.img", "srv/app/disk.img"));
	st = lst(x->root, "srv/app/disk.img");
	assert_int_equal(st.st_size, size);
	if ((uint64_t)st.st_blocks * 512 > 4 * INSTFS_COPY_CHUNK)
		fail_msg("the copy takes %llu bytes on disk for 4 bytes of data",
		         (unsigned long long)st.st_blocks * 512);
	pathf(p, x->tree, "app/disk.img");
	assert_int_equal(sha256_file(p, want, &e), 0);
	pathf(p, x->root, "srv/app/disk.img");
	assert_int_equal(sha256_file(p, got, &e), 0);
	assert_memory_equal(want, got, SHA256_LEN);
}

/* A file that is also one of the revision's hook scripts is copied: hoist may
 * chmod the script in the tree before it runs it (make_executable), which
 * must not change the installed file. */
static void test_hook_script_is_copied(void **state)
{
	struct fx *x = *state;
	struct appspec_script sc = {.location = S(x, "app/bin/start.sh"), .timeout_s = 60};
	struct appspec_hook h = {.event = S(x, "ApplicationStart"), .scripts = &sc, .n_scripts = 1};
	put(x->tree, "app/bin/start.sh", "#!/bin/sh\n", 0755);
	put(x->tree, "app/bin/other.sh", "#!/bin/sh\n", 0755);
	add_file(x, "app", "/srv/app", 3);
	x->a.hooks = &h;
	x->a.n_hooks = 1;
	install_links_ok(x, NULL, x->list1);
	assert_false(same_inode(x, "app/bin/start.sh", "srv/app/bin/start.sh"));
	assert_true(same_inode(x, "app/bin/other.sh", "srv/app/bin/other.sh"));
	x->a.hooks = NULL;
	x->a.n_hooks = 0;
}

/* A destination directory with a default ACL: a new file inherits its entries,
 * a link would not, so the file is copied. */
static void test_default_acl_destination_copies(void **state)
{
	struct fx *x = *state;
	/* a minimal default ACL: version 2; user::rwx group::r-x other::r-x */
	static const unsigned char acl[] = {2,    0,    0, 0, 1,    0,    7,    0,    0xff, 0xff,
	                                    0xff, 0xff, 4, 0, 5,    0,    0xff, 0xff, 0xff, 0xff,
	                                    0x20, 0,    5, 0, 0xff, 0xff, 0xff, 0xff};
	char dst[PATH_MAX];
	put(x->tree, "app/a.txt", "a\n", 0644);
	put(x->tree, "lib/b.txt", "b\n", 0644);
	add_file(x, "app", "/srv/acl", 3);
	add_file(x, "lib", "/srv/plain", 3);
	pathf(dst, x->root, "srv/acl");
	{
		struct herr e = {0};
		assert_int_equal(fs_mkdir_p(dst, 0755, &e), 0);
	}
	if (setxattr(dst, "system.posix_acl_default", acl, sizeof(acl), 0) != 0)
		skip(); /* a file system without ACLs */
	install_links_ok(x, NULL, x->list1);
	assert_false(same_inode(x, "app/a.txt", "srv/acl/a.txt"));
	assert_true(same_inode(x, "lib/b.txt", "srv/plain/b.txt") ||
	            access("/sys/fs/selinux/enforce", F_OK) == 0);
}

/* kepttree_check: the linked files recorded by an install against the tree. */
static void test_kepttree_check(void **state)
{
	struct fx *x = *state;
	struct herr e = {0};
	char changed[PATH_MAX] = "";
	char lp[PATH_MAX];
	FILE *f;
	put(x->tree, "app/a.txt", "a\n", 0644);
	put(x->tree, "app/b.txt", "b\n", 0644);
	put(x->tree, "app/c..d.txt", "dots are fine inside a name\n", 0644);
	/* no list: a tree that never shared anything */
	assert_int_equal(kepttree_check(x->base, x->tree, changed, sizeof(changed), &e), 0);
	add_file(x, "app", "/srv/app", 3);
	install_links_ok(x, NULL, x->list1);
	pathf(lp, x->base, INSTLINK_TREE_LIST);
	assert_int_equal(kepttree_check(x->base, x->tree, changed, sizeof(changed), &e), 0);
	/* a change in place through the installed name reaches the tree */
	{
		char p[PATH_MAX];
		pathf(p, x->root, "srv/app/b.txt");
		f = fopen(p, "a");
		assert_non_null(f);
		fputs("more\n", f);
		fclose(f);
	}
	assert_int_equal(kepttree_check(x->base, x->tree, changed, sizeof(changed), &e), 1);
	assert_string_equal(changed, "app/b.txt");
	/* a directory of the tree replaced by a link out of it: never followed */
	{
		char d[PATH_MAX], moved[PATH_MAX];
		pathf(d, x->tree, "app");
		pathf(moved, x->base, "elsewhere");
		assert_int_equal(rename(d, moved), 0);
		assert_int_equal(symlink(moved, d), 0);
		assert_int_equal(kepttree_check(x->base, x->tree, changed, sizeof(changed), &e), 1);
		/* the first file already, not the changed b.txt found through the link */
		assert_string_equal(changed, "app/a.txt");
		assert_int_equal(unlink(d), 0);
		assert_int_equal(rename(moved, d), 0);
	}
	/* a missing tree file counts as changed */
	{
		char p[PATH_MAX];
		pathf(p, x->tree, "app/b.txt");
		assert_int_equal(unlink(p), 0);
	}
	assert_int_equal(kepttree_check(x->base, x->tree, changed, sizeof(changed), &e), 1);
	/* a damaged list and a path leaving the tree are errors, never followed */
	f = fopen(lp, "w");
	assert_non_null(f);
	fputs("zz app/a.txt\n", f);
	fclose(f);
	assert_int_equal(kepttree_check(x->base, x->tree, changed, sizeof(changed), &e), -1);
	assert_has(e.msg, "malformed");
	f = fopen(lp, "w");
	assert_non_null(f);
	fputs("0000000000000000000000000000000000000000000000000000000000000000 ../rev1.list\n", f);
	fclose(f);
	assert_int_equal(kepttree_check(x->base, x->tree, changed, sizeof(changed), &e), -1);
	assert_has(e.msg, "outside the tree");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_eligible_rule),
	    cmocka_unit_test_setup_teardown(test_linked_install_shares_inode_and_undo_keeps_tree, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_rule_or_second_destination_copies, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fault_mid_linked_apply_undo_restores, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_crash_between_link_and_rename, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_links_off_copies, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_copy_keeps_holes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_kepttree_check, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hook_script_is_copied, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_default_acl_destination_copies, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
