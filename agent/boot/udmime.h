/* udmime.h - unwraps EC2 user data to the text of the hoist directive.
 *
 * Pure: bytes in, text out. Handles gzip (bounded inflate), MIME multipart
 * documents in the cloud-init style (nested at most UD_MAX_DEPTH levels),
 * base64 part bodies, a UTF-8 BOM and CRLF line ends. Which parts count as
 * the directive: a text/x-hoist part always; a text/plain,
 * text/x-shellscript or gzip part whose first non-empty line is "#hoist".
 * userdata.c parses the directive itself. */
#ifndef HOIST_UDMIME_H
#define HOIST_UDMIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "herr.h"

#define UD_MAX_DEPTH 4

struct ud_found {
	char *text; /* the directive text (heap, NUL-terminated, BOM removed); NULL if none */
	size_t len;
	bool typed;     /* came from a text/x-hoist part ("#hoist" line optional there) */
	unsigned count; /* directive parts seen: 0 none, 1 ok (more is an error) */
};

/* Finds the directive in user data of at most max_decoded bytes after
 * decompression. Returns 0 with found->count 0 or 1, or -1 with err set
 * (HOIST_EXIT_DIRECTIVE: malformed gzip/MIME/base64, too large after
 * decoding, or more than one directive part). found->text is the caller's. */
int ud_unwrap(const uint8_t *data, size_t len, size_t max_decoded, struct ud_found *found, struct herr *err);
/* 1 when the first non-empty line of s (after an optional BOM) is "#hoist"
 * or "#hoist" followed by white space. */
int ud_starts_with_directive(const char *s, size_t len);
void ud_found_free(struct ud_found *f);

#endif
