/* relpath.c - bundle-relative paths: normalisation, no-follow lookup, escaping. */
#include "relpath.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Appends one component to out (len tracked); -1 if it does not fit. */
static int push_comp(char *out, size_t outsz, size_t *len, const char *comp, size_t clen, int abs)
{
	size_t need = clen + ((*len > 0 || abs) ? 1 : 0);
	if (*len + need + 1 > outsz)
		return -1;
	if (*len > 0 || abs)
		out[(*len)++] = '/';
	memcpy(out + *len, comp, clen);
	*len += clen;
	out[*len] = '\0';
	return 0;
}

/* Removes the last component of out; returns -1 when out is already the root. */
static int pop_comp(char *out, size_t *len)
{
	char *slash;
	if (*len == 0)
		return -1;
	out[*len] = '\0';
	slash = strrchr(out, '/');
	if (slash == NULL)
		*len = 0;
	else
		*len = (size_t)(slash - out);
	out[*len] = '\0';
	return 0;
}

/* Shared normaliser: abs selects the absolute flavour (".." at the root stays). */
static enum relpath_norm normalise(const char *in, char *out, size_t outsz, int abs)
{
	size_t len = 0;
	const char *p = in;
	if (outsz == 0)
		return RELPATH_NORM_TOO_LONG;
	out[0] = '\0';
	while (*p != '\0') {
		const char *start;
		size_t clen;
		while (*p == '/')
			p++;
		start = p;
		while (*p != '\0' && *p != '/')
			p++;
		clen = (size_t)(p - start);
		if (clen == 0 || (clen == 1 && start[0] == '.'))
			continue;
		if (clen == 2 && start[0] == '.' && start[1] == '.') {
			if (pop_comp(out, &len) != 0 && !abs)
				return RELPATH_NORM_ESCAPES;
			continue;
		}
		if (push_comp(out, outsz, &len, start, clen, abs) != 0)
			return RELPATH_NORM_TOO_LONG;
	}
	if (abs && len == 0) {
		if (outsz < 2)
			return RELPATH_NORM_TOO_LONG;
		memcpy(out, "/", 2);
	}
	return RELPATH_NORM_OK;
}

enum relpath_norm relpath_normalise(const char *in, char *out, size_t outsz)
{
	return normalise(in, out, outsz, 0);
}

int relpath_normalise_abs(const char *in, char *out, size_t outsz)
{
	if (in[0] != '/')
		return -1;
	return normalise(in, out, outsz, 1) == RELPATH_NORM_OK ? 0 : -1;
}

int relpath_has_dotdot(const char *path)
{
	const char *p = path;
	while (*p != '\0') {
		const char *start = p;
		while (*p != '\0' && *p != '/')
			p++;
		if (p - start == 2 && start[0] == '.' && start[1] == '.')
			return 1;
		while (*p == '/')
			p++;
	}
	return 0;
}

/* Copies the first plen bytes of rel into bad (if given). */
static void set_bad(char *bad, size_t badsz, const char *rel, size_t plen)
{
	if (bad == NULL || badsz == 0)
		return;
	if (plen >= badsz)
		plen = badsz - 1;
	memcpy(bad, rel, plen);
	bad[plen] = '\0';
}

enum relpath_walk relpath_lookup(int rootfd, const char *rel, struct stat *st, char *bad,
				 size_t badsz)
{
	char comp[256];
	const char *p = rel;
	int dirfd = rootfd;
	enum relpath_walk res = RELPATH_ERROR;

	set_bad(bad, badsz, "", 0);
	if (*rel == '\0')
		return fstat(rootfd, st) == 0 ? RELPATH_FOUND : RELPATH_ERROR;
	for (;;) {
		const char *start = p;
		size_t clen;
		int last;
		while (*p != '\0' && *p != '/')
			p++;
		clen = (size_t)(p - start);
		last = (*p == '\0');
		if (clen == 0 || clen >= sizeof(comp)) {
			errno = ENAMETOOLONG;
			set_bad(bad, badsz, rel, (size_t)(p - rel));
			goto out;
		}
		memcpy(comp, start, clen);
		comp[clen] = '\0';
		/* lstat semantics: the component itself, never what a link points at */
		if (fstatat(dirfd, comp, st, AT_SYMLINK_NOFOLLOW) != 0) {
			set_bad(bad, badsz, rel, (size_t)(p - rel));
			res = (errno == ENOENT) ? RELPATH_MISSING : RELPATH_ERROR;
			goto out;
		}
		if (last) {
			res = RELPATH_FOUND;
			goto out;
		}
		if (S_ISLNK(st->st_mode) || !S_ISDIR(st->st_mode)) {
			set_bad(bad, badsz, rel, (size_t)(p - rel));
			res = S_ISLNK(st->st_mode) ? RELPATH_THROUGH_LINK : RELPATH_NOT_DIR;
			goto out;
		}
		{
			/* O_NOFOLLOW: a link swapped in after the fstatat is still refused */
			int next = openat(dirfd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (next < 0) {
				set_bad(bad, badsz, rel, (size_t)(p - rel));
				res = (errno == ELOOP) ? RELPATH_THROUGH_LINK : RELPATH_ERROR;
				goto out;
			}
			if (dirfd != rootfd)
				close(dirfd);
			dirfd = next;
		}
		p++;
	}
out:
	if (dirfd != rootfd) {
		int saved = errno;
		close(dirfd);
		errno = saved;
	}
	return res;
}

void relpath_escape(const char *in, char *out, size_t outsz)
{
	size_t o = 0;
	if (outsz == 0)
		return;
	for (const unsigned char *p = (const unsigned char *)in; *p != '\0'; p++) {
		char tmp[5];
		size_t n;
		if (*p == '\\' || *p == '\'') {
			tmp[0] = '\\';
			tmp[1] = (char)*p;
			n = 2;
		} else if (*p < 0x20 || *p >= 0x7f) {
			snprintf(tmp, sizeof(tmp), "\\x%02x", *p);
			n = 4;
		} else {
			tmp[0] = (char)*p;
			n = 1;
		}
		if (o + n + 1 > outsz) {
			size_t at = o;
			if (outsz < 4) {
				out[outsz - 1] = '\0';
				return;
			}
			if (at + 4 > outsz)
				at = outsz - 4;
			memcpy(out + at, "...", 4);
			return;
		}
		memcpy(out + o, tmp, n);
		o += n;
	}
	out[o] = '\0';
}

const char *relpath_show(const char *in)
{
	static char slots[RELPATH_SHOW_SLOTS][RELPATH_SHOW_MAX];
	static unsigned next;
	char *out = slots[next++ % RELPATH_SHOW_SLOTS];
	relpath_escape(in != NULL ? in : "(null)", out, RELPATH_SHOW_MAX);
	return out;
}
