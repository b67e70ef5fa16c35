/* s3put.h - S3 writes: one signed PutObject of a buffer (with an
 * x-amz-checksum-sha256 and optional If-Match / If-None-Match conditions),
 * and a file upload that switches to multipart above a threshold, each part
 * with its own SHA-256 checksum and retried on its own.
 *
 * Used by the build side (hoist-release) and by status reports; the stub's
 * read path does not need it. */
#ifndef HOIST_S3PUT_H
#define HOIST_S3PUT_H

#include <stddef.h>
#include <stdint.h>

#include "herr.h"
#include "s3client.h"

struct s3_put_opts {
	const char *content_type; /* NULL: application/octet-stream */
	const char *if_match;     /* ETag the object must still have (compare-and-swap) */
	int if_none_match;        /* 1: the object must not exist yet (If-None-Match: *) */
};

struct s3_put_result {
	long status;    /* HTTP status of the final answer (412: a condition failed) */
	char etag[128]; /* ETag of the new object, quotes kept */
};

/* PUTs len bytes as bucket/key. Returns 0 on 2xx and -1 with err filled;
 * a failed condition is out->status 412 (or 409, a concurrent conditional
 * write) with err code HOIST_EXIT_BUSY. Transport errors and 5xx are
 * HOIST_EXIT_TEMPFAIL and not retried here. */
int s3_put_buffer(struct s3client *c, const char *bucket, const char *key, const void *data, size_t len,
                  const struct s3_put_opts *o, struct s3_put_result *out, struct herr *err);

#define S3_PUT_DEFAULT_PART (64ULL * 1024 * 1024)
#define S3_PUT_MIN_PART (5ULL * 1024 * 1024)
#define S3_PUT_MAX_PARTS 10000

struct s3_file_opts {
	const char *content_type;
	uint64_t multipart_threshold; /* files of at least this many bytes go multipart; 0: default part */
	uint64_t part_size;           /* 0: S3_PUT_DEFAULT_PART, grown so parts <= 10000 */
	unsigned retries;             /* extra attempts per request (a failed part alone is resent) */
	/* progress: called after each part (or the single PUT); may be NULL */
	void (*progress)(void *ud, uint64_t done, uint64_t total);
	void *progress_ud;
};

struct s3_file_result {
	long status;
	char etag[128];
	unsigned parts;        /* 0: single PUT */
	unsigned part_retries; /* parts sent more than once */
	uint8_t sha256[32];    /* digest of the whole file, computed while uploading */
};

/* Uploads size bytes of fd (read with pread from offset 0) as bucket/key.
 * Below the threshold: one PUT with the whole-object checksum; above:
 * CreateMultipartUpload (ChecksumAlgorithm SHA256), UploadPart each with
 * x-amz-checksum-sha256 (read and hashed, then sent; a part failing with
 * a temporary error is sent again up to retries times), then
 * CompleteMultipartUpload listing every part's checksum; any failure
 * aborts the upload so no parts are left billed. */
int s3_put_file(struct s3client *c, const char *bucket, const char *key, int fd, uint64_t size,
                const struct s3_file_opts *o, struct s3_file_result *out, struct herr *err);

/* Pure: the part size for size bytes: want (or the default) grown to a
 * multiple of 1 MiB so at most S3_PUT_MAX_PARTS parts are needed. */
uint64_t s3_part_size(uint64_t size, uint64_t want);

/* Pure: the <UploadId> of a CreateMultipartUpload answer into out;
 * 0 or -1 (absent, too long, or characters outside [A-Za-z0-9._~-]). */
int s3_parse_upload_id(const char *xml, size_t len, char *out, size_t outsz);

#endif
