/* instlink.c - the linked install (see instlink.h). */
#include "instlink.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "exitcodes.h"
#include "fsutil.h"

bool instlink_eligible(const struct stat *st, int mode, bool has_rule, uid_t euid)
{
	if (!S_ISREG(st->st_mode) || st->st_nlink != 1 || st->st_uid != euid || has_rule)
		return false;
	if ((int)(st->st_mode & 07777) != mode)
		return false;
	return (mode & (S_IWGRP | S_IWOTH)) == 0;
}

/* linkat's errors that mean "copy instead": another file system, a file
 * system without hard links, too many links, a protected_hardlinks refusal. */
static bool copy_instead(int e)
{
	return e == EXDEV || e == EPERM || e == EMLINK || e == EOPNOTSUPP || e == ENOSYS;
}

/* SELinux labels a new file by where it is created; a link keeps the tree's
 * label (the state directory's type), which a service may not be allowed
 * to read: with SELinux on, every file is copied. Checked once. */
static bool selinux_on(void)
{
	static int on = -1;
	if (on < 0)
		on = access("/sys/fs/selinux/enforce", F_OK) == 0;
	return on == 1;
}

/* A directory with a default ACL gives a new file its entries; a link would
 * not get them: such a destination gets a copy. */
static bool default_acl(int pfd)
{
	ssize_t n = fgetxattr(pfd, "system.posix_acl_default", NULL, 0);
	return n > 0;
}

int instlink_try(const char *src, int sfd, const struct stat *sst, int pfd, const char *tmp, int mode,
                 bool has_rule, const char *what, int *out_fd, struct herr *err)
{
	struct stat st;
	int fd;
	(void)sfd;
	*out_fd = -1;
	if (!instlink_eligible(sst, mode, has_rule, geteuid()) || selinux_on() || default_acl(pfd))
		return 0;
	/* no AT_SYMLINK_FOLLOW: if src were swapped for a symlink, the link itself
	 * would be linked, and the inode check below refuses it */
	if (linkat(AT_FDCWD, src, pfd, tmp, 0) != 0) {
		if (copy_instead(errno))
			return 0;
		return herr_errno(err, HOIST_EXIT_IO, errno, "cannot link the new %s beside its destination",
		                  what);
	}
	fd = openat(pfd, tmp, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0 || st.st_dev != sst->st_dev || st.st_ino != sst->st_ino) {
		/* the tree changed under us: drop the name, copy what was opened */
		if (fd >= 0)
			close(fd);
		if (unlinkat(pfd, tmp, 0) != 0 && errno != ENOENT)
			return herr_errno(err, HOIST_EXIT_IO, errno,
			                  "cannot remove the temporary link beside %s", what);
		return 0;
	}
	*out_fd = fd;
	return 1;
}

int instlink_list_path(const char *new_list, char *out, struct herr *err)
{
	const char *slash = strrchr(new_list, '/');
	int dlen = slash == NULL ? 1 : (int)(slash - new_list);
	const char *dir = slash == NULL ? "." : new_list;
	int n = snprintf(out, PATH_MAX, "%.*s/%s", dlen, dir, INSTLINK_TREE_LIST);
	if (n < 0 || n >= PATH_MAX)
		return herr_set(err, HOIST_EXIT_IO, "path too long: %.200s", new_list);
	return 0;
}

/* path replaced by text through a temporary name, the file fsync'd; its
 * directory is not: install_apply's final list is renamed in the same
 * directory next and that directory fsync'd (instlink.h). */
static int write_synced(const char *path, const char *text, size_t n, struct herr *err)
{
	char tmp[PATH_MAX];
	int fd;
	int rc = -1;
	int k = snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (k < 0 || k >= (int)sizeof(tmp))
		return herr_set(err, HOIST_EXIT_IO, "path too long: %.200s", path);
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return herr_errno(err, HOIST_EXIT_IO, errno, "cannot create %s", tmp);
	if (fs_write_all(fd, text, n) != 0 || fsync(fd) != 0) {
		herr_errno(err, HOIST_EXIT_IO, errno, "cannot write %s", tmp);
		goto out;
	}
	if (rename(tmp, path) != 0) {
		herr_errno(err, HOIST_EXIT_IO, errno, "cannot rename %s", tmp);
		goto out;
	}
	rc = 0;
out:
	close(fd);
	if (rc != 0)
		(void)unlink(tmp);
	return rc;
}

int instlink_record(const char *new_list, const char *text, size_t n, struct herr *err)
{
	char path[PATH_MAX];
	if (instlink_list_path(new_list, path, err) != 0)
		return -1;
	if (n > 0)
		return write_synced(path, text, n, err);
	/* nothing shared: a record left by an older install of this version
	 * would only cost a needless check, so it need not go durably */
	if (unlink(path) != 0 && errno != ENOENT)
		return herr_errno(err, HOIST_EXIT_IO, errno, "cannot remove %s", path);
	return 0;
}
