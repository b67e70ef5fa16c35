/* hooks.h - runs one lifecycle hook script safely (../shared/style.md, practice 7-9).
 *
 * Signals are blocked before fork; the child resets them, calls setsid(),
 * chdirs, takes stdin from /dev/null and stdout and stderr from a pipe each,
 * closes every other fd, drops to `runas` with setgroups/setresgid/setresuid
 * (each checked) and execve()s the script with an argv vector and the
 * environment the caller built. Exec failure is reported through a
 * close-on-exec pipe, apart from the script's own failure. One poll loop
 * against a monotonic deadline reads output line by line; on timeout the
 * process group gets SIGTERM, then SIGKILL after the grace period. When the
 * script has exited, background children still holding the output pipe do
 * not hang the deployment: the loop stops reading shortly after the exit. */
#ifndef HOIST_HOOKS_H
#define HOIST_HOOKS_H

#include <stdbool.h>
#include <sys/types.h>

#include "herr.h"

#define HOOK_TAIL_MAX 2048

enum hook_outcome {
	HOOK_OK = 0,
	HOOK_EXIT_NONZERO,   /* ran and exited non-zero (exit_status) */
	HOOK_SIGNALED,       /* killed by a signal it did not get from us (term_signal) */
	HOOK_TIMED_OUT,      /* deadline passed; group was terminated */
	HOOK_EXEC_FAILED,    /* could not exec (exec_errno): missing, not executable, bad interpreter */
	HOOK_SETUP_FAILED,   /* fork/pipe/runas lookup/privilege drop failed (message in err) */
};

struct hook_run {
	const char *event;       /* "BeforeInstall": for log prefixes and LIFECYCLE_EVENT */
	const char *script;      /* absolute path of the script */
	const char *display;     /* its location as written in the appspec */
	const char *cwd;         /* working directory (the revision's tree) */
	char *const *envp;       /* complete environment, NULL-terminated */
	const char *runas;       /* user name, or NULL to run as the caller */
	unsigned timeout_s;      /* total time allowed */
	unsigned grace_s;        /* SIGTERM -> SIGKILL */
	/* Called once the child exists, before the loop waits (NULL: none); the
	 * journal records the group from it (orphans.h). */
	void (*on_spawn)(void *ctx, pid_t pid);
	void *spawn_ctx;
};

struct hook_result {
	enum hook_outcome outcome;
	int exit_status;
	int term_signal;
	int exec_errno;
	double duration_s;
	char tail[HOOK_TAIL_MAX]; /* last output lines, NUL-terminated */
	/* Added by the hooks module (fields above are the contract). */
	unsigned timeout_s;       /* copied from the run, for hook_outcome_describe */
	unsigned grace_s;
	bool escalated;           /* TIMED_OUT: the group needed SIGKILL after the grace */
	bool output_left_open;    /* script exited while a background process kept its
	                           * output open; hoist stopped reading (not an error) */
	bool interpreter_missing; /* EXEC_FAILED/ENOENT while the script itself exists */
	unsigned long long output_bytes; /* bytes read from the hook's output */
	char setup_error[HERR_MSG_MAX];    /* SETUP_FAILED: the same text as err->msg */
};

/* Runs the hook to completion. Output lines are logged with log_raw_line()
 * as "TIMESTAMP EVENT script [stdout]: line" (or [stderr]). A script that is
 * neither a binary nor starts with #! is run with /bin/sh, as execvp would,
 * and the log says so once. Returns 0 when the hook could be run
 * (look at res->outcome), -1 only for errors of hoist itself (err set). */
int hook_run(const struct hook_run *run, struct hook_result *res, struct herr *err);
/* Installs handlers for SIGTERM, SIGINT and SIGHUP that pass the signal on
 * to the process group of the hook running at that moment (if any); hoist
 * then keeps reading the hook's output until the hook has ended (SIGKILL to
 * its group after hook_grace_s) and dies of the signal, as the default action
 * would (at once when no hook runs, or on a second signal). hoist dies at a
 * point its journal already records, so the next run recovers, as after a crash;
 * without this, a hook would outlive a stopped hoist (the systemd unit
 * signals hoist alone, KillMode=process). Called once from main. */
int hook_signals_forward(struct herr *err);

/* One-line description of an outcome, e.g. "exited with status 3". */
const char *hook_outcome_describe(const struct hook_result *res, char *buf, unsigned size);
/* Tests only: 1 makes hook_run watch the child with a SIGCHLD self-pipe
 * instead of a pidfd, so the fallback for old kernels is exercised. */
void hook_force_sigchld_fallback(int on);

#endif
