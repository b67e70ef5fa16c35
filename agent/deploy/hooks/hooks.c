/* hooks.c - the parent side of a hook: one poll loop against a monotonic
 * deadline over the output pipe, the exec-status pipe and the child. */
#include "hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exitcodes.h"
#include "hookout.h"
#include "hookspawn.h"
#include "log.h"

/* After the script exits, output still arriving is read for at most
 * DRAIN_MAX_MS, and reading stops after DRAIN_IDLE_MS of silence: a daemon
 * it started in the background may hold the pipe open forever. */
#define DRAIN_MAX_MS 1000
#define DRAIN_IDLE_MS 200
/* While waiting for the rest of a terminated group, check it this often;
 * after SIGKILL, wait at most KILL_WAIT_MS for the members to be gone so
 * that no remnant races with the next hook. */
#define GROUP_POLL_MS 50
#define KILL_WAIT_MS 1000
#define READ_CHUNK 16384
#define READS_PER_WAKE 8

static int force_sigchld;
/* The stop signal (SIGTERM, SIGINT, SIGHUP) forwarded to the running hook, 0 none. */
static volatile sig_atomic_t stop_signal;
static int sigchld_pipe[2] = {-1, -1};

void hook_force_sigchld_fallback(int on)
{
	force_sigchld = on;
}

/* Only notifies: the loop does the work (a full pipe already notifies). */
static void on_sigchld(int sig)
{
	int saved = errno;
	ssize_t n = write(sigchld_pipe[1], "c", 1);
	(void)sig;
	(void)n;
	errno = saved;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int pidfd_open_compat(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

/* How the loop learns that the child exited: a pidfd, or a SIGCHLD
 * self-pipe on kernels without pidfd_open (before 5.3). */
struct watch {
	int fd; /* pidfd or the self-pipe's read end */
	bool sigchld;
	bool restore; /* old holds a SIGCHLD action to put back */
	struct sigaction old;
};

/* Before fork: decide pidfd vs SIGCHLD; install the handler in the latter
 * case so an early exit is not missed. */
static int watch_prepare(struct watch *w, struct herr *err)
{
	struct sigaction sa;
	int probe = -1;

	w->fd = -1;
	w->sigchld = false;
	w->restore = false;
	if (!force_sigchld && (probe = pidfd_open_compat(getpid())) >= 0) {
		close(probe);
		/* An ignored SIGCHLD makes the kernel reap our child itself and
		 * its exit status would be lost: default it for the run. */
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGCHLD, NULL, &w->old) == 0 && w->old.sa_handler == SIG_IGN &&
		    sigaction(SIGCHLD, &sa, NULL) == 0)
			w->restore = true;
		return 0;
	}
	if (pipe2(sigchld_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
		return herr_errno(err, HOIST_EXIT_INTERNAL, errno, "cannot create SIGCHLD pipe");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigchld;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	if (sigaction(SIGCHLD, &sa, &w->old) != 0) {
		int saved = errno;
		close(sigchld_pipe[0]);
		close(sigchld_pipe[1]);
		sigchld_pipe[0] = sigchld_pipe[1] = -1;
		return herr_errno(err, HOIST_EXIT_INTERNAL, saved, "cannot install SIGCHLD handler");
	}
	w->sigchld = true;
	w->restore = true;
	w->fd = sigchld_pipe[0];
	return 0;
}

/* After fork: open the pidfd (the child cannot have been reaped: only we
 * reap it, so the pid still names it). Falls back to polling if even that
 * fails, which the loop tolerates via its 1 s cap. */
static void watch_attach(struct watch *w, pid_t pid)
{
	if (!w->sigchld)
		w->fd = pidfd_open_compat(pid);
}

static void watch_end(struct watch *w)
{
	if (w->restore)
		(void)sigaction(SIGCHLD, &w->old, NULL);
	w->restore = false;
	if (w->sigchld) {
		close(sigchld_pipe[0]);
		close(sigchld_pipe[1]);
		sigchld_pipe[0] = sigchld_pipe[1] = -1;
	} else if (w->fd >= 0) {
		close(w->fd);
	}
	w->fd = -1;
	w->sigchld = false;
}

/* State of one running hook, shared by the loop's steps. */
struct loop {
	const struct hook_run *run;
	struct hook_child child;
	struct hook_out out;
	int wstatus;
	bool reaped;
	bool timed_out;
	bool escalated;
	bool group_gone;
	bool exec_report; /* the child reported a failure before exec */
	bool lost;        /* waitpid said ECHILD: someone else reaped it */
	struct hook_child_report rep;
	int64_t deadline, kill_at, kill_wait_end, drain_end, last_data;
};

static void try_reap(struct loop *l)
{
	pid_t r;
	if (l->reaped)
		return;
	do
		r = waitpid(l->child.pid, &l->wstatus, WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r == l->child.pid)
		l->reaped = true;
	else if (r < 0 && errno == ECHILD)
		l->reaped = l->lost = true;
}

/* Blocking reap, only after SIGKILL was sent or on error paths. */
static void reap_now(struct loop *l)
{
	pid_t r;
	if (l->reaped)
		return;
	do
		r = waitpid(l->child.pid, &l->wstatus, 0);
	while (r < 0 && errno == EINTR);
	l->reaped = true;
	l->lost = r < 0;
}

/* Reads what is available on one stream (bounded per wake so the clock is checked). */
static void read_stream(struct loop *l, int *fd, enum hook_stream st, int64_t now)
{
	char chunk[READ_CHUNK];
	for (int i = 0; i < READS_PER_WAKE && *fd >= 0; i++) {
		ssize_t n = read(*fd, chunk, sizeof(chunk));
		if (n > 0) {
			hook_out_feed_stream(&l->out, st, chunk, (size_t)n);
			l->last_data = now;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		close(*fd); /* EOF: every writer is gone */
		*fd = -1;
	}
}

static void read_status(struct loop *l)
{
	struct hook_child_report rep;
	ssize_t n;
	do
		n = read(l->child.status_fd, &rep, sizeof(rep));
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(rep)) {
		l->rep = rep;
		l->exec_report = true;
		return; /* EOF follows when the child _exits */
	}
	/* EOF (exec succeeded: the close-on-exec end went away) or error */
	close(l->child.status_fd);
	l->child.status_fd = -1;
}

static void drain_wakeups(int fd)
{
	char b[64];
	while (read(fd, b, sizeof(b)) > 0)
		;
}

/* Timer-driven steps: SIGTERM at the deadline, SIGKILL after the grace. */
static void step_clock(struct loop *l, int64_t now)
{
	pid_t pgid = l->child.pid; /* setsid() made the pid the group id */

	if (stop_signal != 0 && !l->timed_out) {
		/* the handler already signalled the group: the same grace as a timeout */
		log_warnx("%s %s: hoist got signal %d; waiting up to %u s for the hook to end", l->out.event,
		          l->out.script, (int)stop_signal, l->run->grace_s);
		l->timed_out = true;
		l->kill_at = now + (int64_t)l->run->grace_s * 1000;
	}
	if (!l->reaped && !l->timed_out && now >= l->deadline) {
		log_warnx("%s %s: timed out after %u s; sending SIGTERM to its process group", l->out.event,
		          l->out.script, l->run->timeout_s);
		(void)kill(-pgid, SIGTERM);
		l->timed_out = true;
		l->kill_at = now + (int64_t)l->run->grace_s * 1000;
	}
	if (l->timed_out && l->reaped && !l->group_gone) {
		/* The leader is reaped, so the id is kept only by the other
		 * group members; none left alive means no SIGKILL is needed. */
		if (!hook_group_alive(pgid))
			l->group_gone = true;
	}
	if (l->timed_out && !l->escalated && !l->group_gone && now >= l->kill_at) {
		log_warnx("%s %s: still running %u s after SIGTERM; sending SIGKILL to its process group",
		          l->out.event, l->out.script, l->run->grace_s);
		(void)kill(-pgid, SIGKILL);
		l->escalated = true;
		l->kill_wait_end = now + KILL_WAIT_MS;
		reap_now(l); /* SIGKILL cannot be caught: the wait is short */
	}
}

/* True while the loop must keep waiting for the process group itself. */
static bool waiting_for_group(const struct loop *l, int64_t now)
{
	if (!l->reaped)
		return true;
	return l->timed_out && !l->group_gone && (!l->escalated || now < l->kill_wait_end);
}

static int poll_timeout(const struct loop *l, const struct watch *w, int64_t now)
{
	/* without a pidfd or self-pipe the exit is found by polling waitpid */
	int64_t t = w->fd >= 0 ? 1000 : 100;
	if (!l->reaped && !l->timed_out && l->deadline - now < t)
		t = l->deadline - now;
	if (l->timed_out && !l->escalated && l->kill_at - now < t)
		t = l->kill_at - now;
	if (l->timed_out && l->reaped && !l->group_gone && t > GROUP_POLL_MS)
		t = GROUP_POLL_MS;
	if (!waiting_for_group(l, now)) {
		int64_t end = l->last_data + DRAIN_IDLE_MS;
		if (l->drain_end < end)
			end = l->drain_end;
		if (end - now < t)
			t = end - now;
	}
	return t < 0 ? 0 : (int)t;
}

/* The one loop: returns when the child is reaped and its output is read
 * (or abandoned after the drain period). */
static int run_loop(struct loop *l, struct watch *w, struct hook_result *res, struct herr *err)
{
	for (;;) {
		struct pollfd pfd[4];
		int nfds = 0, iout = -1, ierr = -1, istat = -1, iwatch = -1, r;
		int64_t now = now_ms();

		if (w->sigchld || w->fd < 0)
			try_reap(l);
		step_clock(l, now);
		if (!waiting_for_group(l, now)) {
			if (l->drain_end == 0) {
				l->drain_end = now + DRAIN_MAX_MS;
				if (l->last_data < now)
					l->last_data = now;
			}
			if (l->child.out_fd < 0 && l->child.err_fd < 0 && l->child.status_fd < 0)
				return 0;
			if (now >= l->drain_end || now - l->last_data >= DRAIN_IDLE_MS) {
				if (l->child.out_fd >= 0 || l->child.err_fd >= 0)
					res->output_left_open = true;
				return 0;
			}
		}
		if (l->child.out_fd >= 0) {
			pfd[nfds] = (struct pollfd){.fd = l->child.out_fd, .events = POLLIN};
			iout = nfds++;
		}
		if (l->child.err_fd >= 0) {
			pfd[nfds] = (struct pollfd){.fd = l->child.err_fd, .events = POLLIN};
			ierr = nfds++;
		}
		if (l->child.status_fd >= 0) {
			pfd[nfds] = (struct pollfd){.fd = l->child.status_fd, .events = POLLIN};
			istat = nfds++;
		}
		if (!l->reaped && w->fd >= 0) {
			pfd[nfds] = (struct pollfd){.fd = w->fd, .events = POLLIN};
			iwatch = nfds++;
		}
		r = poll(pfd, (nfds_t)nfds, poll_timeout(l, w, now));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return herr_errno(err, HOIST_EXIT_INTERNAL, errno, "poll on hook %s", l->out.script);
		now = now_ms();
		if (iout >= 0 && pfd[iout].revents != 0)
			read_stream(l, &l->child.out_fd, HOOK_STDOUT, now);
		if (ierr >= 0 && pfd[ierr].revents != 0)
			read_stream(l, &l->child.err_fd, HOOK_STDERR, now);
		if (istat >= 0 && pfd[istat].revents != 0)
			read_status(l);
		if (iwatch >= 0 && pfd[iwatch].revents != 0) {
			if (w->sigchld)
				drain_wakeups(w->fd);
			try_reap(l);
		}
	}
}

/* Maps what the loop saw to the outcome fields. */
static void classify(struct loop *l, struct hook_result *res, struct herr *err)
{
	const struct hook_run *run = l->run;
	int ws = l->wstatus;

	if (WIFEXITED(ws))
		res->exit_status = WEXITSTATUS(ws);
	else if (WIFSIGNALED(ws))
		res->term_signal = WTERMSIG(ws);
	res->escalated = l->escalated;
	if (l->exec_report && l->rep.stage == HOOK_STAGE_EXEC) {
		res->outcome = HOOK_EXEC_FAILED;
		res->exec_errno = l->rep.err;
		/* ENOENT for a file that exists means its #! interpreter is missing */
		res->interpreter_missing = l->rep.err == ENOENT && access(run->script, F_OK) == 0;
	} else if (l->exec_report) {
		res->outcome = HOOK_SETUP_FAILED;
		if (l->rep.stage == HOOK_STAGE_CHDIR)
			herr_errno(err, HOIST_EXIT_FAILED, l->rep.err,
			           "hook %s: cannot change to working directory %s", l->out.script, run->cwd);
		else
			herr_errno(err, HOIST_EXIT_FAILED, l->rep.err, "hook %s: %s failed%s", l->out.script,
			           hook_stage_name(l->rep.stage), run->runas != NULL ? " (runas)" : "");
	} else if (l->timed_out) {
		res->outcome = HOOK_TIMED_OUT;
	} else if (l->lost) {
		res->outcome = HOOK_SETUP_FAILED;
		herr_set(err, HOIST_EXIT_INTERNAL, "hook %s: its exit status was lost (reaped elsewhere)",
		         l->out.script);
	} else if (WIFEXITED(ws)) {
		res->outcome = res->exit_status == 0 ? HOOK_OK : HOOK_EXIT_NONZERO;
	} else {
		res->outcome = HOOK_SIGNALED;
	}
}

static void set_setup_failed(struct hook_result *res, const struct herr *err)
{
	res->outcome = HOOK_SETUP_FAILED;
	(void)snprintf(res->setup_error, sizeof(res->setup_error), "%s", err->msg);
}

/* Async-signal-safe only. With a hook running: pass the signal on and let
 * the hook loop wait for the hook to end (stop_signal) before hoist dies of
 * it, so the hook's cleanup is logged and never finds its output pipe
 * without a reader (SIGPIPE: a shell printing "Terminated" died of it before
 * its TERM trap ran). Without one, or on a second signal: die of it now. */
static void forward_and_die(int sig)
{
	pid_t pgid = (pid_t)hook_running_pgid;
	if (pgid > 0) {
		(void)kill(-pgid, sig);
		(void)kill(pgid, sig); /* the child itself, should it not have called setsid() yet */
		if (stop_signal == 0) {
			stop_signal = sig;
			return;
		}
	}
	(void)signal(sig, SIG_DFL);
	(void)raise(sig);
}

/* After the hook a stop signal was forwarded to has ended: die of the signal. */
static void die_of_stop_signal(void)
{
	int sig = (int)stop_signal;
	if (sig == 0)
		return;
	log_warnx("stopped by signal %d (%s) while a hook ran; the hook has ended, hoist stops too "
	          "(the journal is kept: the next run recovers)",
	          sig, strsignal(sig));
	(void)signal(sig, SIG_DFL);
	(void)raise(sig);
}

int hook_signals_forward(struct herr *err)
{
	static const int sigs[] = {SIGTERM, SIGINT, SIGHUP};
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = forward_and_die;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) != 0)
			return herr_errno(err, HOIST_EXIT_INTERNAL, errno, "cannot install the handler of signal %d",
			                  sigs[i]);
	return 0;
}

/* Says so in the log when a script is neither a binary nor has a #! line:
 * the child then runs it with /bin/sh (hookspawn.c), as execvp would. */
static void note_no_shebang(const struct hook_run *run)
{
	unsigned char head[4];
	ssize_t n;
	int fd = open(run->script, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return; /* the exec reports a missing or unreadable script */
	n = read(fd, head, sizeof(head));
	close(fd);
	if (n >= 2 && head[0] == '#' && head[1] == '!')
		return;
	if (n == 4 && memcmp(head, "\x7f" "ELF", 4) == 0)
		return;
	log_info("%s %s: no #! line; running it with /bin/sh, as execvp and the CodeDeploy agent do",
	         run->event != NULL ? run->event : "hook", run->display != NULL ? run->display : run->script);
}

int hook_run(const struct hook_run *run, struct hook_result *res, struct herr *err)
{
	struct hook_ids ids = {0};
	struct watch w = {.fd = -1};
	struct loop loop_storage; /* ~7 KiB: fixed, whatever the hook prints */
	struct loop *l = NULL;
	double start = now_s();
	int rc = -1;

	memset(res, 0, sizeof(*res));
	res->outcome = HOOK_SETUP_FAILED;
	if (run == NULL || run->script == NULL || run->cwd == NULL || run->envp == NULL ||
	    run->timeout_s == 0) {
		herr_set(err, HOIST_EXIT_INTERNAL, "hook_run: script, cwd, envp and timeout are required");
		set_setup_failed(res, err);
		return -1;
	}
	res->timeout_s = run->timeout_s;
	res->grace_s = run->grace_s;
	l = &loop_storage;
	memset(l, 0, sizeof(*l));
	l->run = run;
	l->child.pid = -1;
	l->child.out_fd = l->child.err_fd = l->child.status_fd = l->child.go_fd = -1;
	hook_out_init(&l->out, run->event, run->display != NULL ? run->display : run->script);

	if (hook_ids_lookup(run->runas, &ids, err) != 0 || watch_prepare(&w, err) != 0) {
		/* no prefix: the caller's message already names the event and script */
		set_setup_failed(res, err);
		rc = 0;
		goto out;
	}
	note_no_shebang(run);
	if (hook_spawn(run, &ids, &l->child, err) != 0) {
		set_setup_failed(res, err);
		rc = 0;
		goto out;
	}
	watch_attach(&w, l->child.pid);
	if (run->on_spawn != NULL)
		run->on_spawn(run->spawn_ctx, l->child.pid);
	hook_release(&l->child); /* only now, with the journal line written, may the script run */
	l->deadline =
	    now_ms() + (run->timeout_ms ? (int64_t)run->timeout_ms : (int64_t)run->timeout_s * 1000);
	if (run_loop(l, &w, res, err) != 0) {
		/* hoist's own failure: take the whole group down, then reap */
		(void)kill(-l->child.pid, SIGKILL);
		reap_now(l);
		goto out;
	}
	hook_out_finish(&l->out);
	if (res->output_left_open)
		log_warnx("%s %s: exited, but a background process it started still holds its output "
		          "open; no longer reading it (redirect a daemon's output to a file)",
		          l->out.event, l->out.script);
	classify(l, res, err);
	if (res->outcome == HOOK_SETUP_FAILED)
		set_setup_failed(res, err);
	rc = 0;
out:
	hook_running_pgid = 0;
	if (l != NULL) {
		if (l->child.pid > 0 && !l->reaped) {
			(void)kill(-l->child.pid, SIGKILL);
			reap_now(l);
		}
		if (l->child.out_fd >= 0)
			close(l->child.out_fd);
		if (l->child.err_fd >= 0)
			close(l->child.err_fd);
		if (l->child.status_fd >= 0)
			close(l->child.status_fd);
		if (l->child.go_fd >= 0)
			close(l->child.go_fd);
		res->output_bytes = l->out.bytes;
		hook_out_tail(&l->out, res->tail, sizeof(res->tail));
	}
	watch_end(&w);
	hook_ids_free(&ids);
	die_of_stop_signal(); /* the group is reaped and its output read */
	res->duration_s = now_s() - start;
	return rc;
}

const char *hook_outcome_describe(const struct hook_result *res, char *buf, unsigned size)
{
	const char *hint = "";
	const char *sig;
	int n;

	if (buf == NULL || size == 0)
		return "";
	switch (res->outcome) {
	case HOOK_OK:
		n = snprintf(buf, size, "succeeded");
		break;
	case HOOK_EXIT_NONZERO:
		n = snprintf(buf, size, "exited with status %d", res->exit_status);
		break;
	case HOOK_SIGNALED:
		sig = strsignal(res->term_signal);
		n = snprintf(buf, size, "killed by signal %d (%s)", res->term_signal,
		             sig != NULL ? sig : "unknown");
		break;
	case HOOK_TIMED_OUT:
		if (res->escalated)
			n = snprintf(buf, size, "timed out after %u s (terminated; killed after %u s grace)",
			             res->timeout_s, res->grace_s);
		else
			n = snprintf(buf, size, "timed out after %u s (terminated)", res->timeout_s);
		break;
	case HOOK_EXEC_FAILED:
		if (res->exec_errno == EACCES)
			hint = " (can its user reach and execute it and its #! interpreter? is the file "
			       "system mounted noexec?)";
		else if (res->exec_errno == ENOEXEC)
			hint = " (not a binary, and /bin/sh could not run it either)";
		else if (res->exec_errno == ENOENT && res->interpreter_missing)
			hint = " (the script exists: its #! interpreter was not found; check the #! line "
			       "and CRLF line endings)";
		else if (res->exec_errno == ENOENT)
			hint = " (the script is missing)";
		n = snprintf(buf, size, "could not be executed: %s%s", strerror(res->exec_errno), hint);
		break;
	case HOOK_SETUP_FAILED:
	default:
		n = snprintf(buf, size, "could not be started: %s",
		             res->setup_error[0] != '\0' ? res->setup_error : "setup failed");
		break;
	}
	if (n < 0)
		buf[0] = '\0';
	else if ((unsigned)n >= size && size >= 4)
		memcpy(buf + size - 4, "...", 4);
	return buf;
}
