/* download.h - fetching the bundle into the cache, verified.
 *
 * The body streams to a temp file in tmp_dir while its SHA-256 is computed
 * (a received block of zeros is a hole, not written: a bundle's long zero
 * runs cost no disk); the digest must equal every source given (the directive's, the S3
 * x-amz-checksum-sha256 of the object, else a "<key>.sha256" sidecar) and
 * at least one source must exist. Only then is the file fsynced and renamed
 * to cache_dir/<sha256hex>.bundle, so the cache never holds a partial or
 * unverified file. A dropped connection resumes with Range + If-Match;
 * 5xx, SlowDown and timeouts are retried with backoff, all within one
 * deadline; 403, 404 and a digest mismatch are permanent. After a
 * temporary failure the bytes received stay for the next run, which
 * resumes them (partial.h); the sha256 still decides. */
#ifndef HOIST_DOWNLOAD_H
#define HOIST_DOWNLOAD_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "herr.h"
#include "s3client.h"

struct download_opts {
	const char *cache_dir;
	const char *tmp_dir; /* same file system as cache_dir */
	uint64_t max_bytes;
	unsigned retries;    /* extra attempts after the first */
	unsigned deadline_s; /* the whole download, every attempt; 0 = none */
	bool has_expected;   /* the directive gave sha256 */
	uint8_t expected[32];
	int progress_tty; /* stderr is a terminal */
	int progress;     /* report progress at all */
};

struct download_result {
	char path[PATH_MAX]; /* the cached bundle */
	uint8_t sha256[32];
	uint64_t bytes;
	char etag[256];   /* "" when unknown (cache hit without S3) */
	char sources[96]; /* "directive, s3-checksum" */
	double seconds;
	int cached;       /* 1: found in the cache, not downloaded */
	unsigned resumes; /* Range requests made */
};

int download_bundle(struct s3client *c, const struct download_opts *o, const char *bucket, const char *key,
                    struct download_result *r, struct herr *err);

#endif
