/* filemanifest.c - revisions/V/installed.manifest: written when Install ends, read by verify. */
#include "filemanifest.h"

#include <errno.h>
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
#include "instlist.h"
#include "log.h"

#define HEADER "hoist-manifest 1\n"

/* Next space-separated field of [*p, end); NULL when none. */
static const char *field(const char **p, const char *end, size_t *len)
{
	const char *s = *p, *sp;
	if (s >= end)
		return NULL;
	sp = memchr(s, ' ', (size_t)(end - s));
	if (sp == NULL)
		return NULL;
	*len = (size_t)(sp - s);
	*p = sp + 1;
	return s;
}

/* "-" -> -1; else a decimal (base 10) or, for mode, octal number. */
static int number(const char *s, size_t len, int base, long long *out)
{
	long long v = 0;
	if (len == 1 && s[0] == '-') {
		*out = -1;
		return 0;
	}
	if (len == 0 || len > 18)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] >= '0' + base)
			return -1;
		v = v * base + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int parse_line(const char *line, size_t len, unsigned lineno, const char *name,
                      struct file_manifest_entry *e, char *mut)
{
	const char *p = line, *end = line + len, *f[6];
	size_t fl[6];
	long long mode;
	for (int i = 0; i < 6; i++)
		if ((f[i] = field(&p, end, &fl[i])) == NULL)
			goto bad;
	if (fl[0] != 1 || (f[0][0] != 'F' && f[0][0] != 'L' && f[0][0] != 'D'))
		goto bad;
	e->kind = f[0][0];
	if (fl[1] == 1 && f[1][0] == '-')
		e->sha[0] = '\0';
	else if (fl[1] == SHA256_HEX_LEN && strspn(f[1], "0123456789abcdef") >= SHA256_HEX_LEN) {
		memcpy(e->sha, f[1], SHA256_HEX_LEN);
		e->sha[SHA256_HEX_LEN] = '\0';
	} else {
		goto bad;
	}
	if (number(f[2], fl[2], 8, &mode) != 0 || mode > 07777 || number(f[3], fl[3], 10, &e->uid) != 0 ||
	    number(f[4], fl[4], 10, &e->gid) != 0 || number(f[5], fl[5], 10, &e->size) != 0)
		goto bad;
	e->mode = (int)mode;
	if (p >= end || *p != '/')
		goto bad;
	/* the path runs to the end of the line: terminate it in place */
	mut[len] = '\0';
	e->path = mut + (p - line);
	return 0;
bad:
	(void)name;
	(void)lineno;
	return -1;
}

int file_manifest_parse(char *text, size_t len, const char *name, struct file_manifest *out, struct herr *err)
{
	size_t pos, cap = 0;
	unsigned lineno = 1;
	memset(out, 0, sizeof(*out));
	out->text = text;
	if (len < sizeof(HEADER) - 1 || memcmp(text, HEADER, sizeof(HEADER) - 1) != 0) {
		herr_set(err, HOIST_EXIT_CANNOT_VERIFY, "%s: not a hoist manifest", name);
		goto fail;
	}
	for (pos = sizeof(HEADER) - 1; pos < len;) {
		char *nl = memchr(text + pos, '\n', len - pos);
		size_t l;
		lineno++;
		if (nl == NULL) {
			herr_set(err, HOIST_EXIT_CANNOT_VERIFY, "%s line %u: incomplete", name, lineno);
			goto fail;
		}
		l = (size_t)(nl - (text + pos));
		if (out->n == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			struct file_manifest_entry *ne = realloc(out->e, ncap * sizeof(*ne));
			if (ne == NULL) {
				herr_set(err, HOIST_EXIT_INTERNAL, "out of memory reading %s", name);
				goto fail;
			}
			out->e = ne;
			cap = ncap;
		}
		if (memchr(text + pos, '\0', l) != NULL ||
		    parse_line(text + pos, l, lineno, name, &out->e[out->n], text + pos) != 0) {
			herr_set(err, HOIST_EXIT_CANNOT_VERIFY, "%s line %u: malformed entry", name, lineno);
			goto fail;
		}
		out->n++;
		pos += l + 1;
	}
	return 0;
fail:
	file_manifest_free(out);
	return -1;
}

int file_manifest_load(const char *path, struct file_manifest *out, struct herr *err)
{
	struct buf b;
	size_t len;
	buf_init(&b, FILE_MANIFEST_MAX_BYTES);
	memset(out, 0, sizeof(*out));
	if (fs_read_file(path, FILE_MANIFEST_MAX_BYTES, FS_NOFOLLOW, &b, err) != 0) {
		buf_free(&b);
		err->code = err->code == HOIST_EXIT_INTERNAL ? err->code : HOIST_EXIT_CANNOT_VERIFY;
		return -1;
	}
	if (b.len == 0) {
		buf_free(&b);
		return herr_set(err, HOIST_EXIT_CANNOT_VERIFY, "%s is empty", path);
	}
	/* the buffer's memory (NUL-terminated) becomes the manifest's text */
	len = b.len;
	return file_manifest_parse(buf_steal(&b), len, path, out, err);
}

/* Appends one manifest line. */
static int add_line(struct buf *b, char kind, const char *sha, long long mode, long long uid, long long gid,
                    long long size, const char *path)
{
	char m[16], u[24], g[24], s[24];
	snprintf(m, sizeof(m), mode < 0 ? "-" : "%llo", mode);
	snprintf(u, sizeof(u), uid < 0 ? "-" : "%lld", uid);
	snprintf(g, sizeof(g), gid < 0 ? "-" : "%lld", gid);
	snprintf(s, sizeof(s), size < 0 ? "-" : "%lld", size);
	return buf_printf(b, "%c %s %s %s %s %s %s\n", kind, sha && sha[0] ? sha : "-", m, u, g, s, path);
}

int file_manifest_from_list(const char *list_path, struct file_manifest *out, struct herr *err)
{
	struct inst_list l;
	struct buf b;
	int rc = -1;
	memset(out, 0, sizeof(*out));
	buf_init(&b, FILE_MANIFEST_MAX_BYTES);
	if (instlist_load(list_path, false, &l, err) != 0) {
		err->code = err->code == HOIST_EXIT_INTERNAL ? err->code : HOIST_EXIT_CANNOT_VERIFY;
		goto out;
	}
	if (buf_append_str(&b, HEADER) != 0)
		goto oom;
	for (size_t i = 0; i < l.n; i++) {
		const struct inst_entry *e = &l.e[i];
		if (instlist_find(&l, e->path) != e)
			continue; /* a later line for the same path wins */
		if (add_line(&b, e->kind, e->kind == 'F' ? e->sha : NULL, e->mode, -1, -1, -1, e->path) != 0)
			goto oom;
	}
	{
		size_t len = b.len;
		/* owned by the manifest now, freed with it on failure too */
		rc = file_manifest_parse(buf_steal(&b), len, list_path, out, err);
	}
	goto out;
oom:
	herr_set(err, HOIST_EXIT_INTERNAL, "out of memory reading %s", list_path);
out:
	instlist_free(&l);
	buf_free(&b);
	return rc;
}

int file_manifest_write(const char *list_path, const char *root, const char *dir, struct herr *err)
{
	struct inst_list l;
	struct buf b;
	char path[PATH_MAX], host[PATH_MAX];
	int rc = -1;

	buf_init(&b, FILE_MANIFEST_MAX_BYTES);
	if (instlist_load(list_path, false, &l, err) != 0)
		goto out_nolist;
	if (fs_path_join(path, sizeof(path), dir, FILE_MANIFEST_NAME) != 0) {
		herr_set(err, HOIST_EXIT_IO, "path too long: %s", dir);
		goto out;
	}
	if (buf_append_str(&b, HEADER) != 0)
		goto too_big;
	for (size_t i = 0; i < l.n; i++) {
		const struct inst_entry *e = &l.e[i];
		struct stat st;
		char sha[SHA256_HEX_LEN + 1] = "";
		if (instlist_find(&l, e->path) != e)
			continue;
		if (fs_rooted(host, sizeof(host), root, e->path) != 0 || lstat(host, &st) != 0) {
			herr_errno(err, HOIST_EXIT_IO, errno, "manifest: cannot read %s", e->path);
			goto out;
		}
		if (e->kind == 'L') {
			char target[PATH_MAX];
			uint8_t d[SHA256_LEN];
			ssize_t n = readlink(host, target, sizeof(target));
			if (n < 0 || (size_t)n >= sizeof(target)) {
				herr_errno(err, HOIST_EXIT_IO, errno, "manifest: cannot read link %s",
				           e->path);
				goto out;
			}
			sha256_buf(target, (size_t)n, d);
			hex_encode(d, SHA256_LEN, sha);
		}
		if (add_line(&b, e->kind, e->kind == 'F' ? e->sha : sha,
		             e->kind == 'L' ? -1 : (long long)(st.st_mode & 07777), (long long)st.st_uid,
		             (long long)st.st_gid, e->kind == 'F' ? (long long)st.st_size : -1, e->path) != 0)
			goto too_big;
	}
	/* informational, like status.json: atomic, not fsync'd */
	rc = fs_write_replace(path, b.data, b.len, 0644, err);
	goto out;
too_big:
	herr_set(err, HOIST_EXIT_IO, "manifest of %s is larger than %u bytes", list_path,
	         FILE_MANIFEST_MAX_BYTES);
out:
	instlist_free(&l);
out_nolist:
	buf_free(&b);
	return rc;
}

/* Was st changed after t (ctime, nanoseconds)? */
static bool changed_after(const struct stat *st, const struct timespec *t)
{
	return st->st_ctim.tv_sec > t->tv_sec ||
	       (st->st_ctim.tv_sec == t->tv_sec && st->st_ctim.tv_nsec >= t->tv_nsec);
}

int file_manifest_refresh(const char *root, const char *dir, struct herr *err)
{
	struct file_manifest m;
	struct stat ms;
	struct buf b;
	char path[PATH_MAX], host[PATH_MAX];
	size_t rehashed = 0;
	int rc = -1;

	memset(&m, 0, sizeof(m));
	buf_init(&b, FILE_MANIFEST_MAX_BYTES);
	if (fs_path_join(path, sizeof(path), dir, FILE_MANIFEST_NAME) != 0)
		return herr_set(err, HOIST_EXIT_IO, "path too long: %s", dir);
	if (lstat(path, &ms) != 0) {
		herr_errno(err, HOIST_EXIT_IO, errno, "%s", path);
		goto out;
	}
	if (file_manifest_load(path, &m, err) != 0 || buf_append_str(&b, HEADER) != 0)
		goto out;
	for (size_t i = 0; i < m.n; i++) {
		struct file_manifest_entry *e = &m.e[i];
		struct stat st;
		if (fs_rooted(host, sizeof(host), root, e->path) == 0 && lstat(host, &st) == 0 &&
		    ((e->kind == 'F' && S_ISREG(st.st_mode)) || (e->kind == 'L' && S_ISLNK(st.st_mode)) ||
		     (e->kind == 'D' && S_ISDIR(st.st_mode)))) {
			bool fresh = changed_after(&st, &ms.st_mtim);
			e->uid = (long long)st.st_uid;
			e->gid = (long long)st.st_gid;
			if (e->kind != 'L')
				e->mode = (int)(st.st_mode & 07777);
			if (e->kind == 'F')
				e->size = (long long)st.st_size;
			if (fresh && e->kind == 'F') {
				uint8_t d[SHA256_LEN];
				struct herr he;
				int fd =
				    open(host, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
				if (fd >= 0 && sha256_fd(fd, e->path, d, &he) == 0)
					hex_encode(d, SHA256_LEN, e->sha);
				if (fd >= 0)
					close(fd);
				rehashed++;
			} else if (fresh && e->kind == 'L') {
				char target[PATH_MAX];
				uint8_t d[SHA256_LEN];
				ssize_t n = readlink(host, target, sizeof(target));
				if (n >= 0 && (size_t)n < sizeof(target)) {
					sha256_buf(target, (size_t)n, d);
					hex_encode(d, SHA256_LEN, e->sha);
				}
			}
		}
		if (add_line(&b, e->kind, e->sha, e->mode, e->uid, e->gid, e->size, e->path) != 0) {
			herr_set(err, HOIST_EXIT_IO, "manifest %s is larger than %u bytes", path,
			         FILE_MANIFEST_MAX_BYTES);
			goto out;
		}
	}
	if (rehashed > 0)
		log_debug("manifest: %zu file%s changed by hooks since Install, hashed again", rehashed,
		          rehashed == 1 ? "" : "s");
	rc = fs_write_replace(path, b.data, b.len, 0644, err);
out:
	file_manifest_free(&m);
	buf_free(&b);
	return rc;
}

void file_manifest_free(struct file_manifest *m)
{
	free(m->e);
	free(m->text);
	memset(m, 0, sizeof(*m));
}
