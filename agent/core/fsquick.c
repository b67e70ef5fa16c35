/* fsquick.c - atomic, non-durable file replacement (see fsquick.h). */
#include "fsquick.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "exitcodes.h"

int fs_write_replace(const char *path, const void *data, size_t n, mode_t mode, struct herr *err)
{
	char tmp[PATH_MAX];
	const char *p = data;
	int fd, rc = -1;
	int r = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if (r < 0 || (size_t)r >= sizeof(tmp))
		return herr_set(err, HOIST_EXIT_IO, "path too long: %.200s", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return herr_errno(err, HOIST_EXIT_IO, errno, "cannot create %s", tmp);
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			herr_errno(err, HOIST_EXIT_IO, errno, "cannot write %s", tmp);
			goto out;
		}
		p += w;
		n -= (size_t)w;
	}
	if (close(fd) != 0) {
		fd = -1;
		herr_errno(err, HOIST_EXIT_IO, errno, "cannot close %s", tmp);
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		herr_errno(err, HOIST_EXIT_IO, errno, "cannot rename %s to %s", tmp, path);
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (rc != 0)
		(void)unlink(tmp);
	return rc;
}
