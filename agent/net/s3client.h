/* s3client.h - signed S3 requests: builds the target (s3.h), signs with
 * SigV4 (x-amz-content-sha256 always sent and signed, the session token
 * when there is one) and maps error answers to exit codes with a message
 * naming bucket and key. Credentials come from a provider callback before
 * every request so they can be refreshed during a long download. */
#ifndef HOIST_S3CLIENT_H
#define HOIST_S3CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "creds.h"
#include "herr.h"
#include "http.h"

/* Returns the credentials to sign with (refreshed if about to expire). */
typedef int (*s3_creds_fn)(void *ud, const struct credentials **out, struct herr *err);

struct s3client {
	struct http *http;    /* borrowed */
	const char *endpoint; /* "" = AWS */
	const char *region;
	s3_creds_fn creds;
	void *creds_ud;
	unsigned requests; /* sent so far: a failed s3_request that did not add
	                    * one was never sent (credentials, signing), and a
	                    * retry would not help (the credentials provider
	                    * retries within its own deadline) */
};

/* One signed request with everything a write needs. query is the wire form
 * without '?' ("uploads", "partNumber=1&uploadId=..."), encoded by the
 * caller; payload_sha256_hex is the hex digest of the body (NULL: empty
 * body); body/source as in struct http_request. */
struct s3_call {
	const char *method;
	const char *bucket;
	const char *key;
	const char *query;
	const char *const *extra; /* "Name: value", signed too (at most 6) */
	size_t n_extra;
	const char *payload_sha256_hex;
	int has_body;
	const void *body;
	uint64_t body_len;
	http_source_fn source;
	void *source_ud;
	unsigned timeout_ms;
	http_sink_fn sink;
	void *sink_ud;
	size_t body_max;    /* for sink == NULL: largest 2xx answer kept */
	int checksum_mode;  /* send x-amz-checksum-mode: ENABLED (reads) */
	int no_stall_limit; /* the answer may take minutes to start (CompleteMultipartUpload) */
};

/* Sends one signed call. Returns 0 when a response arrived (any status). */
int s3_call(struct s3client *c, const struct s3_call *call, struct http_response *resp, struct herr *err);

/* One signed request (GET or HEAD) for bucket/key. extra: more "Name: value"
 * headers (Range, If-Match), signed too. The x-amz-checksum-mode: ENABLED
 * header is always sent. Returns 0 when a response arrived (any status). */
int s3_request(struct s3client *c, const char *method, const char *bucket, const char *key,
               const char *const *extra, size_t n_extra, unsigned timeout_ms, http_sink_fn sink,
               void *sink_ud, struct http_response *resp, struct herr *err);

/* Fills err for a non-2xx response: 403 HOIST_EXIT_DENIED, 404
 * HOIST_EXIT_NOT_FOUND, 5xx/429/SlowDown HOIST_EXIT_TEMPFAIL, expired
 * credentials HOIST_EXIT_TEMPFAIL, other 4xx HOIST_EXIT_DENIED; the
 * message names the S3 error code, bucket and key. Returns -1. */
int s3_status_error(const struct http_response *resp, const char *method, const char *bucket, const char *key,
                    struct herr *err);

#endif
