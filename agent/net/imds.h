/* imds.h - the EC2 instance metadata service client.
 *
 * IMDSv2 first: one session token (PUT /latest/api/token) reused for the
 * run; a 401 gets a fresh token once. IMDSv1 (no token) only when the
 * token endpoint is absent (404/405) and v1 is not disabled, said in a
 * warning; a 403 means metadata access is refused and is not retried. Each
 * request has a short timeout; 5xx and transport errors are retried (each
 * retry logged) with backoff and jitter in one loop (the token PUT is an
 * attempt of it), and every request of the client, from imds_new on, shares
 * one deadline: a host without a metadata service fails in seconds with
 * one line (HOIST_EXIT_TEMPFAIL). Callers must not retry imds_get again. */
#ifndef HOIST_IMDS_H
#define HOIST_IMDS_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "herr.h"
#include "http.h"

struct imds; /* opaque */

struct imds_opts {
	const char *endpoint; /* "http://169.254.169.254" */
	bool v1_disabled;
	unsigned timeout_ms; /* per request */
	unsigned deadline_s; /* all IMDS work since imds_new (or imds_rearm) */
	unsigned retries;    /* extra attempts after the first */
};

/* h is borrowed and must outlive the client. */
struct imds *imds_new(struct http *h, const struct imds_opts *o, struct herr *err);
void imds_free(struct imds *m);
/* Starts a new deadline: only for a credential refresh late in a long
 * download, once per refresh (the first credentials share imds_new's). */
void imds_rearm(struct imds *m);
/* GETs path (e.g. "/latest/user-data") into out (at most max bytes).
 * Returns 0, 1 when the item does not exist (404), or -1. */
int imds_get(struct imds *m, const char *path, size_t max, struct buf *out, struct herr *err);
/* HTTP requests sent so far (tokens included), for the log. */
unsigned imds_requests(const struct imds *m);

#endif
