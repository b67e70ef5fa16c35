/* herr.c - filling struct herr. */
#include "herr.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void mark_truncated(char *buf, size_t size)
{
	if (size >= 4)
		memcpy(buf + size - 4, "...", 4);
}

__attribute__((format(printf, 3, 0)))
static void vformat(char *buf, size_t size, const char *fmt, va_list ap)
{
	int n = vsnprintf(buf, size, fmt, ap);
	if (n < 0)
		buf[0] = '\0';
	else if ((size_t)n >= size)
		mark_truncated(buf, size);
}

int herr_set(struct herr *e, int code, const char *fmt, ...)
{
	va_list ap;
	if (e == NULL)
		return -1;
	e->code = code;
	va_start(ap, fmt);
	vformat(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int herr_errno(struct herr *e, int code, int errnum, const char *fmt, ...)
{
	va_list ap;
	size_t len;
	if (e == NULL)
		return -1;
	e->code = code;
	va_start(ap, fmt);
	vformat(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	len = strlen(e->msg);
	if (len < sizeof(e->msg)) {
		int n = snprintf(e->msg + len, sizeof(e->msg) - len, ": %s", strerror(errnum));
		if (n < 0 || (size_t)n >= sizeof(e->msg) - len)
			mark_truncated(e->msg, sizeof(e->msg));
	}
	return -1;
}

int herr_prefix(struct herr *e, const char *fmt, ...)
{
	char prefix[HERR_MSG_MAX];
	char old[HERR_MSG_MAX];
	va_list ap;
	int n;
	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	vformat(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old));
	n = snprintf(e->msg, sizeof(e->msg), "%s: %s", prefix, old);
	if (n < 0 || (size_t)n >= sizeof(e->msg))
		mark_truncated(e->msg, sizeof(e->msg));
	return -1;
}

void herr_clear(struct herr *e)
{
	if (e != NULL) {
		e->code = 0;
		e->msg[0] = '\0';
	}
}
