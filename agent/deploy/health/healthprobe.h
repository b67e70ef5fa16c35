/* healthprobe.h - one attempt of one health check, for real (the I/O half of
 * healthrun.h):
 *   http     a GET with libcurl (loaded on first use: healthcurl.h): no proxy (the checks probe this host or its
 *            neighbours directly), no redirects, http/https only, TLS verified;
 *            passes on the expected status and, when given, a body substring
 *            within the first 64 KiB;
 *   tcp      a non-blocking connect to each address of the host, within the timeout;
 *   command  the argv run like a hook script (hooks.h: own process group, clean
 *            environment, runas, SIGTERM then SIGKILL at the timeout); exit 0 passes. */
#ifndef HOIST_HEALTHPROBE_H
#define HOIST_HEALTHPROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "herr.h"
#include "hoistyml.h"

struct healthcurl;

struct health_probe {
	const char *tree;  /* the revision's tree: cwd of commands, base of relative argv[0] */
	char *const *envp; /* environment of commands */
	unsigned grace_s;  /* command: SIGTERM -> SIGKILL */
	/* command: hook_run's on_spawn (the journal records the process group) */
	void (*on_spawn)(void *ctx, pid_t pid);
	void *spawn_ctx;
	const struct healthcurl *api; /* libcurl, loaded only when an http check exists */
	void *curl;        /* CURL easy handle, reused; owned */
};

/* need_http: the checks include an http one, so libcurl is loaded (healthcurl.h);
 * fails (err set) when it cannot be. */
int health_probe_init(struct health_probe *p, bool need_http, struct herr *err);
void health_probe_free(struct health_probe *p);
/* One attempt: 0 passed, -1 failed with the reason in msg. */
int health_probe_run(struct health_probe *p, const struct health_check *c, unsigned timeout_ms, char *msg,
                     size_t cap);

#endif
