/* herr.h - an error result threaded through every fallible call.
 *
 * Functions return 0 on success or -1 on failure; on failure they fill a
 * struct herr with the exit-code class (exitcodes.h) and one precise,
 * human-readable line: what failed, where (file, line, key, entry), why.
 * Secrets are never put in the message. */
#ifndef HOIST_HERR_H
#define HOIST_HERR_H

#include <stddef.h>

#define HERR_MSG_MAX 1024

struct herr {
	int code;                 /* enum hoist_exit; 0 while no error is set */
	char msg[HERR_MSG_MAX];
};

/* Sets code and message (printf-style). Truncates with "..." if too long.
 * Always returns -1 so callers can write `return herr_set(...)`. */
int herr_set(struct herr *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like herr_set, with ": strerror(errnum)" appended. */
int herr_errno(struct herr *e, int code, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Prefixes the existing message with "prefix: " (context from a caller). */
int herr_prefix(struct herr *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void herr_clear(struct herr *e);

#endif
