/* record.h - small "key=value" state records, read and replaced atomically.
 *
 * Used for STATE/current and STATE/last-good (written by hoist, read by
 * hoist-boot to decide whether the wanted version is already deployed).
 * Keys: [a-z0-9_]+; values: one line, no NUL or newline. */
#ifndef HOIST_RECORD_H
#define HOIST_RECORD_H

#include <stddef.h>

#include "herr.h"

#define RECORD_MAX_ITEMS 32
#define RECORD_MAX_BYTES 8192

struct record {
	size_t n;
	char *keys[RECORD_MAX_ITEMS];
	char *values[RECORD_MAX_ITEMS];
};

void record_init(struct record *r);
/* Returns 0 and fills r; 1 if the file does not exist (r left empty); -1 on error. */
int record_read(const char *path, struct record *r, struct herr *err);
/* Pure: parses text (used by record_read; tested directly). */
int record_parse(const char *text, size_t len, struct record *r, struct herr *err);
const char *record_get(const struct record *r, const char *key);
/* Adds or replaces; -1 on a bad key/value or when full. */
int record_set(struct record *r, const char *key, const char *value);
int record_write(const char *path, const struct record *r, struct herr *err);
void record_free(struct record *r);

#endif
