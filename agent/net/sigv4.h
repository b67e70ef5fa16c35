/* sigv4.h - AWS Signature Version 4, pure functions over buffers.
 *
 * The caller gives the request as it will go on the wire (method, path,
 * query, headers, payload hash); the module builds the canonical request,
 * the string to sign and the Authorization header value. Tested byte for
 * byte against tests/unit/fixtures/sigv4/ (header-* files). */
#ifndef HOIST_SIGV4_H
#define HOIST_SIGV4_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

struct sigv4_header {
	const char *name;   /* any case; canonicalised to lower case */
	const char *value;  /* raw; trimmed and inner spaces folded when canonicalised */
};

struct sigv4_request {
	const char *method;            /* "GET" */
	const char *path;              /* as on the wire, e.g. "/bucket/my%20key" or raw "/a b" */
	const char *query;             /* without '?', may be NULL or "" */
	const struct sigv4_header *headers;
	size_t n_headers;              /* must include host and x-amz-date (equal to scope amz_date) */
	const char *payload_sha256_hex;/* hex SHA-256 of the body ("e3b0..." for empty) */
};

struct sigv4_credentials {
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token;     /* NULL when none; caller adds x-amz-security-token header */
};

struct sigv4_scope {
	const char *amz_date;          /* "20150830T123600Z" */
	const char *region;            /* "us-east-1" */
	const char *service;           /* "s3", "service", ... */
	/* S3 rules: no path normalisation and the path is encoded once (each
	 * segment percent-decoded then re-encoded); other services normalise
	 * "." / ".." / "//" and encode the already-encoded path again. */
	bool s3;
	/* Added: general-service encoding (path encoded again) WITHOUT the
	 * "." / ".." / "//" normalisation (the suite's "normalize": false
	 * cases). Ignored when s3 is set. Default false = normalise. */
	bool no_normalize;
};

/* Each writes into out (reset first); return 0 or -1 (bad input, or out of memory). */
int sigv4_canonical_request(const struct sigv4_request *req, const struct sigv4_scope *scope,
			    struct buf *out);
int sigv4_string_to_sign(const struct sigv4_request *req, const struct sigv4_scope *scope,
			 struct buf *out);
/* Hex signature (64 chars). */
int sigv4_signature(const struct sigv4_request *req, const struct sigv4_scope *scope,
		    const struct sigv4_credentials *cred, struct buf *out);
/* Full Authorization header value:
 * "AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, SignedHeaders=..., Signature=..." */
int sigv4_authorization(const struct sigv4_request *req, const struct sigv4_scope *scope,
			const struct sigv4_credentials *cred, struct buf *out);
/* Percent-encodes per SigV4 (unreserved A-Za-z0-9-._~ kept); '/' kept when keep_slash. */
int sigv4_uri_encode(const char *in, size_t len, bool keep_slash, struct buf *out);

#endif
