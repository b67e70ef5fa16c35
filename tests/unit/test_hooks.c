/* test_hooks.c - running hook scripts: output, environment, fds, timeouts,
 * daemons left behind, exec failures and runas. Scripts are written into a
 * temporary directory by each test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "fsutil.h"
#include "herr.h"
#include "hookout.h"
#include "hooks.h"
#include "log.h"

static char tmpdir[256]; /* short, so paths built from it fit PATH_MAX */
static char logpath[PATH_MAX];
static int logfd = -1;

static char env_path[] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
static char env_lang[] = "LANG=C.UTF-8";
static char env_event[] = "LIFECYCLE_EVENT=BeforeInstall";
static char env_version[] = "HOIST_VERSION=1.2.3";
static char *base_env[] = {env_path, env_lang, env_event, env_version, NULL};

static int setup(void **state)
{
	(void)state;
	(void)snprintf(tmpdir, sizeof(tmpdir), "/tmp/hoist-hooks-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	(void)snprintf(logpath, sizeof(logpath), "%s/deploy.log", tmpdir);
	logfd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (logfd < 0)
		return -1;
	log_set_stderr(0);
	log_set_file(logfd);
	hook_force_sigchld_fallback(0);
	return 0;
}

static int teardown(void **state)
{
	struct herr e = {0};
	(void)state;
	log_set_file(-1);
	if (logfd >= 0)
		close(logfd);
	logfd = -1;
	hook_force_sigchld_fallback(0);
	return fs_rm_rf(tmpdir, &e);
}

/* Writes tmpdir/name with the given mode; returns its path (static). */
static const char *script(const char *name, const char *text, mode_t mode)
{
	static char path[PATH_MAX];
	int fd;
	(void)snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
	return path;
}

static struct hook_run make_run(const char *path)
{
	struct hook_run r = {
	    .event = "BeforeInstall",
	    .script = path,
	    .display = "scripts/hook.sh",
	    .cwd = tmpdir,
	    .envp = base_env,
	    .runas = NULL,
	    .timeout_s = 2,
	    .grace_s = 1,
	};
	return r;
}

/* Runs and expects hook_run itself to succeed. */
static void run_ok(const struct hook_run *r, struct hook_result *res)
{
	struct herr e = {0};
	assert_int_equal(hook_run(r, res, &e), 0);
}

static char *read_log(void)
{
	struct buf b;
	struct herr e = {0};
	buf_init(&b, 1 << 20);
	assert_int_equal(fs_read_file(logpath, 1 << 20, 0, &b, &e), 0);
	return b.data != NULL ? buf_steal(&b) : strdup("");
}

/* 1 if pid names a live (not zombie) process. */
static int alive(pid_t pid)
{
	char path[64], stat[256];
	FILE *f;
	char *p;
	int live = 0;
	(void)snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	if (fgets(stat, sizeof(stat), f) != NULL && (p = strrchr(stat, ')')) != NULL)
		live = p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
	fclose(f);
	return live;
}

static pid_t read_pid(const char *name)
{
	char path[PATH_MAX], text[32] = {0};
	FILE *f;
	(void)snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(text, sizeof(text), f));
	fclose(f);
	return (pid_t)strtol(text, NULL, 10);
}

static void test_success_output_in_order(void **state)
{
	struct hook_result res;
	char d[256];
	char *log;
	const char *p;
	(void)state;
	struct hook_run r = make_run(script(
	    "ok.sh", "#!/bin/sh\necho one\necho two >&2\necho three\necho four >&2\nprintf 'five'\n", 0755));
	run_ok(&r, &res);
	assert_int_equal(res.outcome, HOOK_OK);
	assert_int_equal(res.exit_status, 0);
	/* a pipe per stream: each stream in order, stderr lines marked (issue 9 item 25);
	 * how the two streams interleave depends on when hoist reads them */
	for (const char *const *w = (const char *const[]){"one\n", "[stderr] two\n", "three\n",
	                                                    "[stderr] four\n", "five\n", NULL};
	     *w != NULL; w++)
		if (strstr(res.tail, *w) == NULL)
			fail_msg("tail '%s' lacks '%s'", res.tail, *w);
	assert_true(strstr(res.tail, "one\n") < strstr(res.tail, "three\n"));
	assert_true(strstr(res.tail, "three\n") < strstr(res.tail, "five\n"));
	assert_true(strstr(res.tail, "two\n") < strstr(res.tail, "four\n"));
	assert_string_equal(hook_outcome_describe(&res, d, sizeof(d)), "succeeded");
	assert_true(res.duration_s >= 0.0 && res.duration_s < 2.0);
	assert_false(res.output_left_open);
	log = read_log();
	/* "YYYY-MM-DDTHH:MM:SSZ BeforeInstall scripts/hook.sh [stdout]: one", in order per stream */
	p = strstr(log, "Z BeforeInstall scripts/hook.sh [stdout]: one\n");
	assert_non_null(p);
	assert_true(p - log >= 19 && p[-9] == 'T' && p[-12] == '-' && p[-15] == '-');
	p = strstr(p, "scripts/hook.sh [stdout]: three\n");
	assert_non_null(p);
	assert_non_null(strstr(p, "scripts/hook.sh [stdout]: five\n"));
	p = strstr(log, "scripts/hook.sh [stderr]: two\n");
	assert_non_null(p);
	assert_non_null(strstr(p, "scripts/hook.sh [stderr]: four\n"));
	assert_null(strstr(log, "[stdout]: two"));
	assert_null(strstr(log, "[stderr]: one"));
	free(log);
}

static void test_nonzero_exit(void **state)
{
	struct hook_result res;
	char d[256];
	(void)state;
	struct hook_run r = make_run(script("fail.sh", "#!/bin/sh\necho bad >&2\nexit 3\n", 0755));
	run_ok(&r, &res);
	assert_int_equal(res.outcome, HOOK_EXIT_NONZERO);
	assert_int_equal(res.exit_status, 3);
	assert_int_equal(res.term_signal, 0);
	assert_string_equal(res.tail, "[stderr] bad\n");
	assert_string_equal(hook_outcome_describe(&res, d, sizeof(d)), "exited with status 3");
	/* a caller that ignores SIGCHLD (the kernel then auto-reaps) still gets the status */
	struct sigaction sa;
	signal(SIGCHLD, SIG_IGN);
	run_ok(&r, &res);
	assert_int_equal(sigaction(SIGCHLD, NULL, &sa), 0);
	signal(SIGCHLD, SIG_DFL);
	assert_true(sa.sa_handler == SIG_IGN); /* put back as it was */
	assert_int_equal(res.outcome, HOOK_EXIT_NONZERO);
	assert_int_equal(res.exit_status, 3);
}

static void test_killed_by_signal(void **state)
{
	struct hook_result res;
	char d[256];
	(void)state;
	struct hook_run r = make_run(script("sig.sh", "#!/bin/sh\nkill -9 $$\n", 0755));
	run_ok(&r, &res);
	assert_int_equal(res.outcome, HOOK_SIGNALED);
	assert_int_equal(res.term_signal, SIGKILL);
	assert_string_equal(hook_outcome_describe(&res, d, sizeof(d)), "killed by signal 9 (Killed)");
}

static void test_env_exact(void **state)
{
	struct hook_result res;
	char *copy, *line, *save = NULL;
	int seen = 0;
	(void)state;
	assert_int_equal(setenv("HOIST_TEST_LEAK", "secret", 1), 0);
	struct hook_run r = make_run(script("env.sh", "#!/bin/sh\nexec /usr/bin/env\n", 0755));
	run_ok(&r, &res);
	unsetenv("HOIST_TEST_LEAK");
	assert_int_equal(res.outcome, HOOK_OK);
	assert_null(strstr(res.tail, "HOIST_TEST_LEAK"));
	copy = strdup(res.tail);
	for (line = strtok_r(copy, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		int found = 0;
		if (strncmp(line, "PWD=", 4) == 0)
			continue; /* /bin/sh itself exports PWD */
		for (int i = 0; base_env[i] != NULL; i++)
			found |= strcmp(line, base_env[i]) == 0;
		if (!found)
			fail_msg("unexpected variable in hook environment: %s", line);
		seen++;
	}
	free(copy);
	assert_int_equal(seen, 4);
}

static void test_cwd_and_stdin(void **state)
{
	struct hook_result res;
	char sub[PATH_MAX], want[PATH_MAX + 16];
	(void)state;
	(void)snprintf(sub, sizeof(sub), "%s/tree", tmpdir);
	assert_int_equal(mkdir(sub, 0755), 0);
	struct hook_run r =
	    make_run(script("cwd.sh",
	                    "#!/bin/sh\npwd\nif read x; then echo \"got:$x\"; else echo EOF; fi\n"
	                    "readlink /proc/$$/fd/0\n",
	                    0755));
	r.cwd = sub;
	run_ok(&r, &res);
	assert_int_equal(res.outcome, HOOK_OK);
	(void)snprintf(want, sizeof(want), "%s\nEOF\n/dev/null\n", sub);
	assert_string_equal(res.tail, want);
}

static void test_no_fd_leaks(void **state)
{
	struct hook_result res;
	char marker[PATH_MAX];
	char *copy, *line, *save = NULL, *pipe1 = NULL, *pipe2_ = NULL;
	int fd, count = 0;
	(void)state;
	(void)snprintf(marker, sizeof(marker), "%s/leak-marker", tmpdir);
	fd = open(marker, O_RDWR | O_CREAT, 0600); /* deliberately without O_CLOEXEC */
	assert_true(fd >= 0);
	assert_int_equal(dup2(fd, 57), 57);
	/* exec: /proc/self is then ls itself, whose only own fd is its directory */
	struct hook_run r = make_run(script("fds.sh", "#!/bin/sh\nexec ls -l /proc/self/fd\n", 0755));
	run_ok(&r, &res);
	close(57);
	close(fd);
	assert_int_equal(res.outcome, HOOK_OK);
	assert_null(strstr(res.tail, "leak-marker"));
	copy = strdup(res.tail);
	for (line = strtok_r(copy, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char *arrow = strstr(line, " -> "), *num;
		if (arrow == NULL)
			continue; /* "total 0" */
		*arrow = '\0';
		num = strrchr(line, ' ') + 1;
		count++;
		if (strcmp(num, "0") == 0)
			assert_string_equal(arrow + 4, "/dev/null");
		else if (strcmp(num, "1") == 0)
			pipe1 = arrow + 4;
		else if (strcmp(num, "2") == 0)
			pipe2_ = arrow + 4; /* stderr: a pipe of its own (issue 9 item 25) */
		else if (strstr(arrow + 4, "/fd") == NULL)
			fail_msg("fd %s leaked into the hook: %s", num, arrow + 4);
	}
	assert_non_null(pipe1);
	assert_int_equal(strncmp(pipe1, "pipe:[", 6), 0);
	assert_non_null(pipe2_);
	assert_int_equal(strncmp(pipe2_, "pipe:[", 6), 0);
	assert_string_not_equal(pipe1, pipe2_);
	assert_int_equal(count, 4); /* 0, 1, 2 and ls's own directory */
	free(copy);
}

static void test_timeout_escalates_to_sigkill(void **state)
{
	struct hook_result res;
	char d[256];
	pid_t child;
	(void)state;
	/* trap '' TERM makes the shell and the children it forks ignore SIGTERM */
	struct hook_run r =
	    make_run(script("stuck.sh",
	                    "#!/bin/sh\ntrap '' TERM\nsleep 30 &\necho $! > child.pid\necho waiting\n"
	                    "while :; do sleep 0.1; done\n",
	                    0755));
	r.timeout_s = 1;
	r.grace_s = 1;
	run_ok(&r, &res);
	assert_int_equal(res.outcome, HOOK_TIMED_OUT);
	assert_true(res.escalated);
	assert_int_equal(res.term_signal, SIGKILL);
	assert_true(res.duration_s >= 1.9 && res.duration_s < 4.0);
	assert_string_equal(hook_outcome_describe(&res, d, sizeof(d)),
	                    "timed out after 1 s (terminated; killed after 1 s grace)");
	assert_string_equal(res.tail, "waiting\n");
	child = read_pid("child.pid");
	assert_true(child > 0);
	assert_false(alive(child)); /* the group got SIGKILL, not only the leader */
}

static void test_timeout_sigterm_suffices(void **state)
{
	struct hook_result res;
	char d[256];
	(void)state;
	struct hook_run r = make_run(script("slow.sh", "#!/bin/sh\nsleep 30\n", 0755));
	r.timeout_s = 1;
	run_ok(&r, &res);
	assert_int_equal(res.outcome, HOOK_TIMED_OUT);
	assert_false(res.escalated);
	assert_int_equal(res.term_signal, SIGTERM);
	assert_true(res.duration_s < 3.0); /* no grace period spent */
	assert_string_equal(hook_outcome_describe(&res, d, sizeof(d)), "timed out after 1 s (terminated)");
}

/* ApplicationStart starting a daemon that keeps stdout: hoist must return
 * with the script's status soon after it exits, and leave the daemon alone. */
static void run_daemon_case(void)
{
	struct hook_result res;
	pid_t daemon;
	char *log;
	struct hook_run r = make_run(
	    script("start.sh", "#!/bin/sh\nsleep 30 &\necho $! > daemon.pid\necho started\nexit 5\n", 0755));
	r.timeout_s = 5;
	run_ok(&r, &res);
	assert_int_equal(res.outcome, HOOK_EXIT_NONZERO);
	assert_int_equal(res.exit_status, 5);
	assert_true(res.output_left_open);
	assert_true(res.duration_s < 2.5); /* well before the 5 s timeout (drain: 1 s at most) */
	assert_string_equal(res.tail, "started\n");
	daemon = read_pid("daemon.pid");
	assert_true(daemon > 0);
	assert_true(alive(daemon));
	assert_int_equal(kill(daemon, SIGKILL), 0);
	log = read_log();
	assert_non_null(strstr(log, "still holds its output open"));
	free(log);
}

static void test_daemon_left_running(void **state)
{
	(void)state;
	run_daemon_case();
}

static void test_sigchld_fallback(void **state)
{
	struct hook_result res;
	(void)state;
	hook_force_sigchld_fallback(1);
	struct hook_run r = make_run(script("fb.sh", "#!/bin/sh\necho a\nexit 7\n", 0755));
	run_ok(&r, &res);
	assert_int_equal(res.outcome, HOOK_EXIT_NONZERO);
	assert_int_equal(res.exit_status, 7);
	assert_string_equal(res.tail, "a\n");
	run_daemon_case();
	r = make_run(script("fbslow.sh", "#!/bin/sh\nsleep 30\n", 0755));
	r.timeout_s = 1;
	run_ok(&r, &res);
	assert_int_equal(res.outcome, HOOK_TIMED_OUT);
	assert_int_equal(res.term_signal, SIGTERM);
	hook_force_sigchld_fallback(0);
	/* the handler was removed again */
	struct sigaction sa;
	assert_int_equal(sigaction(SIGCHLD, NULL, &sa), 0);
	assert_true(sa.sa_handler == SIG_DFL);
}

static void expect_exec_failure(const char *path, int err_no, const char *in_desc)
{
	struct hook_result res;
	char d[512];
	struct hook_run r = make_run(path);
	run_ok(&r, &res);
	assert_int_equal(res.outcome, HOOK_EXEC_FAILED);
	assert_int_equal(res.exec_errno, err_no);
	hook_outcome_describe(&res, d, sizeof(d));
	if (strstr(d, in_desc) == NULL)
		fail_msg("description '%s' lacks '%s'", d, in_desc);
}

static void test_exec_failures(void **state)
{
	char missing[PATH_MAX];
	(void)state;
	(void)snprintf(missing, sizeof(missing), "%s/nope.sh", tmpdir);
	expect_exec_failure(missing, ENOENT, "No such file or directory (the script is missing)");
	expect_exec_failure(script("noexec.sh", "#!/bin/sh\necho hi\n", 0644), EACCES,
	                    "could not be executed: Permission denied (can its user reach and execute it");
	expect_exec_failure(script("badinterp.sh", "#!/nonexistent/interp\necho hi\n", 0755), ENOENT,
	                    "its #! interpreter was not found");

	/* the file was not modified: hoist never chmods bundle files */
	struct stat st;
	char p[PATH_MAX];
	(void)snprintf(p, sizeof(p), "%s/noexec.sh", tmpdir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
}

/* A script without #! runs with /bin/sh, as execvp and the CodeDeploy agent
 * run it, and the log says so once (issue 9 item 23). */
static void test_no_shebang_runs_with_sh(void **state)
{
	struct hook_result res;
	char *log, *first;
	(void)state;
	struct hook_run r = make_run(script("noshebang.sh", "echo \"hi from $0\"\nexit 4\n", 0755));
	run_ok(&r, &res);
	assert_int_equal(res.outcome, HOOK_EXIT_NONZERO);
	assert_int_equal(res.exit_status, 4);
	if (strstr(res.tail, "hi from ") == NULL || strstr(res.tail, "noshebang.sh\n") == NULL)
		fail_msg("tail: %s", res.tail);
	/* a #! script is not mentioned */
	r = make_run(script("she.sh", "#!/bin/sh\nexit 0\n", 0755));
	run_ok(&r, &res);
	assert_int_equal(res.outcome, HOOK_OK);
	log = read_log();
	first = strstr(log, "BeforeInstall scripts/hook.sh: no #! line; running it with /bin/sh");
	assert_non_null(first);
	assert_null(strstr(strstr(first, "no #! line") + 1, "no #! line")); /* once */
	free(log);
}

static void test_bad_cwd_is_setup_failure(void **state)
{
	struct hook_result res;
	struct herr e = {0};
	char d[1200];
	(void)state;
	struct hook_run r = make_run(script("c.sh", "#!/bin/sh\n", 0755));
	r.cwd = "/nonexistent/hoist-dir";
	assert_int_equal(hook_run(&r, &res, &e), 0);
	assert_int_equal(res.outcome, HOOK_SETUP_FAILED);
	assert_non_null(strstr(e.msg, "cannot change to working directory /nonexistent/hoist-dir"));
	assert_non_null(strstr(hook_outcome_describe(&res, d, sizeof(d)), "could not be started: "));
}

static void test_runas_unknown_user(void **state)
{
	struct hook_result res;
	struct herr e = {0};
	(void)state;
	struct hook_run r = make_run(script("u.sh", "#!/bin/sh\ntouch ran\n", 0755));
	r.runas = "no-such-user-hoist";
	assert_int_equal(hook_run(&r, &res, &e), 0);
	assert_int_equal(res.outcome, HOOK_SETUP_FAILED);
	assert_non_null(strstr(e.msg, "runas user 'no-such-user-hoist' does not exist"));
	assert_non_null(strstr(res.setup_error, "does not exist"));
	assert_int_equal(fs_exists("ran"), 0);
}

/* As root, runas root works (uid 0 kept, no regain check); as another
 * user, switching to root is refused before anything runs. */
static void test_runas_root(void **state)
{
	struct hook_result res;
	struct herr e = {0};
	(void)state;
	struct hook_run r = make_run(script("r.sh", "#!/bin/sh\nid -u\n", 0755));
	r.runas = "root";
	assert_int_equal(hook_run(&r, &res, &e), 0);
	if (geteuid() == 0) {
		assert_int_equal(res.outcome, HOOK_OK);
		assert_string_equal(res.tail, "0\n");
	} else {
		assert_int_equal(res.outcome, HOOK_SETUP_FAILED);
		assert_non_null(
		    strstr(e.msg, "cannot run hook as user 'root': hoist is not running as root"));
	}
}

static void test_runas_nobody(void **state)
{
	struct hook_result res;
	struct passwd *pw;
	char want[256];
	(void)state;
	if (geteuid() != 0) {
		print_message("SKIPPED test_runas_nobody: needs root to switch users\n");
		skip();
	}
	pw = getpwnam("nobody");
	if (pw == NULL) {
		print_message("SKIPPED test_runas_nobody: no user 'nobody'\n");
		skip();
	}
	assert_int_equal(chmod(tmpdir, 0755), 0);
	/* give the test process extra groups: the hook must not keep them */
	gid_t saved[64], extra[2] = {0, 4};
	int nsaved = getgroups(64, saved);
	assert_true(nsaved >= 0);
	assert_int_equal(setgroups(2, extra), 0);
	/* groups: root's supplementary groups (e.g. 0) must be gone; no capabilities left */
	struct hook_run r = make_run(
	    script("who.sh",
	           "#!/bin/sh\nid -u\nid -G\ngrep -E '^(CapEff|CapPrm|Uid|Gid):' /proc/self/status | "
	           "tr -s '\\t' ' '\n",
	           0755));
	r.runas = "nobody";
	run_ok(&r, &res);
	assert_int_equal(setgroups((size_t)nsaved, saved), 0);
	assert_int_equal(res.outcome, HOOK_OK);
	(void)snprintf(want, sizeof(want),
	               "%u\n%u\nUid: %u %u %u %u\nGid: %u %u %u %u\nCapPrm: 0000000000000000\n"
	               "CapEff: 0000000000000000\n",
	               pw->pw_uid, pw->pw_gid, pw->pw_uid, pw->pw_uid, pw->pw_uid, pw->pw_uid, pw->pw_gid,
	               pw->pw_gid, pw->pw_gid, pw->pw_gid);
	assert_string_equal(res.tail, want);
}

static void test_long_lines_split(void **state)
{
	struct hook_result res;
	char *log, *p;
	size_t n;
	(void)state;
	struct hook_run r = make_run(script(
	    "long.sh", "#!/bin/sh\nhead -c 10000 /dev/zero | tr '\\0' x\necho\nprintf 'end\\033[31m\\n'\n",
	    0755));
	run_ok(&r, &res);
	assert_int_equal(res.outcome, HOOK_OK);
	log = read_log();
	/* 10000 bytes become lines of 4096, 4096 and 1808 bytes */
	size_t lens[3] = {4096, 4096, 1808};
	p = log;
	for (int i = 0; i < 3; i++) {
		p = strstr(p, "scripts/hook.sh [stdout]: x");
		assert_non_null(p);
		p += strlen("scripts/hook.sh [stdout]: ");
		n = strspn(p, "x");
		assert_int_equal(n, lens[i]);
		assert_int_equal(p[n], '\n');
		p += n;
	}
	/* control bytes are neutralised in the log and the tail */
	assert_non_null(strstr(p, "scripts/hook.sh [stdout]: end?[31m\n"));
	free(log);
	assert_true(strlen(res.tail) <= HOOK_TAIL_MAX - 1);
	n = strlen(res.tail);
	assert_string_equal(res.tail + n - 9, "end?[31m\n");
}

static void test_lots_of_output(void **state)
{
	struct hook_result res;
	size_t n;
	(void)state;
	struct rusage ru0, ru1;
	log_set_file(-1); /* keep the test log small; lines still go through the splitter */
	assert_int_equal(getrusage(RUSAGE_SELF, &ru0), 0);
	struct hook_run r = make_run(script("big.sh",
	                                    "#!/bin/sh\nhead -c 5000000 /dev/zero | tr '\\0' a\necho\n"
	                                    "i=0; yes 0123456789 | head -n 200000\necho last line\n",
	                                    0755));
	r.timeout_s = 20;
	run_ok(&r, &res);
	assert_int_equal(getrusage(RUSAGE_SELF, &ru1), 0);
	log_set_file(logfd);
	assert_int_equal(res.outcome, HOOK_OK);
	/* 7 MB went through; the peak RSS of hoist grew by far less (fixed buffers) */
	assert_true(ru1.ru_maxrss - ru0.ru_maxrss < 3 * 1024);
	assert_int_equal(res.output_bytes, 5000000ULL + 1 + 200000ULL * 11 + 10);
	n = strlen(res.tail);
	assert_true(n <= HOOK_TAIL_MAX - 1 && n > HOOK_TAIL_MAX - 20);
	assert_int_equal(strncmp(res.tail, "0123456789\n", 11), 0); /* starts on a whole line */
	assert_string_equal(res.tail + n - 21, "0123456789\nlast line\n");
}

/* The tail ring as a pure unit: whole lines, bounded, a lone long line kept by its end. */
static void test_tail_ring(void **state)
{
	static struct hook_out o;
	char tail[HOOK_TAIL_MAX], line[64];
	(void)state;
	log_set_file(-1);
	hook_out_init(&o, "E", "s");
	hook_out_tail(&o, tail, sizeof(tail));
	assert_string_equal(tail, "");
	for (int i = 0; i < 1000; i++) {
		int len = snprintf(line, sizeof(line), "line %04d\r\n", i);
		hook_out_feed(&o, line, (size_t)len);
	}
	hook_out_tail(&o, tail, sizeof(tail));
	assert_int_equal(strncmp(tail, "line 0", 6), 0);
	assert_int_equal(strlen(tail) % 10, 0); /* "line NNNN\n", CR stripped */
	assert_string_equal(tail + strlen(tail) - 10, "line 0999\n");
	hook_out_init(&o, "E", "s");
	for (int i = 0; i < 3000; i++)
		hook_out_feed(&o, "y", 1);
	hook_out_finish(&o);
	hook_out_tail(&o, tail, sizeof(tail));
	assert_int_equal(strlen(tail), HOOK_TAIL_MAX - 1);
	assert_int_equal(tail[HOOK_TAIL_MAX - 2], '\n');
	log_set_file(logfd);
}

static int count_fds(void)
{
	char path[64];
	int n = 0;
	for (int fd = 0; fd < 1024; fd++) {
		(void)snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n += access(path, F_OK) == 0;
	}
	return n;
}

/* hook_run leaves no fd behind in hoist, on success and on every failure path. */
static void test_parent_fds_unchanged(void **state)
{
	struct hook_result res;
	struct herr e = {0};
	int before = count_fds();
	(void)state;
	struct hook_run r = make_run(script("p.sh", "#!/bin/sh\necho x\n", 0755));
	run_ok(&r, &res);
	r.runas = "no-such-user-hoist";
	assert_int_equal(hook_run(&r, &res, &e), 0);
	r = make_run(script("n.sh", "#!/nonexistent\n", 0755));
	run_ok(&r, &res);
	r.cwd = "/nonexistent";
	run_ok(&r, &res);
	hook_force_sigchld_fallback(1);
	r = make_run(script("p2.sh", "#!/bin/sh\nexit 1\n", 0755));
	run_ok(&r, &res);
	hook_force_sigchld_fallback(0);
	assert_int_equal(count_fds(), before);
}

static void test_invalid_arguments(void **state)
{
	struct hook_result res;
	struct herr e = {0};
	(void)state;
	struct hook_run r = make_run("/bin/true");
	r.timeout_s = 0;
	assert_int_equal(hook_run(&r, &res, &e), -1);
	assert_int_equal(res.outcome, HOOK_SETUP_FAILED);
	assert_non_null(strstr(e.msg, "timeout"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_success_output_in_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nonzero_exit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_killed_by_signal, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_env_exact, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cwd_and_stdin, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_fd_leaks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_timeout_escalates_to_sigkill, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_timeout_sigterm_suffices, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_daemon_left_running, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sigchld_fallback, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_shebang_runs_with_sh, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exec_failures, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_cwd_is_setup_failure, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_runas_unknown_user, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_runas_root, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_runas_nobody, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_long_lines_split, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lots_of_output, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tail_ring, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_parent_fds_unchanged, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_invalid_arguments, setup, teardown),
	};
	/* the caller's ignored SIGPIPE/handlers must not matter to hooks */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
