/* instfs.c - symlink-safe directory walking and hashed copies for install.c. */
#include "instfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "exitcodes.h"
#include "fsutil.h"

int instfs_open_parent(int rootfd, const char *path, instfs_follow_fn follow, const void *ctx,
                       struct herr *err)
{
	char comp[NAME_MAX + 1];
	const char *p = path;
	const char *last = strrchr(path, '/');
	size_t depth = 0;
	int fd = -1;

	fd = dup(rootfd);
	if (fd < 0)
		return herr_errno(err, HOIST_EXIT_IO, errno, "cannot duplicate root directory fd");
	while (p < last) {
		const char *c = p + 1;
		size_t n = strcspn(c, "/");
		int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
		int nfd;
		if (n == 0 || n > NAME_MAX) {
			close(fd);
			errno = EINVAL;
			return herr_set(err, HOIST_EXIT_IO, "bad path component in %.200s", path);
		}
		memcpy(comp, c, n);
		comp[n] = '\0';
		depth++;
		/* only directories hoist did not create and that the appspec names as (part
		 * of) a destination may be symlinks, e.g. /var -> /data on the host */
		if (!follow(ctx, path, (size_t)(c + n - path), depth))
			flags |= O_NOFOLLOW;
		nfd = openat(fd, comp, flags);
		if (nfd < 0) {
			int e = errno;
			close(fd);
			if (e == ELOOP || (e == ENOTDIR && (flags & O_NOFOLLOW)))
				herr_set(err, HOIST_EXIT_IO,
				         "%.*s is a symbolic link or not a directory; "
				         "refusing to follow it",
				         (int)(c + n - path), path);
			else
				herr_errno(err, HOIST_EXIT_IO, e, "cannot open directory %.*s",
				           (int)(c + n - path), path);
			errno = e;
			return -1;
		}
		close(fd);
		fd = nfd;
		p = c + n;
	}
	return fd;
}

const char *instfs_base(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

size_t instfs_depth(const char *path)
{
	size_t d = 0;
	for (const char *p = path; *p; p++)
		if (*p == '/' && p[1] != '\0')
			d++;
	return d;
}

void instfs_tmp_name(const char *base, char out[NAME_MAX + 1])
{
	uint8_t h[SHA256_LEN];
	char hex[2 * SHA256_LEN + 1];
	/* a hash keeps the name short whatever the length of base */
	if (sha256_buf(base, strlen(base), h) != 0)
		memset(h, 0, sizeof(h));
	hex_encode(h, 8, hex);
	(void)snprintf(out, NAME_MAX + 1, ".hoist-tmp.%s", hex);
}

int instfs_copy(int src, int dst, const char *what, uint8_t sha[SHA256_LEN], struct herr *err)
{
	char chunk[INSTFS_COPY_CHUNK];
	struct sha256_ctx *c = NULL;
	off_t total = 0;
	int rc = -1;

	c = sha256_new();
	if (c == NULL) {
		herr_set(err, HOIST_EXIT_INTERNAL, "out of memory hashing %s", what);
		goto out;
	}
	for (;;) {
		ssize_t n = read(src, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			herr_errno(err, HOIST_EXIT_IO, errno, "cannot read the bundle's copy of %s", what);
			goto out;
		}
		if (n == 0)
			break;
		if (sha256_update(c, chunk, (size_t)n) != 0) {
			herr_set(err, HOIST_EXIT_INTERNAL, "sha256 failed for %s", what);
			goto out;
		}
		total += n;
		/* a chunk of zeros stays a hole, as unpacking left it (bundle.c): a
		 * sparse disk image costs its data, not its size (preflight counts so) */
		if (chunk[0] == '\0' && memcmp(chunk, chunk + 1, (size_t)n - 1) == 0) {
			if (lseek(dst, n, SEEK_CUR) < 0) {
				herr_errno(err, HOIST_EXIT_IO, errno, "cannot seek in %s", what);
				goto out;
			}
		} else if (fs_write_all(dst, chunk, (size_t)n) != 0) {
			herr_errno(err, HOIST_EXIT_IO, errno, "cannot write %s", what);
			goto out;
		}
	}
	/* the size, should the file end in a hole */
	if (ftruncate(dst, total) != 0) {
		herr_errno(err, HOIST_EXIT_IO, errno, "cannot write %s", what);
		goto out;
	}
	if (sha256_final(c, sha) != 0) {
		herr_set(err, HOIST_EXIT_INTERNAL, "sha256 failed for %s", what);
		goto out;
	}
	rc = 0;
out:
	sha256_free(c);
	return rc;
}
