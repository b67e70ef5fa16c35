/* partial.h - a bundle download kept for the next run to resume.
 *
 * When a download fails for a temporary reason after its last retry (or
 * is killed), the bytes received so far stay in the state's tmp directory
 * as tmp/partial-ID.data, with tmp/partial-ID.meta (a record: bucket, key,
 * etag, total size, the S3 checksum header) written as soon as the first
 * response is known. ID is derived from bucket and key, so the next run for
 * the same object finds it and resumes with Range + If-Match from the data
 * file's size (a run killed after a hole leaves a shorter file than it
 * received: those zeros are fetched again); the sha256 still decides at
 * the end. Bounded: one partial at a time (others are
 * removed), at most max_bundle_bytes, dropped after PARTIAL_MAX_AGE_S. */
#ifndef HOIST_PARTIAL_H
#define HOIST_PARTIAL_H

#include <limits.h>
#include <stdint.h>

#include "herr.h"

#define PARTIAL_MAX_AGE_S (24 * 3600)

struct partial {
	char id[33];         /* 32 hex digits of sha256(bucket "/" key) */
	char data[PATH_MAX]; /* tmp/partial-ID.data */
	char meta[PATH_MAX]; /* tmp/partial-ID.meta */
};

/* What the first response said about the object. */
struct partial_meta {
	char etag[256];
	uint64_t total;     /* 0 when unknown */
	char checksum[128]; /* x-amz-checksum-sha256 as sent, "" when none */
};

/* Fills the names for bucket/key under tmp_dir; -1 when too long. */
int partial_names(const char *tmp_dir, const char *bucket, const char *key, struct partial *p);
/* Removes every other partial-* file in tmp_dir, and this one's too when
 * its data is older than max_age_s (best effort). */
void partial_prune(const char *tmp_dir, const struct partial *keep, unsigned max_age_s);
/* Reads the meta of a kept download of bucket/key: 0, or -1 when there is
 * none or it is for another object or malformed. */
int partial_load(const struct partial *p, const char *bucket, const char *key, struct partial_meta *m);
/* Writes the meta atomically; -1 (err set) when it cannot be written. */
int partial_save(const struct partial *p, const char *bucket, const char *key, const struct partial_meta *m,
                 struct herr *err);
/* Removes data and meta (best effort). */
void partial_remove(const struct partial *p);

#endif
