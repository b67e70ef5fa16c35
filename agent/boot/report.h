/* report.h - the status report of a boot: the `hoist status --json`
 * document with this instance's identity and the boot's outcome merged in,
 * written to s3://BUCKET/PREFIX/ENV/INSTANCE-ID.json (and POSTed to the
 * notify URL on failure, see notify.h).
 *
 * Pure: the report URL, the object key and the document are built from
 * strings and tested in tests/unit/test_report.c. */
#ifndef HOIST_REPORT_H
#define HOIST_REPORT_H

#include <stddef.h>

#include "buf.h"

#define REPORT_BUCKET_MAX 64
#define REPORT_PREFIX_MAX 512

struct report_url {
	char bucket[REPORT_BUCKET_MAX];
	char prefix[REPORT_PREFIX_MAX]; /* "" or ending in '/' */
};

/* What the stub adds to the status document. Strings may be NULL (null in JSON). */
struct report_info {
	const char *instance_id, *ami_id, *availability_zone;
	const char *application, *environment, *version; /* the directive's */
	int exit_code;
	const char *message;   /* the boot's own error, or NULL */
	const char *lifecycle; /* "CONTINUE", "ABANDON", "none", or NULL (no hook) */
	long long at;          /* UNIX time of the report */
};

/* Pure: parses "s3://BUCKET[/PREFIX[/]]" (a '/' is added to a prefix without
 * one). out may be NULL to check only. 0 or -1. */
int report_parse_url(const char *url, struct report_url *out);
/* Pure: "PREFIX" "ENV" "/" "INSTANCE-ID" ".json" into out. 0 or -1. */
int report_key(const struct report_url *u, const char *environment, const char *instance_id, char *out,
               size_t outsz);
/* Pure: appends s as a JSON string (quotes, escapes; NULL -> null). 0 or -1. */
int report_json_string(struct buf *out, const char *s);
/* Pure: the report: status (a JSON object, e.g. from `hoist status --json`;
 * NULL or not an object -> "status_error") with "instance_id", "ami_id",
 * "availability_zone" and a "boot" object merged in at the top. 0 or -1. */
int report_document(const struct report_info *ri, const char *status, size_t status_len, struct buf *out);

#endif
