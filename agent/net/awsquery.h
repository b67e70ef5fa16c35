/* awsquery.h - the AWS Query protocol (Auto Scaling, and any service that
 * takes Action=...&Version=... as a form POST): the form body built and
 * percent-encoded, the request signed with SigV4 (the payload hash of the
 * body, the session token when there is one), error answers read for
 * their <Code> and <Message>.
 *
 * The body and error parsing are pure and unit-tested; awsq_call does the
 * one signed POST. Secrets are never logged nor put in messages. */
#ifndef HOIST_AWSQUERY_H
#define HOIST_AWSQUERY_H

#include <stddef.h>

#include "buf.h"
#include "creds.h"
#include "herr.h"
#include "http.h"

struct awsq_param {
	const char *name;
	const char *value;
};

struct awsq_service {
	const char *endpoint; /* "https://autoscaling.us-east-1.amazonaws.com" (no path) */
	const char *region;
	const char *service; /* the signing name, "autoscaling" */
};

/* Pure: "Action=A&Version=V&N1=V1..." with every name and value encoded
 * by the SigV4 rules (unreserved kept, the rest %XX). 0 or -1. */
int awsq_form(const char *action, const char *version, const struct awsq_param *p, size_t n, struct buf *out);

/* Pure: the <Code> and <Message> of an ErrorResponse document, copied
 * (truncated to fit, control bytes dropped). Returns 1 found, 0 not. */
int awsq_error(const char *xml, size_t len, char *code, size_t codesz, char *msg, size_t msgsz);

/* One signed POST / of the form to the service. Returns 0 when an answer
 * arrived (resp->status set; the body of an error in resp->body) and -1
 * on a transport error or when the request cannot be built. */
int awsq_call(struct http *h, const struct awsq_service *svc, const struct credentials *cr,
              const char *action, const char *version, const struct awsq_param *p, size_t n,
              unsigned timeout_ms, struct http_response *resp, struct herr *err);

#endif
