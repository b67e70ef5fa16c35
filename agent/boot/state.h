/* state.h - what the stub reads of the agent's state directory.
 *
 * hoist writes STATE/current (a record: version, sha256, revision,
 * deployed_at) when a deployment succeeds, keeps STATE/journal while a
 * deployment is in progress, and records each revision's outcome in
 * STATE/revisions/<version>/meta (result=succeeded|failed). The stub only
 * reads them, to decide whether the wanted version is already deployed
 * (then, by default, nothing is downloaded), already failed here (then, by
 * default, it is not tried again at every boot: each try would stop the
 * service, fail and roll back), or an interrupted deployment needs the agent. */
#ifndef HOIST_STATE_H
#define HOIST_STATE_H

#include "herr.h"

enum deployed_state {
	DEPLOYED_NONE = 0,     /* nothing deployed, or another version */
	DEPLOYED_SAME,         /* the wanted version is current and whole */
	DEPLOYED_INTERRUPTED,  /* a deployment was interrupted: the agent must recover */
	DEPLOYED_FAILED,       /* the wanted version failed on this host and is not current */
};

/* version: the wanted version; sha256_hex: the directive's digest, or NULL
 * when it has none (a failed revision with another recorded digest is a
 * different bundle and does not count as failed). Returns the state, or -1
 * with err set when the records cannot be read. */
int state_deployed(const char *state_dir, const char *version, const char *sha256_hex,
		   struct herr *err);

#endif
