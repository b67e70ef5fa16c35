/* health.h - the health checks of a revision: hoist.yml read from its tree,
 * then run after ValidateService (deploy.c) and by hoist restart.
 * The parsing is hoistyml.h, the schedule healthrun.h, the probes healthprobe.h. */
#ifndef HOIST_HEALTH_H
#define HOIST_HEALTH_H

#include <sys/types.h>

#include "healthrun.h"
#include "herr.h"
#include "hoistyml.h"

/* Reads TREE/hoist.yml (never through a symlink, bounded). *out is NULL when
 * the revision has none; a malformed file is HOIST_EXIT_BAD_BUNDLE with
 * "hoist.yml:LINE:COL: ..." in err. With an http check, libcurl is loaded
 * here (healthcurl.h): a host that lacks it fails with HOIST_EXIT_CONFIG. */
int health_load(const char *tree, struct health_spec **out, struct herr *err);
/* Runs the checks; 0 passed, -1 failed or could not run (rep->error says why).
 * on_spawn (may be NULL) is called with each command check's process, as for hooks. */
int health_check(const struct health_spec *spec, const char *tree, char *const *envp, unsigned grace_s,
                 void (*on_spawn)(void *ctx, pid_t pid), void *spawn_ctx, struct health_report *rep);

#endif
