/* buf.h - a growable byte buffer that refuses to grow past a maximum. */
#ifndef HOIST_BUF_H
#define HOIST_BUF_H

#include <stddef.h>

struct buf {
	char *data;   /* always NUL-terminated when non-NULL */
	size_t len;
	size_t cap;
	size_t max;   /* largest len allowed; appends past it fail */
};

void buf_init(struct buf *b, size_t max);
/* Appends n bytes; returns 0, or -1 when len would pass max or malloc fails
 * (the buffer is then unchanged). */
int buf_append(struct buf *b, const void *data, size_t n);
int buf_append_str(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_reset(struct buf *b);
/* Frees the storage; the buffer may be reused after buf_init. */
void buf_free(struct buf *b);
/* Hands the storage to the caller (NULL if empty) and resets the buffer. */
char *buf_steal(struct buf *b);

#endif
