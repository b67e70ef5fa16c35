/* stage.c - keeping and unpacking bundles (see stage.h). */
#include "stage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exitcodes.h"
#include "fsutil.h"
#include "log.h"

int stage_new_id(char *out, size_t cap, struct herr *err)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	unsigned char rnd[9];
	if (cap < 12)
		return herr_set(err, HOIST_EXIT_INTERNAL, "id buffer too small");
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return herr_errno(err, HOIST_EXIT_INTERNAL, errno, "getrandom");
	out[0] = 'd';
	out[1] = '-';
	for (size_t i = 0; i < sizeof(rnd); i++)
		out[2 + i] = alphabet[rnd[i] % 36];
	out[11] = '\0';
	return 0;
}

const char *stage_suffix(const char *name)
{
	static const char *const sfx[] = {".tar.gz", ".tgz", ".tar", ".zip"};
	size_t n = strlen(name);
	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		size_t k = strlen(sfx[i]);
		if (n > k && strcasecmp(name + n - k, sfx[i]) == 0)
			return sfx[i];
	}
	return "";
}

/* Copies src to dst (new file), fsync'd. */
static int copy_file(const char *src, const char *dst, struct herr *err)
{
	char buf[1 << 16];
	int in = -1, out = -1, rc = -1;
	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		herr_errno(err, HOIST_EXIT_IO, errno, "cannot open bundle %s", src);
		goto out;
	}
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (out < 0) {
		herr_errno(err, HOIST_EXIT_IO, errno, "cannot create %s", dst);
		goto out;
	}
	for (;;) {
		ssize_t r = read(in, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			herr_errno(err, HOIST_EXIT_IO, errno, "cannot read %s", src);
			goto out;
		}
		if (r == 0)
			break;
		if (fs_write_all(out, buf, (size_t)r) != 0) {
			herr_errno(err, HOIST_EXIT_IO, errno, "cannot write %s", dst);
			goto out;
		}
	}
	if (fsync(out) != 0) {
		herr_errno(err, HOIST_EXIT_IO, errno, "cannot sync %s", dst);
		goto out;
	}
	rc = 0;
out:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	if (rc != 0)
		(void)unlink(dst);
	return rc;
}

int stage_keep_bundle(const char *bundle, const char *dir, char *name_out, size_t cap, struct herr *err)
{
	char dst[PATH_MAX];
	int n = snprintf(name_out, cap, "bundle%s", stage_suffix(bundle));
	if (n < 0 || (size_t)n >= cap || fs_path_join(dst, sizeof(dst), dir, name_out) != 0)
		return herr_set(err, HOIST_EXIT_IO, "path too long: %.200s", dir);
	(void)unlink(dst);
	/* A hard link costs no space or time; the stub's cache is on the same
	 * file system. Elsewhere the bundle is copied so the revision can be
	 * redeployed without the original. */
	if (link(bundle, dst) == 0)
		return 0;
	if (errno != EXDEV && errno != EPERM && errno != EMLINK)
		return herr_errno(err, HOIST_EXIT_IO, errno, "cannot link %s to %s", bundle, dst);
	return copy_file(bundle, dst, err);
}

int stage_tree(const char *bundle, const char *tmp_dir, const char *id, const char *tree,
               const struct bundle_limits *lim, struct herr *err)
{
	char staging[PATH_MAX];
	int n = snprintf(staging, sizeof(staging), "%s/stage-%s", tmp_dir, id);
	if (n < 0 || (size_t)n >= sizeof(staging))
		return herr_set(err, HOIST_EXIT_IO, "path too long: %.200s", tmp_dir);
	if (fs_mkdir_p(tmp_dir, 0700, err) != 0)
		return -1;
	if (bundle_stage(bundle, staging, lim, err) != 0)
		return -1;
	if (rename(staging, tree) != 0) {
		int e = errno;
		struct herr ignored;
		(void)fs_rm_rf(staging, &ignored);
		return herr_errno(err, HOIST_EXIT_IO, e, "cannot rename %s to %s", staging, tree);
	}
	/* Not fsync'd here: the tree matters only once its revision is installed,
	 * and the Install makes revisions/V durable first (the installed list is
	 * created there and its directory fsync'd). Lost to a power loss before
	 * that, the revision was not installed; a new deploy unpacks it again. */
	return 0;
}

void stage_clean_tmp(const char *tmp_dir)
{
	DIR *d = opendir(tmp_dir);
	struct dirent *de;
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char p[PATH_MAX];
		struct herr e;
		if (strncmp(de->d_name, "stage-", 6) != 0 ||
		    fs_path_join(p, sizeof(p), tmp_dir, de->d_name) != 0)
			continue;
		if (fs_rm_rf(p, &e) != 0)
			log_warnx("cannot remove leftover %s: %s", p, e.msg);
	}
	closedir(d);
}

/* A temporary name of fsutil's writers: "X.tmp.DIGITS" (X not empty), or
 * the installed list's "installed.list.new". */
static bool is_leftover_tmp(const char *name)
{
	const char *t = strstr(name, ".tmp.");
	const char *p;
	if (strcmp(name, "installed.list.new") == 0)
		return true;
	if (t == NULL || t == name)
		return false;
	for (p = t + 5; *p >= '0' && *p <= '9'; p++)
		;
	return p > t + 5 && *p == '\0';
}

/* Removes the leftover temporary files directly in dir; returns how many. */
static unsigned clean_tmp_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	unsigned n = 0;
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (!is_leftover_tmp(de->d_name))
			continue;
		/* regular files only, never followed: unlinkat removes the name itself */
		if (unlinkat(dirfd(d), de->d_name, 0) == 0)
			n++;
		else if (errno != ENOENT && errno != EISDIR)
			log_warnx("cannot remove leftover %s/%s: %s", dir, de->d_name, strerror(errno));
	}
	closedir(d);
	return n;
}

void stage_clean_state_tmp(const char *state_dir)
{
	char revs[PATH_MAX];
	DIR *d;
	struct dirent *de;
	unsigned n = clean_tmp_files(state_dir);

	if (fs_path_join(revs, sizeof(revs), state_dir, "revisions") == 0 && (d = opendir(revs)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			char p[PATH_MAX];
			if (de->d_name[0] == '.' || fs_path_join(p, sizeof(p), revs, de->d_name) != 0)
				continue;
			n += clean_tmp_files(p);
		}
		closedir(d);
	}
	if (n > 0)
		log_info("removed %u temporary file(s) left by an interrupted run", n);
}
