/* rolecreds.h - credentials of the instance role through IMDS, as an
 * s3_creds_fn: the role name once (iam/security-credentials/), then its
 * credential document, fetched again when it is about to expire. Used by
 * the build side on EC2 runners (the stub keeps its own copy in
 * boot_main.c for now; both follow the same rules). */
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
	char role[ROLECREDS_NAME_MAX];
};

/* s3_creds_fn: ud is a struct rolecreds. */
int rolecreds_get(void *ud, const struct credentials **out, struct herr *err);
void rolecreds_free(struct rolecreds *r);

#endif
