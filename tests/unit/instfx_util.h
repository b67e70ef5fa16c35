/* instfx_util.h - the fixture of the install tests (test_install.c,
 * test_instlink.c): a private base directory holding tree/ (a revision's
 * files) and root/ (the host), the paths of two installed lists, and a
 * hand-built appspec (the parser is another module) whose strings the
 * fixture owns. Not a test itself (see tree_util.h). */
#ifndef HOIST_TEST_INSTFX_UTIL_H
#define HOIST_TEST_INSTFX_UTIL_H

#include <limits.h>
#include <stddef.h>

#include "appspec.h"

#define INSTFX_POOL 128 /* strings one test may hand to the appspec */

struct fx {
	char base[PATH_MAX];
	char tree[PATH_MAX];
	char root[PATH_MAX];
	char list1[PATH_MAX];
	char list2[PATH_MAX];
	struct appspec a; /* files in f, permissions in p (each with except = exc[i]) */
	struct appspec_file f[8];
	struct appspec_permission p[8];
	char *exc[8][4];
	char *pool[INSTFX_POOL];
	size_t npool;
};

/* cmocka setup: a fresh base "TMP/hoist-test-NAME.XXXXXX" (TMP: $HOIST_TEST_TMPDIR,
 * else /tmp: a run on another file system, e.g. XFS with reflinks, takes the
 * clone path) with tree/ and root/;
 * list1 and list2 are rev1.list and rev2.list in base/LIST_DIR (created), or
 * in base itself when list_dir is NULL. Logging to stderr is turned off. */
int instfx_setup(void **state, const char *name, const char *list_dir);

/* cmocka teardown: the base removed, the strings freed. */
int instfx_teardown(void **state);

/* A heap copy of s that teardown frees (appspec fields are not const). */
char *S(struct fx *x, const char *s);

/* Appends a files entry (source, destination, its appspec line). */
void add_file(struct fx *x, const char *src, const char *dst, unsigned line);

#endif
