/* hookspawn.h - the fork/exec half of running a hook (hooks.c owns the loop).
 *
 * Everything that can fail slowly or allocate (user and group lookup) is done
 * before fork; the child only makes async-signal-safe calls, and reports a
 * failure as {stage, errno} on a close-on-exec pipe before _exit(127).
 *
 * The child waits at a start gate (a pipe) once it has its own process group
 * and before anything of the script runs: the caller records the group in the
 * journal first (on_spawn), then opens the gate (hook_release). A hoist killed
 * in between leaves a child that finds the gate closed and exits: no hook ever
 * runs without its journal line, so recovery can always find and end it. */
#ifndef HOIST_HOOKSPAWN_H
#define HOIST_HOOKSPAWN_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "herr.h"
#include "hooks.h"

/* Identity to switch to in the child. */
struct hook_ids {
	bool drop; /* false: run as the caller */
	uid_t uid;
	gid_t gid;
	gid_t *groups; /* supplementary groups of the user (owned) */
	int ngroups;
};

enum hook_child_stage {
	HOOK_STAGE_SIGNALS = 1,
	HOOK_STAGE_SETSID,
	HOOK_STAGE_CHDIR,
	HOOK_STAGE_STDIO,
	HOOK_STAGE_CLOSEFDS,
	HOOK_STAGE_SETGROUPS,
	HOOK_STAGE_SETGID,
	HOOK_STAGE_SETUID,
	HOOK_STAGE_REGAIN, /* privileges could be regained after the drop */
	HOOK_STAGE_EXEC,
};

/* What the child writes to the status pipe when it cannot exec. */
struct hook_child_report {
	int stage;
	int err;
};

struct hook_child {
	pid_t pid;
	int out_fd;    /* read end of the stdout pipe (non-blocking) */
	int err_fd;    /* read end of the stderr pipe (non-blocking) */
	int status_fd; /* read end of the close-on-exec status pipe */
	int go_fd;     /* write end of the start gate; -1 once released */
};

/* Resolves user (getpwnam_r, getgrouplist). NULL user: ids->drop = false.
 * Unknown user, or a different user while hoist is not root: -1. */
int hook_ids_lookup(const char *user, struct hook_ids *ids, struct herr *err);
void hook_ids_free(struct hook_ids *ids);
/* Name of a child stage for messages, e.g. "chdir". */
const char *hook_stage_name(int stage);
/* The process group of the hook running now (0: none); set by hook_spawn
 * before signals are unblocked, cleared by hook_run when the hook is over,
 * read by the signal handler of hook_signals_forward. */
extern volatile sig_atomic_t hook_running_pgid;

/* Forks the child with all signals blocked around fork (restored in the
 * parent); the child waits at the start gate. On success the caller owns
 * child->pid and the fds, and must call hook_release (or close go_fd, which
 * makes the child exit 127 without running anything). */
int hook_spawn(const struct hook_run *run, const struct hook_ids *ids, struct hook_child *child,
               struct herr *err);
/* Opens the start gate: the child goes on to run the script. Idempotent. */
void hook_release(struct hook_child *child);

/* 1 while process group pgid has a member that is not a zombie, else 0.
 * Zombies are skipped because an init that reaps slowly (containers) would
 * otherwise make a dead group look alive until the grace period ends. */
int hook_group_alive(pid_t pgid);

#endif
