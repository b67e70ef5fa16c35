/* userdata.h - finds and validates the hoist deploy directive in EC2 user data.
 *
 * Pure: bytes in, struct out. Accepted shapes (docs/user-data.md):
 *   - the directive alone: a first line "#hoist", then key=value lines and
 *     '#' comments;
 *   - the same, gzip-compressed;
 *   - a MIME multipart document (cloud-init style) in which exactly one part
 *     has Content-Type text/x-hoist (or is a text/plain part starting with
 *     "#hoist"); parts may be base64 or gzip (application/gzip part types).
 * CRLF line ends and a UTF-8 BOM are tolerated. Raw user data over
 * USERDATA_MAX_BYTES is refused, and so is a decompressed form over
 * USERDATA_MAX_DECODED. */
#ifndef HOIST_USERDATA_H
#define HOIST_USERDATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "herr.h"

#define USERDATA_MAX_BYTES (16 * 1024)
#define USERDATA_MAX_DECODED (64 * 1024)
#define DIRECTIVE_VERSION_MAX 128

struct directive {
	char *version;          /* required (unless channel/release); safe token [A-Za-z0-9._+-], 1..128 */
	char *bundle;           /* required (unless channel/release); s3:// URL, {version} expanded */
	char *bucket;           /* parsed from bundle */
	char *key;              /* parsed from bundle (no leading '/'), URL-decoded form */
	bool has_sha256;
	uint8_t sha256[32];     /* when has_sha256 */
	char *environment;      /* required; safe token */
	char *application;      /* required; safe token */
	char *deployment_group; /* optional; default "<application>-<environment>" */
	char *region;           /* optional */
	char *endpoint;         /* optional S3 endpoint URL override (http/https) */
	char *manifest_url;     /* channel= or release=: s3:// URL of a manifest (then version,
	                         * bundle, bucket, key and sha256 are filled from it, channel.h) */
	bool manifest_is_channel; /* channel= (true) or release= (false) */
	char *lifecycle_hook;   /* optional: the launch lifecycle hook to complete */
	char *autoscaling_group;/* optional: its group (else hoist.conf, else the IMDS tag) */
	char *report;           /* optional: s3://BUCKET/PREFIX/ for status reports */
	char *notify;           /* optional: http(s) URL POSTed on failure */
	unsigned line_of_version; /* line numbers for messages (0 if absent) */
};

/* Parses user data. On failure err->code is HOIST_EXIT_NO_DIRECTIVE when
 * there is no directive at all (empty data, no #hoist part), otherwise
 * HOIST_EXIT_DIRECTIVE with a message naming the key and line. */
int userdata_parse(const uint8_t *data, size_t len, struct directive *out, struct herr *err);
void directive_free(struct directive *d);
/* hoist-boot --channel URL: follow that channel instead of the directive's
 * release (version, bundle and sha256 are dropped). */
int directive_use_channel(struct directive *d, const char *url, struct herr *err);
/* Checks a version/environment/application token; returns 1 if safe. */
int directive_token_ok(const char *s, size_t maxlen);

#endif
