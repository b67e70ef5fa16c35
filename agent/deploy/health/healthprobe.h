/* healthprobe.h - one attempt of one health check, for real (the I/O half of
 * healthrun.h):
 *   http     a GET with libcurl: no proxy (the checks probe this host or its
 *            neighbours directly), no redirects, http/https only, TLS verified;
 *            passes on the expected status and, when given, a body substring
 *            within the first 64 KiB;
 *   tcp      a non-blocking connect to each address of the host, within the timeout;
 *   command  the argv run like a hook script (hooks.h: own process group, clean
 *            environment, runas, SIGTERM then SIGKILL at the timeout); exit 0 passes. */
#ifndef HOIST_HEALTHPROBE_H
#define HOIST_HEALTHPROBE_H

#include <stddef.h>
#include <sys/types.h>

#include "herr.h"
#include "hoistyml.h"

struct health_probe {
	const char *tree;  /* the revision's tree: cwd of commands, base of relative argv[0] */
	char *const *envp; /* environment of commands */
	unsigned grace_s;  /* command: SIGTERM -> SIGKILL */
	/* command: hook_run's on_spawn (the journal records the process group) */
	void (*on_spawn)(void *ctx, pid_t pid);
	void *spawn_ctx;
	void *curl;        /* CURL easy handle, reused (kept-alive connections); owned */
};

int health_probe_init(struct health_probe *p, struct herr *err);
void health_probe_free(struct health_probe *p);
/* One attempt: 0 passed, -1 failed with the reason in msg. */
int health_probe_run(struct health_probe *p, const struct health_check *c, unsigned timeout_ms, char *msg,
                     size_t cap);

#endif
