/* s3.h - pure S3 helpers: where a request goes (path-style against a custom
 * endpoint, virtual-host style against AWS), the error code in an S3 error
 * document, and the three digest sources: the x-amz-checksum-sha256
 * header, a "<key>.sha256" sidecar, and Content-Range of a resumed GET. */
#ifndef HOIST_S3_H
#define HOIST_S3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "herr.h"

#define S3_URL_MAX 4096
#define S3_HOST_MAX 512

struct s3_target {
	char url[S3_URL_MAX];   /* scheme://host[:port]/path */
	char host[S3_HOST_MAX]; /* Host header value, exactly as signed */
	char path[S3_URL_MAX];  /* encoded once, as on the wire and as signed */
};

/* endpoint "" means AWS: virtual-host style https://BUCKET.s3.REGION.amazonaws.com/KEY
 * (path-style on s3.REGION.amazonaws.com when the bucket name has a dot or
 * is not DNS-safe, since the TLS wildcard cannot cover it). Otherwise
 * path-style ENDPOINT/BUCKET/KEY. key is the decoded form; it is encoded
 * once with the SigV4 rules ('/' kept). Errors are HOIST_EXIT_CONFIG or
 * HOIST_EXIT_DIRECTIVE naming the value. */
int s3_build_target(const char *endpoint, const char *region, const char *bucket, const char *key,
                    struct s3_target *t, struct herr *err);
/* Percent-encodes per SigV4 (A-Za-z0-9-._~ kept, and '/' when keep_slash). */
int s3_encode(const char *in, bool keep_slash, char *out, size_t outsz);

/* Copies the <Code> of an S3 error document (bounded search; [A-Za-z0-9.]
 * only) into out; returns 1 found, 0 not. */
int s3_error_code(const char *body, size_t len, char *out, size_t outsz);

/* x-amz-checksum-sha256 value: 1 = a whole-object digest (out filled),
 * 0 = a multipart composite ("...-N"), unusable; -1 = malformed. */
int s3_checksum_header(const char *value, uint8_t out[32]);

/* Sidecar text: 64 hex digits, then end, or whitespace and anything (as
 * sha256sum prints). Returns 0 or -1. */
int s3_parse_sidecar(const char *text, size_t len, uint8_t out[32]);

/* "bytes START-END/TOTAL" (TOTAL may be "*", then *total = UINT64_MAX).
 * Returns 0 or -1. */
int s3_parse_content_range(const char *value, uint64_t *start, uint64_t *end, uint64_t *total);

#endif
