/* hookout.c - line splitting, sanitising and the tail ring of hook output. */
#include "hookout.h"

#include <stdio.h>
#include <string.h>

#include "log.h"

void hook_out_init(struct hook_out *o, const char *event, const char *script)
{
	memset(o, 0, sizeof(*o));
	o->event = event != NULL ? event : "hook";
	o->script = script != NULL ? script : "?";
}

/* Appends bytes to the tail ring, overwriting the oldest. */
static void ring_put(struct hook_out *o, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		o->ring[o->ring_pos] = p[i];
		o->ring_pos = (o->ring_pos + 1) % sizeof(o->ring);
	}
	o->ring_total += n;
}

/* Logs the buffered line as "EVENT SCRIPT: line" (log_raw_line adds the
 * timestamp in the log file; journald stamps stderr) and keeps it in the tail. */
static void emit(struct hook_out *o)
{
	char msg[HOOK_LINE_MAX + 256];
	size_t len = o->len;

	if (len > 0 && o->line[len - 1] == '\r')
		len--;
	o->line[len] = '\0';
	/* event and script are bounded so the line itself is never cut */
	(void)snprintf(msg, sizeof(msg), "%.64s %.160s: %s", o->event, o->script, o->line);
	log_raw_line(msg);
	ring_put(o, o->line, len);
	ring_put(o, "\n", 1);
	o->lines++;
	o->len = 0;
}

void hook_out_feed(struct hook_out *o, const char *data, size_t n)
{
	o->bytes += n;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)data[i];
		if (c == '\n') {
			emit(o);
			continue;
		}
		/* Control bytes (escape sequences, NUL) would corrupt the log and
		 * terminals reading it; tabs and UTF-8 are kept. */
		if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f)
			c = '?';
		o->line[o->len++] = (char)c;
		if (o->len == HOOK_LINE_MAX)
			emit(o); /* a longer line continues on the next log line */
	}
}

void hook_out_finish(struct hook_out *o)
{
	if (o->len > 0)
		emit(o);
}

void hook_out_tail(const struct hook_out *o, char *dst, size_t size)
{
	size_t have, n, start, skip = 0;

	if (size == 0)
		return;
	have = o->ring_total < sizeof(o->ring) ? (size_t)o->ring_total : sizeof(o->ring);
	n = have < size - 1 ? have : size - 1;
	/* the oldest of the last n bytes */
	start = (o->ring_pos + sizeof(o->ring) - n) % sizeof(o->ring);
	for (size_t i = 0; i < n; i++)
		dst[i] = o->ring[(start + i) % sizeof(o->ring)];
	dst[n] = '\0';
	if (o->ring_total > n) {
		/* the window starts inside a line: drop that partial line unless
		 * it is the only one */
		char *nl = memchr(dst, '\n', n);
		if (nl != NULL && (size_t)(nl - dst) + 1 < n)
			skip = (size_t)(nl - dst) + 1;
		memmove(dst, dst + skip, n - skip + 1);
	}
}
