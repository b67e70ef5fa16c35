/* preflight.h - every check a deployment makes before it touches the host,
 * in one place, so that `hoist deploy`, `hoist validate` and `hoist preflight`
 * run exactly the same ones with the same exit codes.
 *
 * Order (the first refusal stops; docs/policy.md):
 *   1. the policy file (ROOT/etc/hoist/policy.conf) is read: a bad one is 3;
 *   2. bundle: extraction limits, the bomb rule (policy's ratio and caps) -> 12;
 *   3. appspec -> 12; the installed revision's appspec (its ApplicationStop
 *      scripts run first) -> 12;
 *   4. plan: conflicts, duplicate targets, permissions overlaps, unusable
 *      names, owners and groups (install_plan) -> 12 or 14;
 *   5. runas users exist on this host -> 14; allowed by the policy -> 17 (the
 *      new revision's hooks, and the installed revision's that run before Install);
 *   6. every path Install would write, lexically and after the host's
 *      symbolic links are resolved, against deny_path/allow_path -> 17;
 *   7. final modes: setuid/setgid and world-writable need an allow rule -> 17;
 *   8. writable destinations (read-only file system, no write access) and
 *      free space and inodes per file system, keeping min_free_bytes -> 11.
 * Steps 1-3 are run by the callers (deploy.c stages the bundle before its
 * plan); preflight_plan does 5-8 on a built plan. */
#ifndef HOIST_PREFLIGHT_H
#define HOIST_PREFLIGHT_H

#include <stdio.h>

#include "appspec.h"
#include "bundle.h"
#include "config.h"
#include "herr.h"
#include "install.h"
#include "policy.h"

/* Names of the checks preflight_plan runs, in order (for reports). */
#define PREFLIGHT_N_PLAN_CHECKS 4
extern const char *const preflight_plan_checks[PREFLIGHT_N_PLAN_CHECKS];

/* Reads the policy at ROOT/etc/hoist/policy.conf (cfg->root); a missing file
 * means the defaults. Errors are HOIST_EXIT_CONFIG naming file and line. */
int preflight_load_policy(const struct hoist_config *cfg, struct policy *p, struct herr *err);
/* The extraction limits of a deployment: hoist.conf's, tightened by the
 * policy's caps and bomb ratio (p may be NULL: the built-in defaults). */
void preflight_bundle_limits(const struct hoist_config *cfg, const struct policy *p,
                             struct bundle_limits *lim);
/* Checks 5-8 on a plan built by install_plan; *passed (may be NULL) gets how
 * many of preflight_plan_checks passed. p NULL: the built-in defaults. pspec:
 * the installed revision's appspec, whose ApplicationStop and traffic scripts
 * run before Install (their runas users are checked too), or NULL (none, or
 * --ignore-stop-failures). */
int preflight_plan(const struct policy *p, const struct appspec *spec, const struct appspec *pspec,
                   const struct install_plan *plan, unsigned *passed, struct herr *err);

#endif
