/* instplan.c - building an install plan: every action and every conflict is
 * found here, before anything on the host is removed or written. */
#include "instplan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "digest.h"
#include "exitcodes.h"
#include "fsutil.h"
#include "instfs.h"
#include "instlist.h"
#include "log.h"
#include "perms.h"
#include "relpath.h"

#define MAX_ACTIONS 500000u /* files + links + directories of one revision */
#define MAX_DEPTH 64u       /* directory nesting inside a source */
#define MAX_CONFLICTS 20u   /* DISALLOW conflicts listed in the error */

/* Control characters in a name are refused: a name with a newline would
 * split the installed list, and escape sequences reach terminals and logs. */
static bool has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* Adds one action; takes ownership of path and src. */
static int add_action(struct install_plan *pl, enum act_kind kind, char *path, char *src, int mode,
                      unsigned line, size_t follow_depth, struct herr *err)
{
	struct action *x;
	if (path == NULL || (src == NULL && kind != ACT_DIR)) {
		free(path);
		free(src);
		return herr_set(err, HOIST_EXIT_INTERNAL, "out of memory planning the install");
	}
	if (pl->n == MAX_ACTIONS || has_control(path) || !instlist_path_ok(path)) {
		herr_set(err, HOIST_EXIT_BAD_BUNDLE, "%s line %u: %s %s", pl->specname, line,
		         pl->n == MAX_ACTIONS ? "more than 500000 paths to install at"
		                              : "cannot install a path with a control character (newline, "
		                                "escape...) or an unusable name:",
		         relpath_show(path));
		free(path);
		free(src);
		return -1;
	}
	if (pl->n == pl->cap) {
		size_t ncap = pl->cap ? pl->cap * 2 : 64;
		struct action *na = realloc(pl->a, ncap * sizeof(*na));
		if (na == NULL) {
			free(path);
			free(src);
			return herr_set(err, HOIST_EXIT_INTERNAL, "out of memory planning the install");
		}
		pl->a = na;
		pl->cap = ncap;
	}
	x = &pl->a[pl->n++];
	memset(x, 0, sizeof(*x));
	x->kind = kind;
	x->path = path;
	x->src = src;
	x->mode = mode;
	x->line = line;
	x->follow_depth = follow_depth;
	x->perm = -1;
	return 0;
}

/* Plans directory actions for dest and every ancestor of it. */
static int plan_destination(struct install_plan *pl, const char *dest, unsigned line, struct herr *err)
{
	size_t len = strlen(dest);
	/* "/" itself always exists and is never planned */
	for (size_t i = 1; len > 1 && i <= len; i++) {
		if (i < len && dest[i] != '/')
			continue;
		if (add_action(pl, ACT_DIR, strndup(dest, i), NULL, DIR_MODE, line, instfs_depth(dest),
		               err) != 0)
			return -1;
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Plans one entry of a bundle directory (never following a bundle symlink). */
static int plan_entry(struct install_plan *pl, int dfd, const char *name, const char *src, const char *dst,
                      unsigned line, size_t fdepth, unsigned depth, struct herr *err);

/* Plans the contents of bundle directory src into dst, sorted by name. */
static int plan_dir(struct install_plan *pl, const char *src, const char *dst, unsigned line, size_t fdepth,
                    unsigned depth, struct herr *err)
{
	DIR *d = NULL;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;
	size_t cap = 0;
	int fd = -1;
	int rc = -1;

	if (depth > MAX_DEPTH) {
		herr_set(err, HOIST_EXIT_BAD_BUNDLE, "%s line %u: %s is nested deeper than %u directories",
		         pl->specname, line, relpath_show(src), MAX_DEPTH);
		goto out;
	}
	fd = open(src, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		herr_errno(err, HOIST_EXIT_BAD_BUNDLE, errno, "cannot read bundle directory %s",
		           relpath_show(src));
		goto out;
	}
	fd = -1;
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 32;
			char **nn = realloc(names, ncap * sizeof(*nn));
			if (nn == NULL)
				goto oom;
			names = nn;
			cap = ncap;
		}
		if ((names[n] = strdup(de->d_name)) == NULL)
			goto oom;
		n++;
	}
	if (errno != 0) {
		herr_errno(err, HOIST_EXIT_BAD_BUNDLE, errno, "cannot read bundle directory %s",
		           relpath_show(src));
		goto out;
	}
	if (n > 1) /* names is NULL for an empty directory: qsort must not see it */
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		char s[PATH_MAX];
		char t[PATH_MAX];
		if (fs_path_join(s, sizeof(s), src, names[i]) != 0 ||
		    fs_path_join(t, sizeof(t), dst, names[i]) != 0) {
			herr_set(err, HOIST_EXIT_BAD_BUNDLE, "%s line %u: path too long under %s",
			         pl->specname, line, relpath_show(dst));
			goto out;
		}
		if (plan_entry(pl, dirfd(d), names[i], s, t, line, fdepth, depth, err) != 0)
			goto out;
	}
	rc = 0;
	goto out;
oom:
	herr_set(err, HOIST_EXIT_INTERNAL, "out of memory reading %s", relpath_show(src));
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (d != NULL)
		closedir(d);
	if (fd >= 0)
		close(fd);
	return rc;
}

static int plan_entry(struct install_plan *pl, int dfd, const char *name, const char *src, const char *dst,
                      unsigned line, size_t fdepth, unsigned depth, struct herr *err)
{
	struct stat st;
	char target[PATH_MAX];
	ssize_t tl;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return herr_errno(err, HOIST_EXIT_BAD_BUNDLE, errno, "%s line %u: cannot stat source %s",
		                  pl->specname, line, relpath_show(src));
	if (S_ISDIR(st.st_mode)) {
		if (add_action(pl, ACT_DIR, strdup(dst), NULL, DIR_MODE, line, fdepth, err) != 0)
			return -1;
		return plan_dir(pl, src, dst, line, fdepth, depth + 1, err);
	}
	if (S_ISREG(st.st_mode))
		/* setuid/setgid are dropped: hoist does not keep the archive's owner,
		 * so the bits would apply to root; permissions may set them explicitly */
		return add_action(pl, ACT_FILE, strdup(dst), strdup(src),
		                  (int)(st.st_mode & 07777 & ~(mode_t)(S_ISUID | S_ISGID)), line, fdepth,
		                  err);
	if (S_ISLNK(st.st_mode)) {
		/* copied as a link with the same text, never followed (reference bug #152) */
		tl = readlinkat(dfd, name, target, sizeof(target) - 1);
		if (tl < 0 || (size_t)tl >= sizeof(target) - 1)
			return herr_errno(err, HOIST_EXIT_BAD_BUNDLE, tl < 0 ? errno : ENAMETOOLONG,
			                  "%s line %u: cannot read symlink %s", pl->specname, line,
			                  relpath_show(src));
		target[tl] = '\0';
		return add_action(pl, ACT_LINK, strdup(dst), strdup(target), -1, line, fdepth, err);
	}
	return herr_set(err, HOIST_EXIT_BAD_BUNDLE,
	                "%s line %u: %s is not a regular file, directory "
	                "or symlink (device, fifo or socket); refused",
	                pl->specname, line, relpath_show(src));
}

/* 1 if a relative path has a ".." component. */
static bool has_dotdot(const char *s)
{
	while (*s != '\0') {
		size_t n = strcspn(s, "/");
		if (n == 2 && s[0] == '.' && s[1] == '.')
			return true;
		s += n;
		while (*s == '/')
			s++;
	}
	return false;
}

/* Plans one files entry. */
static int plan_file_entry(struct install_plan *pl, const struct appspec_file *f, struct herr *err)
{
	char src[PATH_MAX];
	char dst[PATH_MAX];
	char dir[PATH_MAX];
	const char *slash;
	struct stat st;
	size_t fdepth = instfs_depth(f->destination);
	int dfd = -1;
	int rc;

	if (f->destination[0] != '/')
		return herr_set(err, HOIST_EXIT_BAD_BUNDLE, "%s line %u: destination %s is not absolute",
		                pl->specname, f->line, relpath_show(f->destination));
	if (has_dotdot(f->source))
		return herr_set(err, HOIST_EXIT_BAD_BUNDLE, "%s line %u: source %s leaves the bundle",
		                pl->specname, f->line, relpath_show(f->source));
	if (fs_path_join(src, sizeof(src), pl->tree, f->source) != 0)
		return herr_set(err, HOIST_EXIT_BAD_BUNDLE, "%s line %u: source path too long", pl->specname,
		                f->line);
	if (plan_destination(pl, f->destination, f->line, err) != 0)
		return -1;
	if (lstat(src, &st) != 0)
		return herr_errno(err, HOIST_EXIT_BAD_BUNDLE, errno, "%s line %u: source %s", pl->specname,
		                  f->line, relpath_show(f->source[0] ? f->source : "/"));
	if (S_ISDIR(st.st_mode))
		return plan_dir(pl, src, f->destination, f->line, fdepth, 0, err);
	/* a file or link goes to destination/basename; the destination is a directory */
	slash = strrchr(src, '/');
	if (slash == NULL || (size_t)(slash - src) >= sizeof(dir) ||
	    fs_path_join(dst, sizeof(dst), f->destination, slash + 1) != 0)
		return herr_set(err, HOIST_EXIT_BAD_BUNDLE, "%s line %u: path too long", pl->specname,
		                f->line);
	memcpy(dir, src, (size_t)(slash - src));
	dir[slash - src] = '\0';
	dfd = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return herr_errno(err, HOIST_EXIT_BAD_BUNDLE, errno, "cannot open %s", relpath_show(dir));
	rc = plan_entry(pl, dfd, slash + 1, src, dst, f->line, fdepth, 0, err);
	close(dfd);
	return rc;
}

static const struct install_plan *sort_plan; /* qsort has no context argument */

static int cmp_action(const void *a, const void *b)
{
	size_t ia = *(const size_t *)a;
	size_t ib = *(const size_t *)b;
	int c = strcmp(sort_plan->a[ia].path, sort_plan->a[ib].path);
	if (c != 0)
		return c;
	return ia < ib ? -1 : ia > ib;
}

/* Finds duplicate targets; keeps the first of equal directories. */
static int plan_dedup(struct install_plan *pl, struct herr *err)
{
	size_t *idx = calloc(pl->n ? pl->n : 1, sizeof(size_t));
	size_t i = 0;
	int rc = -1;
	if (idx == NULL || (pl->uniq = calloc(pl->n ? pl->n : 1, sizeof(size_t))) == NULL) {
		herr_set(err, HOIST_EXIT_INTERNAL, "out of memory planning the install");
		goto out;
	}
	for (size_t k = 0; k < pl->n; k++)
		idx[k] = k;
	sort_plan = pl;
	qsort(idx, pl->n, sizeof(size_t), cmp_action);
	sort_plan = NULL;
	while (i < pl->n) {
		size_t j = i + 1;
		const struct action *first = &pl->a[idx[i]];
		while (j < pl->n && strcmp(pl->a[idx[j]].path, first->path) == 0) {
			const struct action *o = &pl->a[idx[j]];
			if (first->kind == ACT_DIR && o->kind == ACT_DIR) {
				pl->a[idx[j]].skip = true;
			} else if (first->kind == ACT_DIR || o->kind == ACT_DIR) {
				const struct action *d = first->kind == ACT_DIR ? first : o;
				const struct action *f = first->kind == ACT_DIR ? o : first;
				herr_set(err, HOIST_EXIT_BAD_BUNDLE,
				         "%s: duplicate target %s: line %u installs "
				         "a file there and line %u creates it as a directory",
				         pl->specname, relpath_show(first->path), f->line, d->line);
				goto out;
			} else {
				herr_set(err, HOIST_EXIT_BAD_BUNDLE,
				         "%s: duplicate target %s: installed by "
				         "line %u and by line %u",
				         pl->specname, relpath_show(first->path), first->line, o->line);
				goto out;
			}
			j++;
		}
		pl->uniq[pl->n_uniq++] = idx[i];
		i = j;
	}
	rc = 0;
out:
	free(idx);
	return rc;
}

/* The kept action at path, or NULL. */
struct action *instplan_find(const struct install_plan *pl, const char *path)
{
	size_t lo = 0;
	size_t hi = pl->n_uniq;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(pl->a[pl->uniq[mid]].path, path);
		if (c == 0)
			return &pl->a[pl->uniq[mid]];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Appends a conflict to the message under construction (bounded: the error
 * names the first MAX_CONFLICTS paths and the total count). */
static void note_conflict(struct buf *b, size_t *count, const char *path)
{
	(*count)++;
	if (*count <= MAX_CONFLICTS)
		(void)buf_printf(b, "%s%s", *count > 1 ? ", " : "", relpath_show(path));
}

/* Compares every kept action with the host and the previous list; sets owned/skip. */
static int plan_host(struct install_plan *pl, const struct inst_list *prev, enum file_exists_behavior feb,
                     struct herr *err)
{
	struct buf conflicts;
	size_t n_conflicts = 0;
	int rc = -1;

	buf_init(&conflicts, 8192);
	for (size_t k = 0; k < pl->n; k++) {
		struct action *x = &pl->a[k];
		char host[PATH_MAX];
		struct stat st;
		const struct inst_entry *pe;
		bool prev_file;
		if (x->skip)
			continue;
		if (fs_rooted(host, sizeof(host), pl->root, x->path) != 0) {
			herr_set(err, HOIST_EXIT_BAD_BUNDLE, "path too long under the root: %s", relpath_show(x->path));
			goto out;
		}
		pe = instlist_find(prev, x->path);
		/* the previous revision's files and links are removed before copying */
		prev_file = pe != NULL && pe->kind != 'D';
		if (lstat(host, &st) != 0) {
			if (errno != ENOENT && errno != ENOTDIR) {
				herr_errno(err, HOIST_EXIT_IO, errno, "cannot stat %s", relpath_show(host));
				goto out;
			}
			x->owned = true;
			continue;
		}
		if (x->kind == ACT_DIR) {
			struct stat tst;
			if (S_ISDIR(st.st_mode)) {
				/* an existing directory is never a conflict; ownership carries over */
				x->owned = pe != NULL && pe->kind == 'D';
			} else if (prev_file) {
				x->owned = true;
			} else if (S_ISLNK(st.st_mode) && instfs_depth(x->path) <= x->follow_depth &&
			           stat(host, &tst) == 0 && S_ISDIR(tst.st_mode)) {
				log_debug("%s is a symlink to a directory in a destination path; followed",
				          relpath_show(x->path));
			} else {
				herr_set(err, HOIST_EXIT_FAILED,
				         "%s line %u: %s exists and is %s, but the "
				         "bundle needs a directory there",
				         pl->specname, x->line, relpath_show(x->path),
				         S_ISLNK(st.st_mode)
				             ? "a symlink (hoist follows symlinks only in the "
				               "path of a files destination)"
				             : "not a directory");
				goto out;
			}
			continue;
		}
		if (S_ISDIR(st.st_mode) && instlist_empties_dir(prev, host, x->path)) {
			/* the previous revision's directory, removed by undo before copying */
			x->owned = true;
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			herr_set(err, HOIST_EXIT_FAILED,
			         "%s line %u: a directory exists at %s where the "
			         "bundle has a file",
			         pl->specname, x->line, relpath_show(x->path));
			goto out;
		}
		if (prev_file || feb == FEB_OVERWRITE) {
			x->owned = true;
		} else if (feb == FEB_RETAIN) {
			log_info("file_exists_behavior RETAIN: keeping existing %s", relpath_show(x->path));
			x->skip = true;
		} else {
			note_conflict(&conflicts, &n_conflicts, x->path);
		}
	}
	if (n_conflicts == 1) {
		herr_set(err, HOIST_EXIT_FAILED,
		         "file already exists at %s (not installed by hoist's "
		         "previous revision); set file_exists_behavior: OVERWRITE or RETAIN in %s to "
		         "allow this",
		         conflicts.data, pl->specname);
		goto out;
	}
	if (n_conflicts > 1) {
		herr_set(err, HOIST_EXIT_FAILED,
		         "%zu files already exist (not installed by hoist's "
		         "previous revision); set file_exists_behavior: OVERWRITE or RETAIN in %s to "
		         "allow this: %s%s",
		         n_conflicts, pl->specname, conflicts.data,
		         n_conflicts > MAX_CONFLICTS ? ", ..." : "");
		goto out;
	}
	rc = 0;
out:
	buf_free(&conflicts);
	return rc;
}

/* Assigns each permissions entry to the owned paths it reaches; overlaps fail. */
static int plan_perms(struct install_plan *pl, const struct appspec *spec, struct herr *err)
{
	if (perms_resolve(spec, &pl->rules, err) != 0)
		return -1;
	pl->n_rules = spec->n_permissions;
	for (size_t r = 0; r < pl->n_rules; r++) {
		const struct appspec_permission *p = &spec->permissions[r];
		const struct action *obj = instplan_find(pl, p->object);
		bool object_is_file = obj != NULL && obj->kind == ACT_FILE && !obj->skip;
		if (object_is_file && perms_check_file_object(spec, p, err) != 0)
			return -1;
		for (size_t k = 0; k < pl->n; k++) {
			struct action *x = &pl->a[k];
			/* symlinks are never chmod'ed or chown'ed: that would reach their target */
			if (x->skip || !x->owned || x->kind == ACT_LINK)
				continue;
			if (!perms_match(p, object_is_file, x->path, x->kind == ACT_DIR))
				continue;
			if (x->perm >= 0)
				return herr_set(err, HOIST_EXIT_BAD_BUNDLE,
				                "%s: permissions setting for %s is "
				                "specified more than once (lines %u and %u)",
				                pl->specname, relpath_show(x->path), spec->permissions[x->perm].line,
				                p->line);
			x->perm = (int)r;
		}
	}
	return 0;
}

int instplan_build(const struct install_opts *opts, struct install_plan **out, struct herr *err)
{
	struct install_plan *pl = NULL;
	struct inst_list prev = {0};
	enum file_exists_behavior feb;
	int rc = -1;

	*out = NULL;
	pl = calloc(1, sizeof(*pl));
	if (pl == NULL)
		return herr_set(err, HOIST_EXIT_INTERNAL, "out of memory planning the install");
	pl->root = strdup(opts->root ? opts->root : "");
	pl->tree = strdup(opts->tree);
	pl->new_list = strdup(opts->new_list);
	pl->prev_list = opts->prev_list ? strdup(opts->prev_list) : NULL;
	pl->specname = opts->spec->filename ? opts->spec->filename : "appspec.yml";
	if (pl->root == NULL || pl->tree == NULL || pl->new_list == NULL ||
	    (opts->prev_list && pl->prev_list == NULL)) {
		herr_set(err, HOIST_EXIT_INTERNAL, "out of memory planning the install");
		goto out;
	}
	for (size_t i = 0; i < opts->spec->n_files; i++)
		if (plan_file_entry(pl, &opts->spec->files[i], err) != 0)
			goto out;
	if (plan_dedup(pl, err) != 0)
		goto out;
	if (pl->prev_list != NULL && instlist_load(pl->prev_list, true, &prev, err) != 0)
		goto out;
	feb = opts->spec->file_exists_behavior == FEB_UNSET ? FEB_DISALLOW : opts->spec->file_exists_behavior;
	if (plan_host(pl, &prev, feb, err) != 0 || plan_perms(pl, opts->spec, err) != 0)
		goto out;
	*out = pl;
	pl = NULL;
	rc = 0;
out:
	instlist_free(&prev);
	instplan_free(pl);
	return rc;
}

void instplan_free(struct install_plan *pl)
{
	if (pl == NULL)
		return;
	for (size_t i = 0; i < pl->n; i++) {
		free(pl->a[i].path);
		free(pl->a[i].src);
	}
	free(pl->a);
	free(pl->uniq);
	free(pl->rules);
	free(pl->root);
	free(pl->tree);
	free(pl->prev_list);
	free(pl->new_list);
	free(pl);
}
