/* instlist.c - reading and writing the installed list. */
#include "instlist.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "exitcodes.h"
#include "fsutil.h"

bool instlist_path_ok(const char *path)
{
	const char *p = path;
	size_t len = strlen(path);
	if (len < 2 || len >= PATH_MAX || path[0] != '/' || path[len - 1] == '/')
		return false;
	if (strchr(path, '\n') != NULL)
		return false;
	while (*p == '/') {
		const char *c = p + 1;
		size_t n = strcspn(c, "/");
		/* "..", "." and empty components could walk or alias outside what was installed */
		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		p = c + n;
	}
	return true;
}

/* Parses "-" or 1-4 octal digits. */
static int parse_mode(const char *s, size_t n, int *mode)
{
	int v = 0;
	if (n == 1 && s[0] == '-') {
		*mode = -1;
		return 0;
	}
	if (n == 0 || n > 5)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '7')
			return -1;
		v = v * 8 + (s[i] - '0');
	}
	if (v > 07777)
		return -1;
	*mode = v;
	return 0;
}

/* Checks a sha field: 64 lower-case hex digits, or the pending marker. */
static bool sha_ok(const char *s, size_t n)
{
	if (n != SHA256_HEX_LEN)
		return false;
	if (memcmp(s, INSTLIST_SHA_PENDING, n) == 0)
		return true;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* Parses one line (without its newline) into e; path is strdup'ed. */
static int parse_line(const char *s, size_t len, unsigned lineno, const char *file, struct inst_entry *e,
                      struct herr *err)
{
	const char *f[3];
	size_t fl[3];
	const char *p = s;
	const char *end = s + len;
	if (len < 2 || (s[0] != 'F' && s[0] != 'L' && s[0] != 'D') || s[1] != ' ')
		goto bad;
	p = s + 2;
	for (int i = 0; i < 2; i++) {
		const char *sp = memchr(p, ' ', (size_t)(end - p));
		if (sp == NULL)
			goto bad;
		f[i] = p;
		fl[i] = (size_t)(sp - p);
		p = sp + 1;
	}
	f[2] = p;
	fl[2] = (size_t)(end - p);
	memset(e, 0, sizeof(*e));
	e->kind = s[0];
	e->line = lineno;
	if (e->kind == 'F') {
		if (!sha_ok(f[0], fl[0]))
			goto bad;
		memcpy(e->sha, f[0], fl[0]);
		e->sha[fl[0]] = '\0';
	} else if (fl[0] != 1 || f[0][0] != '-') {
		goto bad;
	}
	if (parse_mode(f[1], fl[1], &e->mode) != 0 || (e->kind == 'L' && e->mode != -1))
		goto bad;
	e->path = strndup(f[2], fl[2]);
	if (e->path == NULL)
		return herr_set(err, HOIST_EXIT_INTERNAL, "out of memory reading %s", file);
	if (strlen(e->path) != fl[2] || !instlist_path_ok(e->path)) {
		free(e->path);
		e->path = NULL;
		return herr_set(err, HOIST_EXIT_FAILED,
		                "installed list %s line %u: path is not a normalised absolute path "
		                "(relative, \"..\" or \".\"); list refused",
		                file, lineno);
	}
	return 0;
bad:
	return herr_set(err, HOIST_EXIT_FAILED,
	                "installed list %s line %u: malformed entry (want \"F|L|D sha mode path\"); "
	                "list refused",
	                file, lineno);
}

static const struct inst_list *sort_list; /* qsort has no context argument */

static int cmp_by_path(const void *a, const void *b)
{
	size_t ia = *(const size_t *)a;
	size_t ib = *(const size_t *)b;
	int c = strcmp(sort_list->e[ia].path, sort_list->e[ib].path);
	if (c != 0)
		return c;
	return ia < ib ? -1 : ia > ib;
}

int instlist_load(const char *path, bool missing_ok, struct inst_list *out, struct herr *err)
{
	struct buf b;
	struct inst_list l = {0};
	size_t cap = 0;
	size_t pos = 0;
	unsigned lineno = 0;
	int rc = -1;

	buf_init(&b, INSTLIST_MAX_BYTES);
	memset(out, 0, sizeof(*out));
	if (missing_ok && fs_exists(path) == 0)
		return 0;
	if (fs_read_file(path, INSTLIST_MAX_BYTES, FS_NOFOLLOW, &b, err) != 0) {
		herr_prefix(err, "cannot read installed list");
		goto out;
	}
	while (pos < b.len) {
		const char *nl = memchr(b.data + pos, '\n', b.len - pos);
		size_t len;
		lineno++;
		/* a last line without newline is a torn write: the path it names was not
		 * written yet (lines are durable before their path is written), drop it */
		if (nl == NULL)
			break;
		len = (size_t)(nl - (b.data + pos));
		if (len > INSTLIST_MAX_LINE) {
			herr_set(err, HOIST_EXIT_FAILED,
			         "installed list %s line %u: longer than %u bytes; "
			         "list refused",
			         path, lineno, INSTLIST_MAX_LINE);
			goto out;
		}
		if (memchr(b.data + pos, '\0', len) != NULL) {
			herr_set(err, HOIST_EXIT_FAILED, "installed list %s line %u: NUL byte; list refused",
			         path, lineno);
			goto out;
		}
		if (l.n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct inst_entry *ne = realloc(l.e, ncap * sizeof(*ne));
			if (ne == NULL) {
				herr_set(err, HOIST_EXIT_INTERNAL, "out of memory reading %s", path);
				goto out;
			}
			l.e = ne;
			cap = ncap;
		}
		if (parse_line(b.data + pos, len, lineno, path, &l.e[l.n], err) != 0)
			goto out;
		l.n++;
		pos += len + 1;
	}
	l.by_path = calloc(l.n ? l.n : 1, sizeof(size_t));
	if (l.by_path == NULL) {
		herr_set(err, HOIST_EXIT_INTERNAL, "out of memory reading %s", path);
		goto out;
	}
	for (size_t i = 0; i < l.n; i++)
		l.by_path[i] = i;
	sort_list = &l;
	qsort(l.by_path, l.n, sizeof(size_t), cmp_by_path);
	sort_list = NULL;
	*out = l;
	memset(&l, 0, sizeof(l));
	rc = 0;
out:
	instlist_free(&l);
	buf_free(&b);
	return rc;
}

const struct inst_entry *instlist_find(const struct inst_list *l, const char *path)
{
	size_t lo = 0;
	size_t hi = l->n;
	const struct inst_entry *found = NULL;
	if (l->by_path == NULL)
		return NULL;
	/* first index whose path is >= path, then take the last equal one */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(l->e[l->by_path[mid]].path, path) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	while (lo < l->n && strcmp(l->e[l->by_path[lo]].path, path) == 0)
		found = &l->e[l->by_path[lo++]];
	return found;
}

/* instlist_empties_dir with a depth bound. */
static bool empties(const struct inst_list *l, const char *host_dir, const char *path, unsigned depth)
{
	const struct inst_entry *e = instlist_find(l, path);
	struct dirent *de;
	DIR *d = NULL;
	bool ok = true;
	int fd;

	if (e == NULL || e->kind != 'D' || depth > 64)
		return false;
	fd = open(host_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	while (ok && (de = readdir(d)) != NULL) {
		char hp[PATH_MAX];
		char cp[PATH_MAX];
		const struct inst_entry *c;
		struct stat st;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fs_path_join(hp, sizeof(hp), host_dir, de->d_name) != 0 ||
		    fs_path_join(cp, sizeof(cp), path, de->d_name) != 0 || lstat(hp, &st) != 0) {
			ok = false;
			break;
		}
		c = instlist_find(l, cp);
		/* undo unlinks F/L entries that are not directories and rmdir's empty D entries */
		if (c == NULL)
			ok = false;
		else if (S_ISDIR(st.st_mode))
			ok = c->kind == 'D' && empties(l, hp, cp, depth + 1);
		else
			ok = c->kind != 'D';
	}
	closedir(d);
	return ok;
}

bool instlist_empties_dir(const struct inst_list *l, const char *host_dir, const char *path)
{
	return empties(l, host_dir, path, 0);
}

void instlist_free(struct inst_list *l)
{
	if (l->e != NULL)
		for (size_t i = 0; i < l->n; i++)
			free(l->e[i].path);
	free(l->e);
	free(l->by_path);
	memset(l, 0, sizeof(*l));
}

int instlist_create(struct instlist_writer *w, const char *path, struct herr *err)
{
	w->path = path;
	w->off = 0;
	w->dir_synced = false;
	w->dirty = w->batch;
	w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (w->fd < 0)
		return herr_errno(err, HOIST_EXIT_IO, errno, "cannot create installed list %s", path);
	/* batch: instlist_sync makes the file and its lines durable in one go */
	if (w->batch)
		return 0;
	w->dir_synced = true;
	/* the list must survive a crash as soon as anything is installed */
	if (fsync(w->fd) != 0)
		return herr_errno(err, HOIST_EXIT_IO, errno, "cannot sync %s", path);
	return fs_fsync_parent(path, err);
}

/* Writes all of n bytes at offset off. */
static int pwrite_all(int fd, const char *p, size_t n, off_t off)
{
	while (n > 0) {
		ssize_t w = pwrite(fd, p, n, off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
		off += w;
	}
	return 0;
}

int instlist_append(struct instlist_writer *w, char kind, const char *sha, int mode, const char *path,
                    off_t *sha_off, struct herr *err)
{
	char line[INSTLIST_MAX_LINE + 2];
	char modestr[16] = "-";
	int n;
	if (mode >= 0)
		(void)snprintf(modestr, sizeof(modestr), "%04o", (unsigned)mode);
	if (kind == 'F' && sha == NULL)
		sha = INSTLIST_SHA_PENDING;
	n = snprintf(line, sizeof(line), "%c %s %s %s\n", kind, sha ? sha : "-", modestr, path);
	if (n < 0 || (size_t)n >= sizeof(line) || strchr(path, '\n') != NULL)
		return herr_set(err, HOIST_EXIT_IO, "cannot record %.200s: path too long or has a newline",
		                path);
	if (pwrite_all(w->fd, line, (size_t)n, w->off) != 0)
		return herr_errno(err, HOIST_EXIT_IO, errno, "cannot write installed list %s", w->path);
	if (sha_off != NULL)
		*sha_off = w->off + 2;
	w->off += n;
	w->dirty = true;
	/* durable before the path is written: a crash leaves a superset */
	if (!w->batch && fdatasync(w->fd) != 0)
		return herr_errno(err, HOIST_EXIT_IO, errno, "cannot sync installed list %s", w->path);
	return 0;
}

int instlist_fill_sha(struct instlist_writer *w, off_t sha_off, const char *hex, struct herr *err)
{
	if (strlen(hex) != SHA256_HEX_LEN || pwrite_all(w->fd, hex, SHA256_HEX_LEN, sha_off) != 0)
		return herr_errno(err, HOIST_EXIT_IO, errno, "cannot write installed list %s", w->path);
	w->dirty = true;
	return 0;
}

int instlist_sync(struct instlist_writer *w, struct herr *err)
{
	if (fdatasync(w->fd) != 0)
		return herr_errno(err, HOIST_EXIT_IO, errno, "cannot sync installed list %s", w->path);
	w->dirty = false;
	if (w->dir_synced)
		return 0;
	if (fs_fsync_parent(w->path, err) != 0)
		return -1;
	w->dir_synced = true;
	return 0;
}

int instlist_close(struct instlist_writer *w, struct herr *err)
{
	int rc = 0;
	if (w->fd < 0)
		return 0;
	/* a batch list synced since its last write needs no second sync */
	if ((!w->batch || w->dirty) && fsync(w->fd) != 0)
		rc = herr_errno(err, HOIST_EXIT_IO, errno, "cannot sync installed list %s", w->path);
	if (close(w->fd) != 0 && rc == 0)
		rc = herr_errno(err, HOIST_EXIT_IO, errno, "cannot close installed list %s", w->path);
	w->fd = -1;
	return rc;
}
