/* lock.c - the deployment lock. */
#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "exitcodes.h"
#include "fsutil.h"

int lock_acquire(const char *state_dir, struct herr *err)
{
	char path[PATH_MAX];
	char pid[32];
	int fd = -1;
	int n;

	if (fs_path_join(path, sizeof(path), state_dir, "lock") != 0)
		return herr_set(err, HOIST_EXIT_IO, "state directory path too long");
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return herr_errno(err, HOIST_EXIT_IO, errno, "cannot open lock %s", path);
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int saved = errno;
		ssize_t r = pread(fd, pid, sizeof(pid) - 1, 0);
		close(fd);
		if (saved == EWOULDBLOCK) {
			pid[r > 0 ? r : 0] = '\0';
			pid[strcspn(pid, "\n")] = '\0';
			return herr_set(err, HOIST_EXIT_BUSY,
					"another deployment is in progress (pid %s holds %s); try again when it ends",
					pid[0] ? pid : "unknown", path);
		}
		return herr_errno(err, HOIST_EXIT_IO, saved, "cannot lock %s", path);
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
		/* The pid is only a courtesy for the "busy" message; the lock holds. */
	}
	return fd;
}

void lock_release(int fd)
{
	if (fd >= 0)
		close(fd); /* closing drops the flock */
}
