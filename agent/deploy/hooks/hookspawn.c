/* hookspawn.c - user lookup before fork, and the child side of a hook. */
#include "hookspawn.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "exitcodes.h"

#define PW_BUF_MAX (1024 * 1024)
#define GROUPS_MAX 65536

int hook_ids_lookup(const char *user, struct hook_ids *ids, struct herr *err)
{
	struct passwd pw, *found = NULL;
	char *buf = NULL;
	size_t bufsz = 4096;
	gid_t *groups = NULL;
	int ngroups = 64;
	int rc = -1, r;

	memset(ids, 0, sizeof(*ids));
	if (user == NULL)
		return 0;
	for (;;) {
		char *nbuf = realloc(buf, bufsz);
		if (nbuf == NULL) {
			herr_set(err, HOIST_EXIT_INTERNAL, "out of memory looking up user '%s'", user);
			goto out;
		}
		buf = nbuf;
		r = getpwnam_r(user, &pw, buf, bufsz, &found);
		if (r != ERANGE || bufsz >= PW_BUF_MAX)
			break;
		bufsz *= 2;
	}
	if (r != 0) {
		herr_errno(err, HOIST_EXIT_FAILED, r, "cannot look up runas user '%s'", user);
		goto out;
	}
	if (found == NULL) {
		herr_set(err, HOIST_EXIT_FAILED, "runas user '%s' does not exist on this host", user);
		goto out;
	}
	if (geteuid() != 0) {
		/* Without root we can only "switch" to ourselves. */
		if (pw.pw_uid != geteuid()) {
			herr_set(err, HOIST_EXIT_FAILED,
			         "cannot run hook as user '%s': hoist is not running as root", user);
			goto out;
		}
		rc = 0;
		goto out;
	}
	/* getgrouplist reads /etc/group and NSS: not async-signal-safe, so it
	 * runs here and the child only calls setgroups() on the result. */
	for (;;) {
		int n = ngroups;
		gid_t *ng = realloc(groups, (size_t)ngroups * sizeof(*groups));
		if (ng == NULL) {
			herr_set(err, HOIST_EXIT_INTERNAL, "out of memory listing groups of '%s'", user);
			goto out;
		}
		groups = ng;
		if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &n) >= 0) {
			ngroups = n;
			break;
		}
		if (n <= ngroups)
			n = ngroups * 2;
		if (n > GROUPS_MAX) {
			herr_set(err, HOIST_EXIT_FAILED, "user '%s' is in too many groups", user);
			goto out;
		}
		ngroups = n;
	}
	ids->drop = true;
	ids->uid = pw.pw_uid;
	ids->gid = pw.pw_gid;
	ids->groups = groups;
	ids->ngroups = ngroups;
	groups = NULL;
	rc = 0;
out:
	free(groups);
	free(buf);
	return rc;
}

void hook_ids_free(struct hook_ids *ids)
{
	free(ids->groups);
	memset(ids, 0, sizeof(*ids));
}

const char *hook_stage_name(int stage)
{
	switch (stage) {
	case HOOK_STAGE_SIGNALS:
		return "resetting signals";
	case HOOK_STAGE_SETSID:
		return "setsid";
	case HOOK_STAGE_CHDIR:
		return "changing to the working directory";
	case HOOK_STAGE_STDIO:
		return "setting up stdin/stdout/stderr";
	case HOOK_STAGE_CLOSEFDS:
		return "closing inherited file descriptors";
	case HOOK_STAGE_SETGROUPS:
		return "setgroups";
	case HOOK_STAGE_SETGID:
		return "setresgid";
	case HOOK_STAGE_SETUID:
		return "setresuid";
	case HOOK_STAGE_REGAIN:
		return "verifying the privilege drop";
	case HOOK_STAGE_EXEC:
		return "execve";
	default:
		return "starting the hook";
	}
}

/* Moves fd above 0-2 so that the child's dup2 onto 0-2 cannot clobber it,
 * even if the caller runs with a standard fd closed. */
static int fd_above_stdio(int fd)
{
	int nfd;
	if (fd > STDERR_FILENO)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
	close(fd);
	return nfd;
}

/* Child: reports {stage, errno} and exits. Only async-signal-safe calls. */
static _Noreturn void child_fail(int status_fd, int stage, int errnum)
{
	struct hook_child_report rep = {stage, errnum};
	ssize_t n;
	do
		n = write(status_fd, &rep, sizeof(rep));
	while (n < 0 && errno == EINTR);
	_exit(127);
}

/* Child: closes every fd >= 3 except keep. close_range when the kernel has
 * it; else walk /proc/self/fd with getdents64 (no malloc after fork); else
 * close up to RLIMIT_NOFILE. */
static int child_close_fds(int keep)
{
#ifdef SYS_close_range
	if ((keep == 3 || syscall(SYS_close_range, 3U, (unsigned)keep - 1, 0U) == 0) &&
	    syscall(SYS_close_range, (unsigned)keep + 1, ~0U, 0U) == 0)
		return 0;
#endif
	int dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		char dbuf[4096];
		long n;
		/* fds are closed while listing; rewinding until a pass closes
		 * nothing makes that safe */
		for (int closed = 1; closed;) {
			closed = 0;
			lseek(dfd, 0, SEEK_SET);
			while ((n = syscall(SYS_getdents64, dfd, dbuf, sizeof(dbuf))) > 0) {
				for (long off = 0; off < n;) {
					struct dirent64 *d = (struct dirent64 *)(void *)(dbuf + off);
					int fd = 0;
					const char *p = d->d_name;
					off += d->d_reclen;
					if (*p < '0' || *p > '9')
						continue;
					for (; *p >= '0' && *p <= '9'; p++)
						fd = fd * 10 + (*p - '0');
					if (fd > 2 && fd != keep && fd != dfd) {
						close(fd);
						closed = 1;
					}
				}
			}
			if (n < 0)
				break;
		}
		close(dfd);
		if (n == 0)
			return 0;
	}
	struct rlimit rl;
	int max = 65536;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 65536)
		max = (int)rl.rlim_cur;
	for (int fd = 3; fd < max; fd++)
		if (fd != keep)
			close(fd);
	return 0;
}

/* Child: setgroups, setresgid, setresuid, each checked, in that order (the
 * group calls need the privilege the uid change gives up), then proof that
 * root cannot be regained. Returns the failing stage or 0. */
static int child_drop(const struct hook_ids *ids)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (setgroups((size_t)ids->ngroups, ids->groups) != 0)
		return HOOK_STAGE_SETGROUPS;
	if (setresgid(ids->gid, ids->gid, ids->gid) != 0)
		return HOOK_STAGE_SETGID;
	if (setresuid(ids->uid, ids->uid, ids->uid) != 0)
		return HOOK_STAGE_SETUID;
	if (getresuid(&ru, &eu, &su) != 0 || ru != ids->uid || eu != ids->uid || su != ids->uid)
		return HOOK_STAGE_REGAIN;
	if (getresgid(&rg, &eg, &sg) != 0 || rg != ids->gid || eg != ids->gid || sg != ids->gid)
		return HOOK_STAGE_REGAIN;
	if (ids->uid != 0 && (setuid(0) != -1 || seteuid(0) != -1)) {
		errno = EPERM;
		return HOOK_STAGE_REGAIN;
	}
	return 0;
}

/* Child: waits until the parent opens the start gate (hookspawn.h); a gate
 * closed without a byte means the parent is gone or gave up: exit unseen. */
static void child_wait_gate(int go_r)
{
	char c;
	ssize_t n;
	do
		n = read(go_r, &c, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		_exit(127);
	close(go_r);
}

/* Child after fork: never returns. */
static _Noreturn void child_run(const struct hook_run *run, const struct hook_ids *ids, int devnull,
                                int out_w, int err_w, int status_w, int go_r)
{
	char *argv[3], *shv[HOOK_MAX_ARGV + 2];
	char *const *av;
	struct sigaction sa;
	sigset_t none;
	int stage;

	/* Handlers and ignored signals of hoist must not reach the script
	 * (an ignored SIGPIPE or SIGTERM survives exec); then unblock. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (int sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL); /* EINVAL for KILL/STOP/libc-internal: fine */
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) != 0)
		child_fail(status_w, HOOK_STAGE_SIGNALS, errno);
	/* Own session and process group, so a timeout can signal the whole
	 * tree and the script has no controlling terminal. */
	if (setsid() < 0)
		child_fail(status_w, HOOK_STAGE_SETSID, errno);
	/* with its own group (a signal to it reaches this child), before the script */
	child_wait_gate(go_r);
	if (chdir(run->cwd) != 0)
		child_fail(status_w, HOOK_STAGE_CHDIR, errno);
	/* A pipe per stream, so every logged line says where it came from. */
	if (dup2(devnull, STDIN_FILENO) < 0 || dup2(out_w, STDOUT_FILENO) < 0 ||
	    dup2(err_w, STDERR_FILENO) < 0)
		child_fail(status_w, HOOK_STAGE_STDIO, errno);
	if (child_close_fds(status_w) != 0)
		child_fail(status_w, HOOK_STAGE_CLOSEFDS, errno);
	if (ids->drop && (stage = child_drop(ids)) != 0)
		child_fail(status_w, stage, errno);
	/* An argv vector, never a shell string: the path is not re-parsed. */
	argv[0] = (char *)(uintptr_t)run->script;
	argv[1] = NULL;
	av = run->argv != NULL ? run->argv : argv;
	execve(run->script, av, run->envp);
	if (errno == ENOEXEC) {
		/* No #! line and not a binary: run it with /bin/sh, as execvp and
		 * the CodeDeploy agent (through its shell) do. hooks.c logs it.
		 * A health check's arguments follow the script. */
		size_t n = 0;
		shv[n++] = (char *)(uintptr_t) "/bin/sh";
		shv[n++] = (char *)(uintptr_t)run->script;
		for (size_t i = 1; av[i] != NULL && n < HOOK_MAX_ARGV + 1; i++)
			shv[n++] = av[i];
		shv[n] = NULL;
		execve("/bin/sh", shv, run->envp);
	}
	child_fail(status_w, HOOK_STAGE_EXEC, errno);
}

volatile sig_atomic_t hook_running_pgid;

int hook_spawn(const struct hook_run *run, const struct hook_ids *ids, struct hook_child *child,
               struct herr *err)
{
	int outp[2] = {-1, -1}, errp[2] = {-1, -1}, statp[2] = {-1, -1}, gop[2] = {-1, -1};
	int devnull = -1;
	sigset_t all, old;
	pid_t pid;
	int saved, rc = -1;

	child->pid = -1;
	child->out_fd = -1;
	child->err_fd = -1;
	child->status_fd = -1;
	child->go_fd = -1;
	if (pipe2(outp, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0 || pipe2(statp, O_CLOEXEC) != 0 ||
	    pipe2(gop, O_CLOEXEC) != 0) {
		herr_errno(err, HOIST_EXIT_INTERNAL, errno, "cannot create pipes for hook %s", run->script);
		goto out;
	}
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (devnull < 0) {
		herr_errno(err, HOIST_EXIT_INTERNAL, errno, "cannot open /dev/null");
		goto out;
	}
	outp[1] = fd_above_stdio(outp[1]);
	errp[1] = fd_above_stdio(errp[1]);
	statp[1] = fd_above_stdio(statp[1]);
	devnull = fd_above_stdio(devnull);
	if (outp[1] < 0 || errp[1] < 0 || statp[1] < 0 || devnull < 0) {
		herr_errno(err, HOIST_EXIT_INTERNAL, errno, "cannot move hook pipes above fd 2");
		goto out;
	}
	/* Blocked across fork so no hoist handler runs in the child before it
	 * resets them; the parent gets its old mask back at once. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == 0) {
		close(gop[1]); /* else the gate never reads as closed when the parent dies */
		child_run(run, ids, devnull, outp[1], errp[1], statp[1], gop[0]);
	}
	saved = errno;
	/* Recorded while signals are still blocked: a SIGTERM that arrives
	 * from now on reaches the new group (hook_signals_forward). */
	if (pid > 0)
		hook_running_pgid = pid; /* the child's setsid() makes its pid the group id */
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid < 0) {
		herr_errno(err, HOIST_EXIT_INTERNAL, saved, "cannot fork for hook %s", run->script);
		goto out;
	}
	/* Non-blocking: the poll loop must never block on a read. */
	(void)fcntl(outp[0], F_SETFL, O_NONBLOCK);
	(void)fcntl(errp[0], F_SETFL, O_NONBLOCK);
	child->pid = pid;
	child->out_fd = outp[0];
	child->err_fd = errp[0];
	child->status_fd = statp[0];
	child->go_fd = gop[1];
	outp[0] = errp[0] = statp[0] = gop[1] = -1;
	rc = 0;
out:
	saved = errno;
	for (int i = 0; i < 2; i++) {
		if (outp[i] >= 0)
			close(outp[i]);
		if (errp[i] >= 0)
			close(errp[i]);
		if (statp[i] >= 0)
			close(statp[i]);
		if (gop[i] >= 0)
			close(gop[i]);
	}
	if (devnull >= 0)
		close(devnull);
	errno = saved;
	return rc;
}

void hook_release(struct hook_child *child)
{
	ssize_t n;
	if (child->go_fd < 0)
		return;
	/* a pipe holds the byte even if the child has not reached its read yet;
	 * EPIPE: the child died before the gate (its status pipe tells why) */
	do
		n = write(child->go_fd, "g", 1);
	while (n < 0 && errno == EINTR);
	close(child->go_fd);
	child->go_fd = -1;
}

/* Reads the state and process group of /proc/<pid>/stat; -1 if gone. */
static int proc_stat(const char *pid, char *state, long *pgrp)
{
	char path[64], text[512];
	const char *p;
	ssize_t n;
	int fd;

	if (snprintf(path, sizeof(path), "/proc/%s/stat", pid) >= (int)sizeof(path))
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	text[n] = '\0';
	/* "pid (comm) S ppid pgrp ...": comm may hold spaces and ')' */
	p = strrchr(text, ')');
	if (p == NULL || sscanf(p + 1, " %c %*d %ld", state, pgrp) != 2)
		return -1;
	return 0;
}

int hook_group_alive(pid_t pgid)
{
	DIR *d;
	struct dirent *e;
	int alive = 0;

	if (kill(-pgid, 0) != 0 && errno == ESRCH)
		return 0;
	d = opendir("/proc");
	if (d == NULL)
		return 1; /* cannot tell zombies apart: assume alive */
	while (!alive && (e = readdir(d)) != NULL) {
		char state;
		long pgrp;
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		if (proc_stat(e->d_name, &state, &pgrp) == 0 && pgrp == (long)pgid && state != 'Z' &&
		    state != 'X')
			alive = 1;
	}
	closedir(d);
	return alive;
}
