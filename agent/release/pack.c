/* pack.c - reproducible bundle archives (see pack.h). */
#include "pack.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "digest.h"
#include "exitcodes.h"
#include "fsutil.h"

#define MAX_DEPTH 64

struct packer {
	struct archive *a;
	struct archive_entry *e;
	time_t mtime;
	uint64_t entries;
	char *iobuf;
	struct herr *err;
};

static int cmp_names(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The sorted names of a directory (without . and ..). */
static int list_dir(const char *path, char ***names, size_t *n, struct herr *err)
{
	DIR *d = opendir(path);
	struct dirent *de;
	size_t cap = 0;
	*names = NULL;
	*n = 0;
	if (d == NULL)
		return herr_errno(err, HOIST_EXIT_IO, errno, "cannot read directory %s", path);
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (*n == cap) {
			size_t nc = cap ? cap * 2 : 32;
			char **nn = realloc(*names, nc * sizeof(*nn));
			if (nn == NULL)
				goto oom;
			*names = nn;
			cap = nc;
		}
		if (((*names)[*n] = strdup(de->d_name)) == NULL)
			goto oom;
		(*n)++;
	}
	if (errno != 0) {
		closedir(d);
		return herr_errno(err, HOIST_EXIT_IO, errno, "cannot read directory %s", path);
	}
	closedir(d);
	if (*n > 0)
		qsort(*names, *n, sizeof(**names), cmp_names);
	return 0;
oom:
	closedir(d);
	return herr_set(err, HOIST_EXIT_INTERNAL, "out of memory listing %s", path);
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static int arc_error(struct packer *p, const char *what)
{
	return herr_set(p->err, HOIST_EXIT_IO, "%s: %s", what, archive_error_string(p->a));
}

/* One entry: the header from lstat with the fixed fields, then the data. */
static int add_entry(struct packer *p, const char *path, const char *name, const struct stat *st)
{
	struct archive_entry *e = p->e;
	int fd = -1, rc = -1;
	archive_entry_clear(e);
	archive_entry_set_pathname(e, name);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_uname(e, "root");
	archive_entry_set_gname(e, "root");
	archive_entry_set_mtime(e, p->mtime, 0);
	archive_entry_set_perm(e, st->st_mode & 07777);
	if (S_ISDIR(st->st_mode)) {
		archive_entry_set_filetype(e, AE_IFDIR);
	} else if (S_ISLNK(st->st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlink(path, target, sizeof(target) - 1);
		if (n < 0)
			return herr_errno(p->err, HOIST_EXIT_IO, errno, "cannot read link %s", path);
		target[n] = '\0';
		archive_entry_set_filetype(e, AE_IFLNK);
		archive_entry_set_perm(e, 0777);
		archive_entry_set_symlink(e, target);
	} else if (S_ISREG(st->st_mode)) {
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_size(e, st->st_size);
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			return herr_errno(p->err, HOIST_EXIT_IO, errno, "cannot open %s", path);
	} else {
		return herr_set(p->err, HOIST_EXIT_BAD_BUNDLE,
		                "%s: not a regular file, directory or symlink (bundles hold only those)",
		                path);
	}
	if (archive_write_header(p->a, e) != ARCHIVE_OK) {
		arc_error(p, name);
		goto out;
	}
	if (fd >= 0) {
		uint64_t left = (uint64_t)st->st_size;
		while (left > 0) {
			ssize_t r = read(fd, p->iobuf, left < (1u << 20) ? (size_t)left : (1u << 20));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				herr_set(p->err, HOIST_EXIT_IO, "%s changed while it was packed", path);
				goto out;
			}
			if (archive_write_data(p->a, p->iobuf, (size_t)r) != r) {
				arc_error(p, name);
				goto out;
			}
			left -= (uint64_t)r;
		}
	}
	p->entries++;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Adds the contents of path (archive prefix rel, "" at the top), sorted. */
static int add_tree(struct packer *p, const char *path, const char *rel, int depth)
{
	char **names = NULL;
	size_t n = 0;
	int rc = -1;
	if (depth > MAX_DEPTH)
		return herr_set(p->err, HOIST_EXIT_BAD_BUNDLE, "%s: nested deeper than %d levels", path,
		                MAX_DEPTH);
	if (list_dir(path, &names, &n, p->err) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char full[PATH_MAX], name[PATH_MAX];
		struct stat st;
		if (fs_path_join(full, sizeof(full), path, names[i]) != 0 ||
		    (size_t)snprintf(name, sizeof(name), "%s%s%s", rel, rel[0] ? "/" : "", names[i]) >=
		        sizeof(name)) {
			herr_set(p->err, HOIST_EXIT_BAD_BUNDLE, "%s/%s: path too long", path, names[i]);
			goto out;
		}
		if (lstat(full, &st) != 0) {
			herr_errno(p->err, HOIST_EXIT_IO, errno, "%s", full);
			goto out;
		}
		if (add_entry(p, full, name, &st) != 0)
			goto out;
		if (S_ISDIR(st.st_mode) && add_tree(p, full, name, depth + 1) != 0)
			goto out;
	}
	rc = 0;
out:
	free_names(names, n);
	return rc;
}

int pack_dir(const char *dir, const char *out, time_t mtime, struct pack_result *res, struct herr *err)
{
	struct packer p = {0};
	char tmp[PATH_MAX];
	int fd = -1, rc = -1, opened = 0;
	struct stat st;

	p.err = err;
	p.mtime = mtime;
	memset(res, 0, sizeof(*res));
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", out) >= sizeof(tmp))
		return herr_set(err, HOIST_EXIT_USAGE, "%s: path too long", out);
	p.a = archive_write_new();
	p.e = archive_entry_new();
	p.iobuf = malloc(1u << 20);
	if (p.a == NULL || p.e == NULL || p.iobuf == NULL) {
		herr_set(err, HOIST_EXIT_INTERNAL, "out of memory");
		goto out;
	}
	/* pax restricted: plain ustar headers unless a name or size needs pax;
	 * gzip without the original name and timestamp, so bytes repeat */
	if (archive_write_set_format_pax_restricted(p.a) != ARCHIVE_OK ||
	    archive_write_add_filter_gzip(p.a) != ARCHIVE_OK ||
	    archive_write_set_filter_option(p.a, "gzip", "timestamp", NULL) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(p.a, 1) != ARCHIVE_OK) {
		arc_error(&p, "cannot set up the archive writer");
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		herr_errno(err, HOIST_EXIT_IO, errno, "cannot create %s", tmp);
		goto out;
	}
	if (archive_write_open_fd(p.a, fd) != ARCHIVE_OK) {
		arc_error(&p, tmp);
		goto out;
	}
	opened = 1;
	if (add_tree(&p, dir, "", 0) != 0)
		goto out;
	opened = 0;
	if (archive_write_close(p.a) != ARCHIVE_OK) {
		arc_error(&p, tmp);
		goto out;
	}
	if (fsync(fd) != 0 || fstat(fd, &st) != 0) {
		herr_errno(err, HOIST_EXIT_IO, errno, "%s", tmp);
		goto out;
	}
	if (sha256_file(tmp, res->sha256, err) != 0)
		goto out;
	if (rename(tmp, out) != 0) {
		herr_errno(err, HOIST_EXIT_IO, errno, "cannot rename %s to %s", tmp, out);
		goto out;
	}
	res->size = (uint64_t)st.st_size;
	res->entries = p.entries;
	rc = 0;
out:
	if (opened)
		(void)archive_write_close(p.a);
	if (p.a != NULL)
		archive_write_free(p.a);
	archive_entry_free(p.e);
	free(p.iobuf);
	if (fd >= 0)
		close(fd);
	if (rc != 0)
		(void)unlink(tmp);
	return rc;
}
