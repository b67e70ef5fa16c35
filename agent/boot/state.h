/* state.h - what the stub reads of the agent's state directory.
 *
 * hoist writes STATE/current (a record: version, sha256, revision,
 * deployed_at) when a deployment succeeds, and keeps STATE/journal while a
 * deployment is in progress. The stub only reads them, to decide whether
 * the wanted version is already deployed (then, by default, nothing is
 * downloaded) or an interrupted deployment needs the agent. */
#ifndef HOIST_STATE_H
#define HOIST_STATE_H

#include "herr.h"

enum deployed_state {
	DEPLOYED_NONE = 0,     /* nothing deployed, or another version */
	DEPLOYED_SAME,         /* the wanted version is current and whole */
	DEPLOYED_INTERRUPTED,  /* a deployment was interrupted: the agent must recover */
};

/* version: the wanted version. Returns the state, or -1 with err set when
 * the records cannot be read. */
int state_deployed(const char *state_dir, const char *version, struct herr *err);

#endif
