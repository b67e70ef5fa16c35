/* relurl.h - where releases and channels live in S3 (pure):
 *   s3://BUCKET/PREFIX/APP/VERSION/release      the release manifest
 *   s3://BUCKET/PREFIX/APP/VERSION/FILE         its bundle, beside it
 *   s3://BUCKET/PREFIX/APP/channels/ENV         a channel manifest
 * PREFIX may be empty (then APP is the first component). */
#ifndef HOIST_RELURL_H
#define HOIST_RELURL_H

#include <stddef.h>
#include <stdint.h>

#include "herr.h"

#define RELURL_BUCKET_MAX 64
#define RELURL_KEY_MAX 1024
#define RELURL_NAME_MAX 128

struct relurl_channel {
	char bucket[RELURL_BUCKET_MAX];
	char key[RELURL_KEY_MAX];  /* PREFIX/APP/channels/ENV */
	char base[RELURL_KEY_MAX]; /* PREFIX/APP ("APP" when PREFIX is empty) */
	char app[RELURL_NAME_MAX + 1];
	char env[RELURL_NAME_MAX + 1];
};

/* Splits a channel URL; errors (HOIST_EXIT_USAGE) say which part is wrong. */
int relurl_channel(const char *url, struct relurl_channel *out, struct herr *err);

/* Splits "s3://BUCKET[/PREFIX]" (trailing '/' ignored) for publish --to. */
int relurl_prefix(const char *url, char *bucket, size_t bsz, char *prefix, size_t psz, struct herr *err);

/* out = "[PREFIX/]APP/VERSION/NAME"; -1 when it does not fit. */
int relurl_join(char *out, size_t outsz, const char *prefix, const char *app, const char *version,
                const char *name);

/* "90s", "45m", "12h", "7d" or plain seconds, at most 10 years; 0 or -1. */
int relurl_duration(const char *s, uint64_t *seconds);

#endif
