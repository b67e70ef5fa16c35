/* orphans.c - ends what is left of a killed hoist's hook (see orphans.h). */
#include "orphans.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define POLL_MS 50
#define KILL_WAIT_MS 2000

/* Reads a small /proc file into buf (NUL-terminated); its length or -1. */
static ssize_t read_small(const char *path, char *buf, size_t cap)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	do
		n = read(fd, buf, cap - 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

static int boot_id(char out[ORPHANS_BOOT_ID_LEN + 1])
{
	char b[64];
	ssize_t n = read_small("/proc/sys/kernel/random/boot_id", b, sizeof(b));
	if (n < ORPHANS_BOOT_ID_LEN)
		return -1;
	memcpy(out, b, ORPHANS_BOOT_ID_LEN);
	out[ORPHANS_BOOT_ID_LEN] = '\0';
	return 0;
}

int orphans_parse_stat(const char *text, size_t len, long *pgrp, long *session,
                       unsigned long long *start, bool *zombie)
{
	/* "pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt
	 * majflt cmajflt utime stime cutime cstime priority nice num_threads
	 * itrealvalue starttime ...": comm may hold spaces and ')', so fields are
	 * counted from the last ')'. */
	char buf[1024]; /* strtol needs a terminated string: text need not be one */
	const char *p = NULL, *end;
	char *e;
	if (len >= sizeof(buf) || memchr(text, '\0', len) != NULL)
		return -1;
	memcpy(buf, text, len);
	buf[len] = '\0';
	text = buf;
	end = buf + len;
	for (const char *q = text; q < end; q++)
		if (*q == ')')
			p = q;
	if (p == NULL || end - p < 4 || p[1] != ' ')
		return -1;
	p += 2;
	*zombie = *p == 'Z' || *p == 'X';
	for (int field = 3; field < 22; field++) {
		const char *sp = memchr(p, ' ', (size_t)(end - p));
		if (sp == NULL)
			return -1;
		p = sp + 1;
		if (field == 4) {
			*pgrp = strtol(p, &e, 10);
			if (e == p || *e != ' ')
				return -1;
		} else if (field == 5) {
			*session = strtol(p, &e, 10);
			if (e == p || *e != ' ')
				return -1;
		}
	}
	if (p >= end || *p < '0' || *p > '9')
		return -1;
	*start = strtoull(p, &e, 10);
	return (*e == ' ' || *e == '\n' || *e == '\0') ? 0 : -1;
}

int orphans_ident(pid_t pid, struct hook_ident *id)
{
	char path[64], b[1024];
	long pgrp, sess;
	bool z;
	ssize_t n;
	memset(id, 0, sizeof(*id));
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	n = read_small(path, b, sizeof(b));
	if (n < 0 || orphans_parse_stat(b, (size_t)n, &pgrp, &sess, &id->start_ticks, &z) != 0 ||
	    boot_id(id->boot_id) != 0)
		return -1;
	id->pgid = (long)pid; /* the hook's setsid() makes its pid the group id */
	return 0;
}

/* Living processes that belong to the hook id names. */
static unsigned count_members(const struct hook_ident *id)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	unsigned n = 0;
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		char path[300], b[1024];
		long pgrp, sess;
		unsigned long long start;
		bool z;
		ssize_t len;
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		len = read_small(path, b, sizeof(b));
		if (len < 0 || orphans_parse_stat(b, (size_t)len, &pgrp, &sess, &start, &z) != 0)
			continue;
		if (!z && pgrp == id->pgid && sess == id->pgid && start >= id->start_ticks)
			n++;
	}
	closedir(d);
	return n;
}

/* Waits up to ms for the group to be gone; true when it is. */
static bool wait_gone(const struct hook_ident *id, long ms)
{
	struct timespec ts = {0, POLL_MS * 1000000L};
	for (long t = 0; t < ms; t += POLL_MS) {
		if (count_members(id) == 0)
			return true;
		nanosleep(&ts, NULL);
	}
	return count_members(id) == 0;
}

unsigned orphans_end(const struct hook_ident *id, unsigned grace_s)
{
	char now[ORPHANS_BOOT_ID_LEN + 1];
	unsigned n;
	if (id->pgid <= 1 || boot_id(now) != 0 || strcmp(now, id->boot_id) != 0)
		return 0; /* another boot: the id may name anything now */
	n = count_members(id);
	if (n == 0)
		return 0;
	log_warnx("%u process(es) of the interrupted hook (process group %ld) still run; sending SIGTERM", n,
	          id->pgid);
	(void)kill((pid_t)-id->pgid, SIGTERM);
	if (wait_gone(id, (long)grace_s * 1000))
		return n;
	log_warnx("the interrupted hook's processes still run %u s after SIGTERM; sending SIGKILL", grace_s);
	(void)kill((pid_t)-id->pgid, SIGKILL);
	/* a killed process runs no more code, so recovery may go on; the wait only
	 * lets the kernel finish the exits first on a loaded machine */
	if (!wait_gone(id, KILL_WAIT_MS))
		log_warnx("process group %ld was sent SIGKILL and is still exiting", id->pgid);
	return n;
}
