/* rolecreds.h - the credentials to sign with, as an s3_creds_fn: fixed keys
 * (from_env), or the instance role's through IMDS: the role name once
 * (iam/security-credentials/, or the name cached in role_cache), then its
 * credential document, fetched again when it is about to expire (a long
 * download or upload). One implementation for the stub and the build side. */
#ifndef HOIST_ROLECREDS_H
#define HOIST_ROLECREDS_H

#include "creds.h"
#include "herr.h"
#include "imds.h"

#define ROLECREDS_NAME_MAX 256

struct rolecreds {
	struct imds *imds; /* borrowed */
	struct credentials cur;
	int have;
	int from_env; /* cur holds borrowed fixed keys: never refreshed nor freed */
	char role[ROLECREDS_NAME_MAX];
	const char *role_cache; /* STATE/imds-role (rolecache.h), or NULL */
};

/* s3_creds_fn: ud is a struct rolecreds. The first credentials share the
 * deadline of the imds handle (metadata work of this run); a refresh gets a
 * deadline of its own. */
int rolecreds_get(void *ud, const struct credentials **out, struct herr *err);
void rolecreds_free(struct rolecreds *r);

#endif
