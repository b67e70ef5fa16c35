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

/* Logs the buffered line of a stream as "EVENT SCRIPT [stream]: line"
 * (log_raw_line adds the timestamp in the log file; journald stamps stderr)
 * and keeps it in the tail. */
static void emit(struct hook_out *o, enum hook_stream st)
{
	char msg[HOOK_LINE_MAX + 256];
	char *line = o->line[st];
	size_t len = o->len[st];

	if (len > 0 && line[len - 1] == '\r')
		len--;
	line[len] = '\0';
	/* event and script are bounded so the line itself is never cut */
	(void)snprintf(msg, sizeof(msg), "%.64s %.160s [%s]: %s", o->event, o->script,
		       st == HOOK_STDERR ? "stderr" : "stdout", line);
	log_raw_line(msg);
	if (st == HOOK_STDERR)
		ring_put(o, "[stderr] ", 9);
	ring_put(o, line, len);
	ring_put(o, "\n", 1);
	o->lines++;
	o->len[st] = 0;
}

void hook_out_feed_stream(struct hook_out *o, enum hook_stream st, const char *data, size_t n)
{
	o->bytes += n;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)data[i];
		if (c == '\n') {
			emit(o, st);
			continue;
		}
		/* Control bytes (escape sequences, NUL) would corrupt the log and
		 * terminals reading it; tabs and UTF-8 are kept. */
		if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f)
			c = '?';
		o->line[st][o->len[st]++] = (char)c;
		if (o->len[st] == HOOK_LINE_MAX)
			emit(o, st); /* a longer line continues on the next log line */
	}
}

void hook_out_feed(struct hook_out *o, const char *data, size_t n)
{
	hook_out_feed_stream(o, HOOK_STDOUT, data, n);
}

void hook_out_finish(struct hook_out *o)
{
	if (o->len[HOOK_STDOUT] > 0)
		emit(o, HOOK_STDOUT);
	if (o->len[HOOK_STDERR] > 0)
		emit(o, HOOK_STDERR);
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
