/* deploy.h - the agent's orchestration: deploy, rollback, recover.
 *
 * Order (../shared/reference/codedeploy-agent.md 1.6, 1.7): BeforeBlockTraffic,
 * AfterBlockTraffic, ApplicationStop (scripts of the INSTALLED revision; none on
 * a first deploy), BeforeInstall, Install, AfterInstall, ApplicationStart,
 * ValidateService, BeforeAllowTraffic, AfterAllowTraffic (the new revision's).
 * Events without scripts are skipped. Install conflicts are planned before any
 * hook runs, so a refused deployment changes nothing.
 *
 * Failure: the deployment stops; when the host was touched and a last-good
 * revision is kept, it is redeployed from the local cache (ApplicationStop
 * failures ignored) -> HOIST_EXIT_ROLLED_BACK, else HOIST_EXIT_FAILED. A
 * failed or interrupted Install is cleaned up by undoing both the new
 * revision's partial list and the previous revision's list, so the host holds
 * one whole revision or none.
 *
 * Recovery (STATE/journal present, at the start of every deploy, rollback and
 * recover): nothing on the host touched -> discard; the deployment had
 * completed (current == installed == its version) -> just remove the journal;
 * otherwise undo a partial Install and redeploy the last-good revision
 * ("recovered"), or with no last-good remove everything (host has no revision).
 *
 * All functions expect the caller to hold the deployment lock. They return an
 * exit code (exitcodes.h) and fill err when it is not 0. */
#ifndef HOIST_DEPLOY_H
#define HOIST_DEPLOY_H

#include <stdbool.h>

#include "config.h"
#include "herr.h"

struct policy;

struct deploy_ctx {
	const struct hoist_config *cfg;
	const struct policy *policy; /* the host's deploy policy (preflight.h); NULL: defaults */
	const char *root;  /* root prefix ("" none) */
	const char *state; /* the state directory, already resolved under root */
};

struct deploy_req {
	const char *bundle;  /* file or directory */
	const char *version; /* NULL: derived (sha256 prefix of a file, dir-<time> for a directory) */
	const char *environment;
	const char *application;
	const char *group;
	const char *sha256; /* expected digest of a bundle file, or NULL */
	const char *bucket;
	const char *key;
	const char *etag;
	bool no_rollback;
	bool ignore_stop_failures;
};

int deploy_run(const struct deploy_ctx *ctx, const struct deploy_req *req, struct herr *err);
/* to NULL: the newest good revision other than current. */
int deploy_rollback(const struct deploy_ctx *ctx, const char *to, bool no_rollback, struct herr *err);
/* Recovers an interrupted deployment if STATE/journal exists; *did tells whether one was found. */
int deploy_recover(const struct deploy_ctx *ctx, bool *did, struct herr *err);

#endif
