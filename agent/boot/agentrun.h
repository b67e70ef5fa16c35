/* agentrun.h - runs the agent as a child of hoist-boot when something must
 * happen after the deployment (a lifecycle hook to complete, a report, a
 * notification); without such a step the stub still execs the agent.
 *
 * agentrun_wait: fork, execv in the child (exec errors come back through a
 * close-on-exec pipe, as from execv itself), then one sigtimedwait loop in
 * the parent: SIGTERM, SIGINT and SIGHUP are forwarded to the agent (which
 * forwards them to its hook), a tick runs every tick_s seconds (heartbeats),
 * and the agent's exit code comes back as it is (128+N after signal N).
 * The caller must have closed its connections and wiped its credentials:
 * the child gets nothing but fds 0-2 and the environment.
 *
 * agentrun_capture: runs a read-only agent command (status --json) with
 * stdout into a bounded buffer, within a deadline. */
#ifndef HOIST_AGENTRUN_H
#define HOIST_AGENTRUN_H

#include <stddef.h>

#include "buf.h"
#include "herr.h"

typedef void (*agentrun_tick_fn)(void *ud);

/* Returns 0 with *code the agent's exit code (128+N for a signal), or -1
 * when it could not be started (err: HOIST_EXIT_CONFIG when the agent is
 * missing or not executable, as a failed exec in the stub always was). */
int agentrun_wait(const char *const *argv, unsigned tick_s, agentrun_tick_fn tick, void *ud, int *code,
                  struct herr *err);

/* Returns 0 when the command exited 0 within timeout_s with at most max
 * bytes on stdout (in out), else -1 with err. */
int agentrun_capture(const char *const *argv, size_t max, unsigned timeout_s, struct buf *out,
                     struct herr *err);

#endif
