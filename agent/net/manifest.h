/* manifest.h - release and channel manifests: pure parse and format.
 *
 * A manifest is a small text, signed as a whole (signify.h, embedded form):
 *
 *   hoist-manifest 1
 *   kind=release                 (or channel)
 *   app=web
 *   version=1.4.2
 *   bundle=s3://bucket/prefix/web/1.4.2/web.tgz
 *   sha256=<64 hex>
 *   size=<bytes>
 *   created=2026-12-07T01:02:03Z
 *   channel=prod                 (channel only: the channel's name)
 *   seq=7                        (channel only: previous seq + 1)
 *   expires=2026-12-14T01:02:03Z (optional)
 *
 * Lines end with '\n'; every key exactly once, in any order; unknown keys,
 * duplicates, blank or over-long lines are errors naming the line
 * (HOIST_EXIT_INTEGRITY: the manifest is the release's identity). */
#ifndef HOIST_MANIFEST_H
#define HOIST_MANIFEST_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "herr.h"

#define MANIFEST_MAX_BYTES (8 * 1024)
#define MANIFEST_NAME_MAX 128
#define MANIFEST_URL_MAX 1024

enum manifest_kind { MANIFEST_RELEASE = 0, MANIFEST_CHANNEL };

struct manifest {
	enum manifest_kind kind;
	char app[MANIFEST_NAME_MAX + 1];
	char version[MANIFEST_NAME_MAX + 1];
	char bundle[MANIFEST_URL_MAX + 1]; /* s3://BUCKET/KEY */
	uint8_t sha256[32];
	uint64_t size;
	time_t created;
	char channel[MANIFEST_NAME_MAX + 1]; /* channel only */
	uint64_t seq;                        /* channel only, >= 1 */
	int has_expires;
	time_t expires;
};

/* Parses the (unsigned part of a) manifest. */
int manifest_parse(const char *text, size_t len, struct manifest *out, struct herr *err);
/* Appends the canonical text of m to out; -1 when a field is invalid. */
int manifest_format(const struct manifest *m, struct buf *out);

/* "2026-12-07T01:02:03Z" for t. */
void manifest_time(time_t t, char out[32]);

/* Splits "s3://BUCKET/KEY" (KEY non-empty) into bucket and key; -1 when malformed. */
int manifest_split_s3(const char *url, char *bucket, size_t bsz, char *key, size_t ksz);

#endif
