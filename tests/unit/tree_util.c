/* tree_util.c - unit-test helpers on a private directory tree (see tree_util.h). */
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
#include <unistd.h>

#include "buf.h"
#include "fsutil.h"
#include "herr.h"
#include "tree_util.h"

void pathf(char *out, const char *a, const char *b)
{
	assert_int_equal(fs_path_join(out, PATH_MAX, a, b), 0);
}

void put(const char *dir, const char *rel, const char *content, mode_t mode)
{
	char p[PATH_MAX], parent[PATH_MAX];
	struct herr e = {0};
	int fd;
	pathf(p, dir, rel);
	snprintf(parent, sizeof(parent), "%s", p);
	*strrchr(parent, '/') = '\0';
	assert_int_equal(fs_mkdir_p(parent, 0755, &e), 0);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

int put_sparse(const char *dir, const char *rel, off_t size, off_t at, const char *mark)
{
	char p[PATH_MAX];
	struct stat st;
	int fd;
	put(dir, rel, "", 0644); /* parents made */
	pathf(p, dir, rel);
	fd = open(p, O_WRONLY | O_TRUNC | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, size), 0);
	assert_int_equal(pwrite(fd, mark, strlen(mark), at), (ssize_t)strlen(mark));
	assert_int_equal(fstat(fd, &st), 0);
	close(fd);
	return (uint64_t)st.st_blocks * 512 < 1024 * 1024 ? 0 : 1;
}

char *slurp(const char *dir, const char *rel)
{
	char p[PATH_MAX];
	struct buf b;
	struct herr e = {0};
	if (rel == NULL || rel[0] == '\0')
		snprintf(p, sizeof(p), "%s", dir);
	else
		pathf(p, dir, rel);
	buf_init(&b, 1 << 20);
	if (fs_read_file(p, 1 << 20, 0, &b, &e) != 0)
		return strdup("");
	return b.data ? buf_steal(&b) : strdup("");
}

struct stat lst(const char *dir, const char *rel)
{
	char p[PATH_MAX];
	struct stat st;
	memset(&st, 0, sizeof(st));
	pathf(p, dir, rel);
	if (lstat(p, &st) != 0)
		st.st_mode = 0;
	return st;
}

void assert_has(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL)
		fail_msg("\"%s\" not found in \"%s\"", needle, hay);
}
