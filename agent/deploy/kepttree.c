/* kepttree.c - checking and restaging a kept revision tree (see kepttree.h). */
#include "kepttree.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "buf.h"
#include "digest.h"
#include "exitcodes.h"
#include "fsutil.h"
#include "instlink.h"
#include "log.h"

#define LINKED_LIST_MAX ((size_t)64 << 20) /* 100,000 lines of path and sha fit many times */

/* A relative path of plain components (no "", ".", ".."): it stays in the tree. */
static bool inside_tree(const char *rel)
{
	const char *p = rel;
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		if (slash == NULL)
			return true;
		p = slash + 1;
	}
}

/* Opens rel below treefd without following any symlink on the way (the
 * linked files were reached without one; a link in the tree is never
 * followed out of it): openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS, or on a
 * kernel without it (before 5.6) openat with O_NOFOLLOW on the last part. */
static int open_beneath(int treefd, const char *rel)
{
#ifdef SYS_openat2
	struct open_how how = {.flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
	                       .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS};
	long fd = syscall(SYS_openat2, treefd, rel, &how, sizeof(how));
	if (fd >= 0 || errno != ENOSYS)
		return (int)fd;
#endif
	return openat(treefd, rel, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
}

/* One line "<sha> <rel>": 0 when the file tree/rel has that sha256, 1 when
 * not (or it is missing or not a regular file), -1 on a read error. */
static int check_line(int treefd, const char *line, size_t len, char *changed, size_t cap, struct herr *err)
{
	char rel[PATH_MAX];
	char hex[SHA256_HEX_LEN + 1];
	uint8_t sha[SHA256_LEN];
	size_t rl;
	int fd;
	int rc;
	if (len < SHA256_HEX_LEN + 2 || line[SHA256_HEX_LEN] != ' ' ||
	    (rl = len - SHA256_HEX_LEN - 1) >= sizeof(rel))
		return herr_set(err, HOIST_EXIT_IO, "malformed line");
	memcpy(rel, line + SHA256_HEX_LEN + 1, rl);
	rel[rl] = '\0';
	if (!inside_tree(rel))
		return herr_set(err, HOIST_EXIT_IO, "path outside the tree");
	fd = open_beneath(treefd, rel);
	if (fd < 0) {
		snprintf(changed, cap, "%s", rel);
		return 1;
	}
	rc = sha256_fd(fd, rel, sha, err);
	close(fd);
	if (rc != 0) {
		snprintf(changed, cap, "%s", rel);
		return 1;
	}
	hex_encode(sha, SHA256_LEN, hex);
	if (memcmp(hex, line, SHA256_HEX_LEN) != 0) {
		snprintf(changed, cap, "%s", rel);
		return 1;
	}
	return 0;
}

int kepttree_check(const char *dir, const char *tree, char *changed, size_t cap, struct herr *err)
{
	char path[PATH_MAX];
	struct buf b;
	int treefd = -1;
	int rc = -1;

	buf_init(&b, LINKED_LIST_MAX);
	if (fs_path_join(path, sizeof(path), dir, INSTLINK_TREE_LIST) != 0) {
		herr_set(err, HOIST_EXIT_IO, "path too long: %.200s", dir);
		goto out;
	}
	if (fs_exists(path) != 1) {
		rc = 0;
		goto out;
	}
	if (fs_read_file(path, LINKED_LIST_MAX, FS_NOFOLLOW, &b, err) != 0)
		goto out;
	treefd = open(tree, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (treefd < 0) {
		snprintf(changed, cap, "%s", ".");
		rc = 1;
		goto out;
	}
	rc = 0;
	for (size_t i = 0; i < b.len && rc == 0;) {
		const char *nl = memchr(b.data + i, '\n', b.len - i);
		size_t len = nl ? (size_t)(nl - (b.data + i)) : b.len - i;
		rc = check_line(treefd, b.data + i, len, changed, cap, err);
		i += len + 1;
	}
	if (rc < 0)
		herr_prefix(err, "%s", path);
out:
	if (treefd >= 0)
		close(treefd);
	buf_free(&b);
	return rc;
}

int kepttree_restage(const char *dir, const char *bundle, const char *tmp_dir, const char *id,
                     const char *tree, const struct bundle_limits *lim, struct herr *err)
{
	char staging[PATH_MAX];
	char list[PATH_MAX];
	struct herr ignored = {0};
	int n = snprintf(staging, sizeof(staging), "%s/stage-%s", tmp_dir, id);
	if (n < 0 || (size_t)n >= sizeof(staging) ||
	    fs_path_join(list, sizeof(list), dir, INSTLINK_TREE_LIST) != 0)
		return herr_set(err, HOIST_EXIT_IO, "path too long: %.200s", tmp_dir);
	if (fs_mkdir_p(tmp_dir, 0700, err) != 0 || bundle_stage(bundle, staging, lim, err) != 0)
		return -1;
	/* the tree's name never lacks a whole tree: a crash leaves the old or the
	 * new one there, and the other under tmp/stage-* (removed at the next run) */
	if (renameat2(AT_FDCWD, staging, AT_FDCWD, tree, RENAME_EXCHANGE) != 0) {
		int e = errno;
		(void)fs_rm_rf(staging, &ignored);
		return herr_errno(err, HOIST_EXIT_IO, e, "cannot exchange %s with %s", staging, tree);
	}
	if (fs_fsync_parent(tree, err) != 0)
		return -1;
	if (unlink(list) != 0 && errno != ENOENT)
		return herr_errno(err, HOIST_EXIT_IO, errno, "cannot remove %s", list);
	if (fs_rm_rf(staging, &ignored) != 0)
		log_warnx("cannot remove the replaced tree %s: %s", staging, ignored.msg);
	return 0;
}

int kepttree_ready(const char *dir, const char *tree, const char *bundle_name, const char *tmp_dir,
                   const char *id, const struct bundle_limits *lim, struct herr *err)
{
	char changed[PATH_MAX] = "";
	char bundle[PATH_MAX];
	int rc = kepttree_check(dir, tree, changed, sizeof(changed), err);
	if (rc <= 0)
		return rc;
	if (bundle_name == NULL)
		return herr_set(
		    err, HOIST_EXIT_INTEGRITY,
		    "the kept tree %s differs from what it installed (%s) and no bundle is kept to "
		    "unpack it again; deploy the revision again",
		    tree, changed);
	if (fs_path_join(bundle, sizeof(bundle), dir, bundle_name) != 0)
		return herr_set(err, HOIST_EXIT_IO, "path too long: %.200s", dir);
	log_warnx("the kept tree %s differs from what it installed (%s: changed in place through the "
	          "host, by a hook, or cut by a power loss); unpacking it again from %s",
	          tree, changed, bundle);
	return kepttree_restage(dir, bundle, tmp_dir, id, tree, lim, err);
}
