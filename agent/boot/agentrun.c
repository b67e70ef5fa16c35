/* agentrun.c - the agent as a child (see agentrun.h). */
#include "agentrun.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exitcodes.h"
#include "log.h"

/* Seconds on the monotonic clock. */
static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The exit code a shell would show for a wait status. */
static int status_code(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return HOIST_EXIT_INTERNAL;
}

int agentrun_wait(const char *const *argv, unsigned tick_s, agentrun_tick_fn tick, void *ud, int *code,
                  struct herr *err)
{
	sigset_t set, old;
	int pfd[2] = {-1, -1}, child_errno = 0, st = 0, rc = -1;
	pid_t pid, parent;
	ssize_t n;
	double next;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	/* Blocked before fork: a signal arriving at any moment stays pending for the loop. */
	if (sigprocmask(SIG_BLOCK, &set, &old) != 0)
		return herr_errno(err, HOIST_EXIT_INTERNAL, errno, "sigprocmask");
	if (pipe2(pfd, O_CLOEXEC) != 0) {
		herr_errno(err, HOIST_EXIT_INTERNAL, errno, "pipe");
		goto out;
	}
	(void)fflush(NULL);
	parent = getpid();
	pid = fork();
	if (pid < 0) {
		herr_errno(err, HOIST_EXIT_INTERNAL, errno, "fork");
		goto out;
	}
	if (pid == 0) {
		int e;
		/* The unit's final SIGKILL (KillMode=process) reaches the stub
		 * alone: the agent must die with it, as it did when it was the
		 * unit's main process. Kept across execve. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
			_exit(127);
		(void)sigprocmask(SIG_SETMASK, &old, NULL);
		close(pfd[0]);
		execv(argv[0], (char *const *)(uintptr_t)argv);
		e = errno;
		(void)!write(pfd[1], &e, sizeof(e));
		_exit(127);
	}
	close(pfd[1]);
	pfd[1] = -1;
	do
		n = read(pfd[0], &child_errno, sizeof(child_errno));
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(child_errno)) {
		(void)waitpid(pid, NULL, 0);
		herr_errno(err,
		           child_errno == ENOENT || child_errno == EACCES ? HOIST_EXIT_CONFIG
		                                                          : HOIST_EXIT_INTERNAL,
		           child_errno, "cannot exec the agent %s", argv[0]);
		goto out;
	}
	next = mono() + tick_s;
	for (;;) {
		siginfo_t si;
		struct timespec ts = {0, 0};
		double left = tick_s > 0 && tick != NULL ? next - mono() : 3600;
		int sig;
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			herr_errno(err, HOIST_EXIT_INTERNAL, errno, "waitpid");
			goto out;
		}
		if (left <= 0) {
			tick(ud);
			next = mono() + tick_s;
			continue;
		}
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		if (ts.tv_nsec > 999999999L)
			ts.tv_nsec = 999999999L; /* rounding must not make it invalid (EINVAL) */
		sig = sigtimedwait(&set, &si, &ts);
		if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP) {
			log_info("signal %d: passed on to the agent (pid %ld)", sig, (long)pid);
			(void)kill(pid, sig);
		}
		/* SIGCHLD, a timeout or EINTR: the loop looks again */
	}
	*code = status_code(st);
	rc = 0;
out:
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	return rc;
}

int agentrun_capture(const char *const *argv, size_t max, unsigned timeout_s, struct buf *out,
                     struct herr *err)
{
	int pfd[2] = {-1, -1}, st = 0, rc = -1, dead = 0;
	double deadline = mono() + timeout_s;
	char chunk[4096];
	pid_t pid = -1;

	buf_reset(out);
	if (pipe2(pfd, O_CLOEXEC) != 0)
		return herr_errno(err, HOIST_EXIT_INTERNAL, errno, "pipe");
	(void)fflush(NULL);
	pid = fork();
	if (pid < 0) {
		herr_errno(err, HOIST_EXIT_INTERNAL, errno, "fork");
		goto out;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (null < 0 || dup2(null, 0) < 0 || dup2(pfd[1], 1) < 0)
			_exit(127);
		execv(argv[0], (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	close(pfd[1]);
	pfd[1] = -1;
	for (;;) {
		struct pollfd p = {pfd[0], POLLIN, 0};
		double left = deadline - mono();
		ssize_t n;
		int r;
		if (left <= 0) {
			herr_set(err, HOIST_EXIT_TEMPFAIL, "%s: no answer within %u s", argv[0], timeout_s);
			goto out;
		}
		r = poll(&p, 1, (int)(left * 1000) + 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			continue;
		n = read(pfd[0], chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			herr_errno(err, HOIST_EXIT_IO, errno, "reading from %s", argv[0]);
			goto out;
		}
		if (n == 0)
			break;
		if ((size_t)n > max - out->len || buf_append(out, chunk, (size_t)n) != 0) {
			herr_set(err, HOIST_EXIT_TOO_LARGE, "%s: more than %zu bytes of output", argv[0],
			         max);
			goto out;
		}
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	dead = 1;
	if (status_code(st) != 0) {
		herr_set(err, HOIST_EXIT_INTERNAL, "%s exited %d", argv[0], status_code(st));
		goto out;
	}
	rc = 0;
out:
	if (pid > 0 && !dead) {
		(void)kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	return rc;
}
