/* instfx_util.c - the fixture of the install tests (see instfx_util.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fsutil.h"
#include "herr.h"
#include "instfx_util.h"
#include "log.h"
#include "tree_util.h"

int instfx_setup(void **state, const char *name, const char *list_dir)
{
	struct fx *x = calloc(1, sizeof(*x));
	char lists[PATH_MAX];
	assert_non_null(x);
	snprintf(x->base, sizeof(x->base), "%s/hoist-test-%s.XXXXXX",
	         getenv("HOIST_TEST_TMPDIR") ? getenv("HOIST_TEST_TMPDIR") : "/tmp", name);
	assert_non_null(mkdtemp(x->base));
	pathf(x->tree, x->base, "tree");
	pathf(x->root, x->base, "root");
	if (list_dir != NULL)
		pathf(lists, x->base, list_dir);
	else
		snprintf(lists, sizeof(lists), "%s", x->base);
	pathf(x->list1, lists, "rev1.list");
	pathf(x->list2, lists, "rev2.list");
	assert_int_equal(mkdir(x->tree, 0755), 0);
	assert_int_equal(mkdir(x->root, 0755), 0);
	if (list_dir != NULL)
		assert_int_equal(mkdir(lists, 0755), 0);
	x->a.filename = S(x, "appspec.yml");
	x->a.files = x->f;
	x->a.permissions = x->p;
	log_set_stderr(0);
	*state = x;
	return 0;
}

int instfx_teardown(void **state)
{
	struct fx *x = *state;
	struct herr e = {0};
	(void)fs_rm_rf(x->base, &e);
	for (size_t i = 0; i < x->npool; i++)
		free(x->pool[i]);
	free(x);
	return 0;
}

char *S(struct fx *x, const char *s)
{
	char *d = strdup(s);
	assert_non_null(d);
	assert_true(x->npool < INSTFX_POOL);
	x->pool[x->npool++] = d;
	return d;
}

void add_file(struct fx *x, const char *src, const char *dst, unsigned line)
{
	struct appspec_file *f = &x->f[x->a.n_files++];
	f->source = S(x, src);
	f->destination = S(x, dst);
	f->line = line;
}
