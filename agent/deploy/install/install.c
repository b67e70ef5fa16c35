/* install.c - install_apply (record every path ahead, write each through a
 * temporary name and a rename, sync in bulk, then record the sha256s),
 * install_undo and install_verify; the plan itself is built by instplan.c.
 * See install.h for the contract. */
#include "install.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "digest.h"
#include "exitcodes.h"
#include "fsutil.h"
#include "instfs.h"
#include "instlink.h"
#include "instlist.h"
#include "instplan.h"
#include "log.h"
#include "perms.h"

int install_plan(const struct install_opts *opts, struct install_plan **out, struct herr *err)
{
	return instplan_build(opts, out, err);
}

void install_plan_set_links(struct install_plan *plan, bool on, const struct appspec *spec)
{
	plan->links = on;
	plan->link_spec = spec;
}

void install_plan_record_tree(struct install_plan *plan, bool on)
{
	plan->record_tree = on;
}

/* Is src (a path in the tree) one of the revision's hook scripts? */
static bool hook_script(const struct install_plan *pl, const char *src)
{
	size_t tl = strlen(pl->tree);
	const struct appspec *a = pl->link_spec;
	if (a == NULL || strncmp(src, pl->tree, tl) != 0 || src[tl] != '/')
		return false;
	for (size_t i = 0; i < a->n_hooks; i++)
		for (size_t k = 0; k < a->hooks[i].n_scripts; k++)
			if (strcmp(a->hooks[i].scripts[k].location, src + tl + 1) == 0)
				return true;
	return false;
}

void install_plan_free(struct install_plan *plan)
{
	instplan_free(plan);
}

static int open_root(const char *root, struct herr *err)
{
	const char *r = root == NULL || root[0] == '\0' ? "/" : root;
	int fd = open(r, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return herr_errno(err, HOIST_EXIT_IO, errno, "cannot open root directory %s", r);
	return fd;
}

struct apply_walk {
	const struct install_plan *pl;
	const struct action *x;
};

/* apply's symlink policy: a component may be followed only inside the
 * appspec destination path and only if this revision does not own it. */
static bool apply_follow(const void *ctx, const char *path, size_t len, size_t depth)
{
	const struct apply_walk *w = ctx;
	char prefix[PATH_MAX];
	const struct action *d;
	if (depth > w->x->follow_depth || len >= sizeof(prefix))
		return false;
	memcpy(prefix, path, len);
	prefix[len] = '\0';
	d = instplan_find(w->pl, prefix);
	return d == NULL || d->kind != ACT_DIR || !d->owned;
}

/* What must be durable before the list is finalised. A small install keeps
 * the fds it wrote (files, the directories that got new entries or modes) and
 * fsyncs each: syncfs would also wait for every other writer's dirty data on
 * the file system. Past SYNC_FDS fds it switches to one syncfs per file system
 * written (one flush instead of thousands of fsyncs). */
#define SYNC_FDS 128
#define SYNC_DEVS 16
struct syncset {
	int fd[SYNC_FDS];
	dev_t fd_dev[SYNC_FDS];
	ino_t fd_ino[SYNC_FDS]; /* a directory is kept once, whether created or a parent */
	size_t n_fd;
	bool overflow; /* too many fds: syncfs each file system instead */
	dev_t dev[SYNC_DEVS];
	int devfd[SYNC_DEVS];
	size_t n_dev;
};

/* Adds the file system of directory fd dirfd (kept open as a duplicate). */
static int syncset_fs(struct syncset *s, int dirfd, const char *what, struct herr *err)
{
	struct stat st;
	int fd;
	if (fstat(dirfd, &st) != 0)
		return herr_errno(err, HOIST_EXIT_IO, errno, "cannot stat directory %s", what);
	for (size_t i = 0; i < s->n_dev; i++)
		if (s->dev[i] == st.st_dev)
			return 0;
	if (s->n_dev == SYNC_DEVS) {
		/* more file systems than slots: flush the oldest now, reuse its slot */
		if (syncfs(s->devfd[0]) != 0)
			return herr_errno(err, HOIST_EXIT_IO, errno, "cannot sync the file system of %s",
			                  what);
		close(s->devfd[0]);
		memmove(&s->dev[0], &s->dev[1], (SYNC_DEVS - 1) * sizeof(s->dev[0]));
		memmove(&s->devfd[0], &s->devfd[1], (SYNC_DEVS - 1) * sizeof(s->devfd[0]));
		s->n_dev--;
	}
	fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return herr_errno(err, HOIST_EXIT_IO, errno, "cannot duplicate the directory fd of %s", what);
	s->dev[s->n_dev] = st.st_dev;
	s->devfd[s->n_dev++] = fd;
	return 0;
}

/* Keeps (a duplicate of) fd to be fsync'd, until there are too many. */
static int syncset_keep(struct syncset *s, int fd, const char *what, struct herr *err)
{
	struct stat st;
	int d;
	if (s->overflow)
		return 0;
	if (fstat(fd, &st) != 0)
		return herr_errno(err, HOIST_EXIT_IO, errno, "cannot stat %s", what);
	for (size_t i = 0; i < s->n_fd; i++)
		if (s->fd_ino[i] == st.st_ino && s->fd_dev[i] == st.st_dev)
			return 0;
	if (s->n_fd == SYNC_FDS) {
		for (size_t i = 0; i < s->n_fd; i++)
			close(s->fd[i]);
		s->n_fd = 0;
		s->overflow = true;
		return 0;
	}
	d = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (d < 0)
		return herr_errno(err, HOIST_EXIT_IO, errno, "cannot duplicate the fd of %s", what);
	s->fd_dev[s->n_fd] = st.st_dev;
	s->fd_ino[s->n_fd] = st.st_ino;
	s->fd[s->n_fd++] = d;
	return 0;
}

/* Makes everything written durable: data, inodes and directory entries
 * (renames, mkdirs, modes). Errors of any writeback are reported (syncfs
 * since Linux 5.8). */
static int syncset_sync(struct syncset *s, struct herr *err)
{
	if (s->overflow) {
		for (size_t i = 0; i < s->n_dev; i++)
			if (syncfs(s->devfd[i]) != 0)
				return herr_errno(err, HOIST_EXIT_IO, errno,
				                  "cannot sync the installed files to disk");
		return 0;
	}
	for (size_t i = 0; i < s->n_fd; i++)
		/* EINVAL: a directory on a file system that cannot sync one */
		if (fsync(s->fd[i]) != 0 && errno != EINVAL)
			return herr_errno(err, HOIST_EXIT_IO, errno,
			                  "cannot sync the installed files to disk");
	return 0;
}

static void syncset_close(struct syncset *s)
{
	for (size_t i = 0; i < s->n_fd; i++)
		close(s->fd[i]);
	for (size_t i = 0; i < s->n_dev; i++)
		close(s->devfd[i]);
	s->n_fd = 0;
	s->n_dev = 0;
}

/* The open parent directory of the previous action, reused for its siblings. */
struct pcache {
	char path[PATH_MAX];
	int fd;
};

/* Closes the cached directory (its new entries are made durable by syncset_sync). */
static void pcache_drop(struct pcache *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->path[0] = '\0';
}

/* The parent directory of x, opened with apply's symlink policy; it (it gets
 * a new entry) and its file system join ss. */
static int parent_fd(struct pcache *c, struct syncset *ss, int rootfd, const struct install_plan *pl,
                     const struct action *x, struct herr *err)
{
	struct apply_walk w = {pl, x};
	size_t plen = (size_t)(instfs_base(x->path) - x->path);
	if (c->fd >= 0 && strlen(c->path) == plen && memcmp(c->path, x->path, plen) == 0)
		return c->fd;
	pcache_drop(c);
	c->fd = instfs_open_parent(rootfd, x->path, apply_follow, &w, err);
	if (c->fd < 0)
		return -1;
	memcpy(c->path, x->path, plen);
	c->path[plen] = '\0';
	if (syncset_fs(ss, c->fd, x->path, err) != 0 || syncset_keep(ss, c->fd, x->path, err) != 0)
		return -1;
	return c->fd;
}

static const struct perm_rule *rule_of(const struct install_plan *pl, const struct action *x)
{
	return x->perm >= 0 ? &pl->rules[x->perm] : NULL;
}

static int hash_fd(int fd, const char *what, char hex[SHA256_HEX_LEN + 1], struct herr *err);

/* What apply did for one action: the installed list's final fields. */
struct done {
	char sha[SHA256_HEX_LEN + 1]; /* F: the copy's sha256 */
	int mode;                     /* D: the recorded mode */
	bool rec;                     /* D: recorded (owned by this revision) */
};

/* Creates (or takes over) one directory. */
static int apply_dir(const struct install_plan *pl, struct action *x, int pfd, struct instlist_writer *w,
                     struct done *d, struct syncset *ss, struct herr *err)
{
	const char *base = instfs_base(x->path);
	struct stat st;
	int fd = -1;
	int rc = -1;

	if (!x->owned) {
		/* existed at plan time and is not ours: only check it is still a directory */
		if (fstatat(pfd, base, &st, 0) == 0 && S_ISDIR(st.st_mode))
			return 0;
		if (errno != ENOENT)
			return herr_set(err, HOIST_EXIT_IO, "%s is no longer a directory", x->path);
		log_warnx("%s disappeared since the plan; creating it", x->path);
		/* not in the list written ahead: recorded (durably) before it is created */
		if (instlist_append(w, 'D', NULL, perms_final_mode(rule_of(pl, x), x->mode), x->path, NULL,
		                    err) != 0 ||
		    instlist_sync(w, err) != 0)
			return -1;
		x->owned = true;
	}
	d->rec = true;
	if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISDIR(st.st_mode))
			return herr_set(err, HOIST_EXIT_IO,
			                "%s appeared since the plan and is not a "
			                "directory",
			                x->path);
		/* owned by the previous revision and not empty: ownership carries over */
		d->mode = perms_final_mode(rule_of(pl, x), (int)(st.st_mode & 07777));
		return 0;
	}
	d->mode = perms_final_mode(rule_of(pl, x), x->mode);
	if (mkdirat(pfd, base, (mode_t)x->mode) != 0)
		return herr_errno(err, HOIST_EXIT_IO, errno, "cannot create directory %s", x->path);
	/* the exact mode whatever the umask */
	fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fchmod(fd, (mode_t)x->mode) != 0) {
		herr_errno(err, HOIST_EXIT_IO, errno, "cannot set the mode of %s", x->path);
		goto out;
	}
	if (syncset_keep(ss, fd, x->path, err) != 0)
		goto out;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Copies one file: temp name beside it, hash while copying, mode, ownership,
 * rename. Not synced here: install_apply makes all copies durable at once. */
static int apply_file(const struct install_plan *pl, const struct action *x, int pfd, struct done *d,
                      struct syncset *ss, struct herr *err)
{
	char tmp[NAME_MAX + 1];
	uint8_t sha[SHA256_LEN];
	const struct perm_rule *r = rule_of(pl, x);
	struct stat st;
	bool tmp_made = false;
	int sfd = -1;
	int tfd = -1;
	int rc = -1;

	sfd = open(x->src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (sfd < 0 || fstat(sfd, &st) != 0 || !S_ISREG(st.st_mode)) {
		herr_errno(err, HOIST_EXIT_IO, sfd < 0 ? errno : EINVAL, "cannot open bundle file %s",
		           x->src);
		goto out;
	}
	instfs_tmp_name(instfs_base(x->path), tmp);
	if (unlinkat(pfd, tmp, 0) != 0 && errno != ENOENT) {
		herr_errno(err, HOIST_EXIT_IO, errno, "cannot remove stale temporary file beside %s",
		           x->path);
		goto out;
	}
	/* linked install: the tree's inode gets the destination's temporary name,
	 * nothing is written again; its mode is already the final one and no
	 * permissions rule reaches it (instlink.h), so only the rename is left */
	if (pl->links && !hook_script(pl, x->src)) {
		int lk = instlink_try(x->src, sfd, &st, pfd, tmp, x->mode, r != NULL, x->path, &tfd, err);
		if (lk < 0)
			goto out;
		if (lk == 1) {
			tmp_made = true;
			/* no writeback to start: unpacking started it (bundle.c) */
			if (hash_fd(sfd, x->path, d->sha, err) != 0)
				goto out;
			goto place;
		}
	}
	tfd = openat(pfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (tfd < 0) {
		herr_errno(err, HOIST_EXIT_IO, errno, "cannot create a temporary file beside %s", x->path);
		goto out;
	}
	tmp_made = true;
	/* On a file system with reflinks (XFS, btrfs) the copy shares the tree's
	 * extents copy-on-write: a new inode all the same, so a hook editing the
	 * installed file never changes the kept tree; the source is then hashed.
	 * Elsewhere (ext4, another file system: EOPNOTSUPP, EXDEV...) it is copied. */
	if (ioctl(tfd, FICLONE, sfd) == 0) {
		if (hash_fd(sfd, x->path, d->sha, err) != 0)
			goto out;
	} else {
		if (instfs_copy(sfd, tfd, x->path, sha, err) != 0)
			goto out;
		hex_encode(sha, SHA256_LEN, d->sha);
		/* start the writeback now, so the final sync finds little left to write */
		(void)sync_file_range(tfd, 0, 0, SYNC_FILE_RANGE_WRITE);
	}
	/* mode and ownership before the rename: the file never appears with looser ones */
	if (fchmod(tfd, (mode_t)x->mode) != 0) {
		herr_errno(err, HOIST_EXIT_IO, errno, "cannot chmod %s", x->path);
		goto out;
	}
	if (r != NULL && perms_apply_fd(tfd, r, x->path, err) != 0)
		goto out;
place:
	/* rename replaces a destination symlink instead of writing through it */
	if (renameat(pfd, tmp, pfd, instfs_base(x->path)) != 0) {
		herr_errno(err, HOIST_EXIT_IO, errno, "cannot rename the new %s into place", x->path);
		goto out;
	}
	tmp_made = false;
	if (syncset_keep(ss, tfd, x->path, err) != 0)
		goto out;
	rc = 0;
out:
	if (tfd >= 0)
		close(tfd);
	if (tmp_made)
		(void)unlinkat(pfd, tmp, 0);
	if (sfd >= 0)
		close(sfd);
	return rc;
}

/* Creates one symlink under a temp name, then renames it into place. */
static int apply_link(const struct action *x, int pfd, struct herr *err)
{
	char tmp[NAME_MAX + 1];
	instfs_tmp_name(instfs_base(x->path), tmp);
	if (unlinkat(pfd, tmp, 0) != 0 && errno != ENOENT)
		return herr_errno(err, HOIST_EXIT_IO, errno,
		                  "cannot remove stale temporary link "
		                  "beside %s",
		                  x->path);
	if (symlinkat(x->src, pfd, tmp) != 0)
		return herr_errno(err, HOIST_EXIT_IO, errno, "cannot create symlink %s", x->path);
	if (renameat(pfd, tmp, pfd, instfs_base(x->path)) != 0) {
		int e = errno;
		(void)unlinkat(pfd, tmp, 0);
		return herr_errno(err, HOIST_EXIT_IO, e, "cannot rename the new link %s into place", x->path);
	}
	return 0;
}

/* Applies permissions to the directories this revision owns, deepest first
 * (so a restrictive mode on a parent cannot block its children). */
static int apply_dir_perms(const struct install_plan *pl, int rootfd, struct syncset *ss, struct herr *err)
{
	for (size_t k = pl->n; k-- > 0;) {
		const struct action *x = &pl->a[k];
		struct apply_walk w = {pl, x};
		int pfd;
		int fd;
		int rc;
		if (x->kind != ACT_DIR || x->skip || !x->owned || x->perm < 0)
			continue;
		pfd = instfs_open_parent(rootfd, x->path, apply_follow, &w, err);
		if (pfd < 0)
			return -1;
		fd = openat(pfd, instfs_base(x->path), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(pfd);
		if (fd < 0)
			return herr_errno(err, HOIST_EXIT_IO, errno, "cannot open directory %s", x->path);
		rc = perms_apply_fd(fd, &pl->rules[x->perm], x->path, err);
		if (rc == 0)
			rc = syncset_keep(ss, fd, x->path, err);
		close(fd);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* Writes one line per action into w: ahead (d NULL: every path that may be
 * written, sha pending) or final (d: what apply recorded). */
static int write_lines(const struct install_plan *pl, const struct done *d, struct instlist_writer *w,
                       struct herr *err)
{
	for (size_t k = 0; k < pl->n; k++) {
		const struct action *x = &pl->a[k];
		const struct perm_rule *r = rule_of(pl, x);
		int rc = 0;
		if (x->skip)
			continue;
		if (x->kind == ACT_DIR && (d ? d[k].rec : x->owned))
			rc = instlist_append(w, 'D', NULL, d ? d[k].mode : perms_final_mode(r, x->mode),
			                     x->path, NULL, err);
		if (x->kind == ACT_FILE)
			rc = instlist_append(w, 'F', d ? d[k].sha : NULL, perms_final_mode(r, x->mode),
			                     x->path, NULL, err);
		if (x->kind == ACT_LINK)
			rc = instlist_append(w, 'L', NULL, -1, x->path, NULL, err);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* Replaces the list written ahead by the final one (real sha256s) through a
 * temporary file and a rename: a crash leaves one whole list or the other. */
static int write_final(const struct install_plan *pl, const struct done *d, struct herr *err)
{
	char tmp[PATH_MAX];
	struct instlist_writer w = {.fd = -1, .batch = true};
	struct herr ignore = {0};
	int n = snprintf(tmp, sizeof(tmp), "%s.new", pl->new_list);
	int rc = -1;

	if (n < 0 || (size_t)n >= sizeof(tmp))
		return herr_set(err, HOIST_EXIT_IO, "path too long: %.200s", pl->new_list);
	if (instlist_create(&w, tmp, err) != 0 || write_lines(pl, d, &w, err) != 0)
		goto out;
	if (instlist_close(&w, err) != 0)
		goto out;
	if (rename(tmp, pl->new_list) != 0) {
		herr_errno(err, HOIST_EXIT_IO, errno, "cannot rename %s", tmp);
		goto out;
	}
	/* The directory is not fsync'd here: the caller renames the list to its
	 * final name in the same directory next and fsyncs it then (deploy.c
	 * run_install), which makes this rename and tree.list's durable too.
	 * Lost before that, the list written ahead (a superset) is what undo reads. */
	rc = 0;
out:
	(void)instlist_close(&w, &ignore);
	if (rc != 0)
		(void)unlink(tmp);
	return rc;
}

/* Records the tree files used (instlink_record): "<sha> <path in the tree>". */
static int record_links(const struct install_plan *pl, const struct done *d, struct herr *err)
{
	struct buf b;
	size_t tl = strlen(pl->tree);
	int rc = -1;
	buf_init(&b, (size_t)1 << 30);
	for (size_t k = 0; pl->record_tree && k < pl->n; k++) {
		const char *src = pl->a[k].src;
		if (pl->a[k].kind != ACT_FILE || pl->a[k].skip)
			continue;
		if (strncmp(src, pl->tree, tl) != 0 || src[tl] != '/') {
			herr_set(err, HOIST_EXIT_INTERNAL, "installed source %s is outside the tree", src);
			goto out;
		}
		if (buf_printf(&b, "%s %s\n", d[k].sha, src + tl + 1) != 0) {
			herr_set(err, HOIST_EXIT_INTERNAL, "out of memory recording the tree files");
			goto out;
		}
	}
	rc = instlink_record(pl->new_list, b.data ? b.data : "", b.len, err);
out:
	buf_free(&b);
	return rc;
}

/* Durability by batching, in this order (each step relies on the previous):
 *   1. the whole list is written ahead (every path that may be written, sha
 *      pending) and made durable ONCE: after a crash undo removes anything
 *      that may have reached the host;
 *   2. every copy goes through a temporary name and a rename, without an
 *      fsync each (writeback is started per file);
 *   3. data, modes and directory entries are made durable together (an
 *      fsync of each fd written, or syncfs for a large install);
 *   4. only then the list is rewritten, atomically, with the real sha256s. */
int install_apply(struct install_plan *pl, struct herr *err)
{
	struct instlist_writer w = {.fd = -1, .batch = true};
	struct pcache c = {.fd = -1};
	struct syncset *ss = NULL;
	struct herr ignore = {0};
	struct done *d = NULL;
	int rootfd = -1;
	int rc = -1;

	if (pl->prev_list != NULL && install_undo(pl->prev_list, pl->root, err) != 0) {
		herr_prefix(err, "removing the previous revision's files");
		goto out;
	}
	if ((rootfd = open_root(pl->root, err)) < 0)
		goto out;
	d = calloc(pl->n ? pl->n : 1, sizeof(*d));
	ss = calloc(1, sizeof(*ss));
	if (d == NULL || ss == NULL) {
		herr_set(err, HOIST_EXIT_INTERNAL, "out of memory installing %zu entries", pl->n);
		goto out;
	}
	if (instlist_create(&w, pl->new_list, err) != 0 || write_lines(pl, NULL, &w, err) != 0 ||
	    instlist_sync(&w, err) != 0)
		goto out;
	for (size_t k = 0; k < pl->n; k++) {
		struct action *x = &pl->a[k];
		int pfd;
		if (x->skip)
			continue;
		pfd = parent_fd(&c, ss, rootfd, pl, x, err);
		if (pfd < 0)
			goto out;
		if (x->kind == ACT_DIR && apply_dir(pl, x, pfd, &w, &d[k], ss, err) != 0)
			goto out;
		if (x->kind == ACT_FILE && apply_file(pl, x, pfd, &d[k], ss, err) != 0)
			goto out;
		if (x->kind == ACT_LINK && apply_link(x, pfd, err) != 0)
			goto out;
	}
	pcache_drop(&c);
	if (apply_dir_perms(pl, rootfd, ss, err) != 0 || syncset_sync(ss, err) != 0)
		goto out;
	/* what the kept tree held (and now shares with the host), durable before
	 * the list says the install is complete */
	if (record_links(pl, d, err) != 0)
		goto out;
	if (instlist_close(&w, err) != 0 || write_final(pl, d, err) != 0)
		goto out;
	rc = 0;
out:
	pcache_drop(&c);
	if (ss != NULL)
		syncset_close(ss);
	free(ss);
	(void)instlist_close(&w, &ignore);
	if (rootfd >= 0)
		close(rootfd);
	free(d);
	return rc;
}

/* undo's and verify's symlink policy: a directory the list says hoist created
 * is never followed; other ancestors (/var -> /data) may be. */
static bool list_follow(const void *ctx, const char *path, size_t len, size_t depth)
{
	const struct inst_list *l = ctx;
	char prefix[PATH_MAX];
	const struct inst_entry *e;
	(void)depth;
	if (len >= sizeof(prefix))
		return false;
	memcpy(prefix, path, len);
	prefix[len] = '\0';
	e = instlist_find(l, prefix);
	return e == NULL || e->kind != 'D';
}

/* Removes one entry (never following the final component). */
static int undo_entry(int pfd, const struct inst_entry *e, struct herr *err)
{
	const char *base = instfs_base(e->path);
	char tmp[NAME_MAX + 1];
	struct stat st;

	if (e->kind == 'D') {
		if (unlinkat(pfd, base, AT_REMOVEDIR) == 0 || errno == ENOENT || errno == ENOTEMPTY ||
		    errno == EEXIST)
			return 0;
		if (errno == ENOTDIR) {
			log_warnx("undo: %s is no longer a directory; left in place", e->path);
			return 0;
		}
		return herr_errno(err, HOIST_EXIT_IO, errno, "cannot remove directory %s", e->path);
	}
	/* a temporary file left by a crash during the copy */
	instfs_tmp_name(base, tmp);
	if (fstatat(pfd, tmp, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode))
		(void)unlinkat(pfd, tmp, 0);
	if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno == ENOENT)
			return 0;
		return herr_errno(err, HOIST_EXIT_IO, errno, "cannot stat %s", e->path);
	}
	if (S_ISDIR(st.st_mode)) {
		log_warnx("undo: %s is now a directory; left in place", e->path);
		return 0;
	}
	if (unlinkat(pfd, base, 0) != 0 && errno != ENOENT)
		return herr_errno(err, HOIST_EXIT_IO, errno, "cannot remove %s", e->path);
	return 0;
}

int install_undo(const char *list_path, const char *root, struct herr *err)
{
	struct inst_list l = {0};
	struct herr first = {0};
	struct herr e2 = {0};
	int rootfd = -1;
	int rc = -1;

	/* the whole list is validated before anything is removed */
	if (instlist_load(list_path, true, &l, err) != 0)
		goto out;
	if (l.n == 0) {
		rc = 0;
		goto out;
	}
	if ((rootfd = open_root(root, err)) < 0)
		goto out;
	for (size_t i = l.n; i-- > 0;) {
		const struct inst_entry *e = &l.e[i];
		int pfd = instfs_open_parent(rootfd, e->path, list_follow, &l, &e2);
		if (pfd < 0) {
			if (errno == ENOENT || errno == ENOTDIR)
				continue;
			if (errno == ELOOP) {
				log_warnx("undo: %s left in place: %s", e->path, e2.msg);
				continue;
			}
			if (first.code == 0)
				first = e2;
			continue;
		}
		if (undo_entry(pfd, e, &e2) != 0 && first.code == 0)
			first = e2;
		close(pfd);
	}
	if (first.code != 0) {
		*err = first;
		goto out;
	}
	rc = 0;
out:
	if (rootfd >= 0)
		close(rootfd);
	instlist_free(&l);
	return rc;
}

/* sha256 of an open file as lower-case hex. */
static int hash_fd(int fd, const char *what, char hex[SHA256_HEX_LEN + 1], struct herr *err)
{
	uint8_t sha[SHA256_LEN];
	if (sha256_fd(fd, what, sha, err) != 0)
		return -1;
	hex_encode(sha, SHA256_LEN, hex);
	return 0;
}

/* Formats a verify finding into why; a long path may be cut, which is fine
 * for a message (vsnprintf keeps the result NUL-terminated). */
__attribute__((format(printf, 3, 4)))
static void describe(char *why, size_t whysz, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	(void)vsnprintf(why, whysz, fmt, ap);
	va_end(ap);
}

/* Checks one F entry; a difference is described in why. */
static int verify_entry(int rootfd, const struct inst_list *l, const struct inst_entry *e, char *why,
                        size_t whysz)
{
	char hex[SHA256_HEX_LEN + 1];
	struct herr e2 = {0};
	struct stat st;
	int pfd = -1;
	int fd = -1;
	int rc = -1;

	if (strcmp(e->sha, INSTLIST_SHA_PENDING) == 0) {
		describe(why, whysz, "%s: its copy never finished (interrupted install)", e->path);
		goto out;
	}
	pfd = instfs_open_parent(rootfd, e->path, list_follow, l, &e2);
	if (pfd >= 0)
		fd = openat(pfd, instfs_base(e->path), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		describe(why, whysz, "%s: %s", e->path,
		               pfd < 0           ? e2.msg
		               : errno == ENOENT ? "missing"
		               : errno == ELOOP  ? "replaced by a symlink"
		                                 : strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		describe(why, whysz, "%s: no longer a regular file", e->path);
		goto out;
	}
	if (hash_fd(fd, e->path, hex, &e2) != 0) {
		describe(why, whysz, "%s", e2.msg);
		goto out;
	}
	if (strcmp(hex, e->sha) != 0) {
		describe(why, whysz, "%s: sha256 %.16s... differs from the installed %.16s...", e->path,
		               hex, e->sha);
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (pfd >= 0)
		close(pfd);
	return rc;
}

int install_verify(const char *list_path, const char *root, struct herr *err)
{
	struct inst_list l = {0};
	char why[HERR_MSG_MAX + 64] = ""; /* room for a path and a whole herr message */
	char first[HERR_MSG_MAX + 64] = "";
	size_t n_files = 0;
	size_t n_bad = 0;
	int rootfd = -1;
	int rc = -1;

	if (instlist_load(list_path, false, &l, err) != 0)
		goto out;
	if ((rootfd = open_root(root, err)) < 0)
		goto out;
	for (size_t i = 0; i < l.n; i++) {
		if (l.e[i].kind != 'F')
			continue;
		n_files++;
		if (verify_entry(rootfd, &l, &l.e[i], why, sizeof(why)) == 0)
			continue;
		if (n_bad++ == 0)
			memcpy(first, why, sizeof(first));
		log_warnx("verify: %s", why);
	}
	if (n_bad > 0) {
		herr_set(err, HOIST_EXIT_FAILED,
		         "%zu of %zu installed files differ from what was "
		         "installed; first: %s",
		         n_bad, n_files, first);
		goto out;
	}
	rc = 0;
out:
	if (rootfd >= 0)
		close(rootfd);
	instlist_free(&l);
	return rc;
}
