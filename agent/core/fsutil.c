/* fsutil.c - file-system helpers. */
#define _XOPEN_SOURCE 700
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exitcodes.h"

int fs_write_all(int fd, const void *data, size_t n)
{
	const char *p = data;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int fs_mkdir_p(const char *path, mode_t mode, struct herr *err)
{
	char tmp[PATH_MAX];
	struct stat st;
	size_t len = strlen(path);
	if (len == 0 || len >= sizeof(tmp))
		return herr_set(err, HOIST_EXIT_IO, "path too long or empty: %.200s", path);
	memcpy(tmp, path, len + 1);
	for (char *p = tmp + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(tmp, mode) != 0 && errno != EEXIST)
			return herr_errno(err, HOIST_EXIT_IO, errno, "cannot create directory %s", tmp);
		if (stat(tmp, &st) != 0)
			return herr_errno(err, HOIST_EXIT_IO, errno, "cannot stat %s", tmp);
		if (!S_ISDIR(st.st_mode))
			return herr_set(err, HOIST_EXIT_IO, "%s exists and is not a directory", tmp);
		*p = saved;
		if (saved == '\0')
			break;
	}
	return 0;
}

int fs_fsync_dir(const char *dir, struct herr *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;
	if (fd < 0)
		return herr_errno(err, HOIST_EXIT_IO, errno, "cannot open directory %s", dir);
	if (fsync(fd) != 0 && errno != EINVAL)
		rc = herr_errno(err, HOIST_EXIT_IO, errno, "cannot fsync directory %s", dir);
	close(fd);
	return rc;
}

int fs_fsync_parent(const char *path, struct herr *err)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t len;
	if (slash == NULL)
		return fs_fsync_dir(".", err);
	len = (size_t)(slash - path);
	if (len == 0)
		len = 1;
	if (len >= sizeof(dir))
		return herr_set(err, HOIST_EXIT_IO, "path too long: %.200s", path);
	memcpy(dir, path, len);
	dir[len] = '\0';
	return fs_fsync_dir(dir, err);
}

/* Writes a temporary file beside path and renames it over path; with
 * durable, the file and then its directory are fsync'd too. */
static int write_replace(const char *path, const void *data, size_t n, mode_t mode, int durable,
			 struct herr *err)
{
	char tmp[PATH_MAX];
	int fd = -1;
	int rc = -1;
	int r = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if (r < 0 || (size_t)r >= sizeof(tmp))
		return herr_set(err, HOIST_EXIT_IO, "path too long: %.200s", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0) {
		herr_errno(err, HOIST_EXIT_IO, errno, "cannot create %s", tmp);
		goto out;
	}
	if (fs_write_all(fd, data, n) != 0) {
		herr_errno(err, HOIST_EXIT_IO, errno, "cannot write %s", tmp);
		goto out;
	}
	if (fchmod(fd, mode) != 0 || (durable && fsync(fd) != 0)) {
		herr_errno(err, HOIST_EXIT_IO, errno, "cannot sync %s", tmp);
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		herr_errno(err, HOIST_EXIT_IO, errno, "cannot close %s", tmp);
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		herr_errno(err, HOIST_EXIT_IO, errno, "cannot rename %s to %s", tmp, path);
		goto out;
	}
	rc = durable ? fs_fsync_parent(path, err) : 0;
out:
	if (fd >= 0)
		close(fd);
	if (rc != 0)
		(void)unlink(tmp);
	return rc;
}

int fs_write_atomic(const char *path, const void *data, size_t n, mode_t mode, struct herr *err)
{
	return write_replace(path, data, n, mode, 1, err);
}

int fs_write_replace(const char *path, const void *data, size_t n, mode_t mode, struct herr *err)
{
	return write_replace(path, data, n, mode, 0, err);
}

int fs_read_file(const char *path, size_t max, int flags, struct buf *out, struct herr *err)
{
	char chunk[8192];
	struct stat st;
	size_t total = 0;
	int fd = -1;
	int rc = -1;
	int oflags = O_RDONLY | O_CLOEXEC | ((flags & FS_NOFOLLOW) ? O_NOFOLLOW : 0);

	fd = open(path, oflags);
	if (fd < 0) {
		if (errno == ELOOP)
			herr_set(err, HOIST_EXIT_IO, "%s is a symbolic link, refused", path);
		else
			herr_errno(err, HOIST_EXIT_IO, errno, "cannot open %s", path);
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		herr_set(err, HOIST_EXIT_IO, "%s is not a regular file", path);
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			herr_errno(err, HOIST_EXIT_IO, errno, "cannot read %s", path);
			goto out;
		}
		if (n == 0)
			break;
		total += (size_t)n;
		if (total > max) {
			herr_set(err, HOIST_EXIT_IO, "%s is larger than the limit of %zu bytes", path, max);
			goto out;
		}
		if (buf_append(out, chunk, (size_t)n) != 0) {
			herr_set(err, HOIST_EXIT_INTERNAL, "out of memory reading %s", path);
			goto out;
		}
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		return rmdir(path) == 0 || errno == ENOENT ? 0 : -1;
	return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
}

int fs_rm_rf(const char *path, struct herr *err)
{
	struct stat st;
	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		return herr_errno(err, HOIST_EXIT_IO, errno, "cannot stat %s", path);
	}
	if (!S_ISDIR(st.st_mode)) {
		if (unlink(path) != 0 && errno != ENOENT)
			return herr_errno(err, HOIST_EXIT_IO, errno, "cannot remove %s", path);
		return 0;
	}
	/* FTW_PHYS: never follow a symlink out of the tree. */
	if (nftw(path, rm_entry, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) != 0)
		return herr_errno(err, HOIST_EXIT_IO, errno, "cannot remove %s", path);
	return 0;
}

int fs_path_join(char *out, size_t outsz, const char *a, const char *b)
{
	size_t la = strlen(a);
	int n;
	while (la > 1 && a[la - 1] == '/')
		la--;
	while (*b == '/')
		b++;
	if (la == 1 && a[0] == '/')
		n = snprintf(out, outsz, "/%s", b);
	else
		n = snprintf(out, outsz, "%.*s/%s", (int)la, a, b);
	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

int fs_rooted(char *out, size_t outsz, const char *root, const char *abs_path)
{
	int n;
	if (abs_path[0] != '/')
		return -1;
	if (root == NULL || root[0] == '\0' || strcmp(root, "/") == 0)
		n = snprintf(out, outsz, "%s", abs_path);
	else
		return fs_path_join(out, outsz, root, abs_path);
	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

int fs_exists(const char *path)
{
	struct stat st;
	if (lstat(path, &st) == 0)
		return 1;
	return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
}
