/* hookout.h - splits a hook's output into log lines and keeps its tail.
 *
 * Pure bookkeeping over bytes (no I/O besides log_raw_line), so memory is
 * fixed however much a hook prints: one line buffer of HOOK_LINE_MAX bytes
 * per stream (longer lines are split) and a ring of HOOK_TAIL_MAX bytes for
 * the tail. stdout and stderr arrive on pipes of their own and every line
 * says which it came from: "EVENT SCRIPT [stdout]: line" (as the reference's
 * scripts.log says [stdout]/[stderr]); in the tail, stderr lines start with
 * "[stderr] ". Lines of the two streams are in order within a stream; across
 * streams, in the order hoist read them. */
#ifndef HOIST_HOOKOUT_H
#define HOIST_HOOKOUT_H

#include <stddef.h>

#include "hooks.h"

#define HOOK_LINE_MAX 4096

enum hook_stream { HOOK_STDOUT = 0, HOOK_STDERR = 1 };

struct hook_out {
	const char *event; /* prefix parts of every logged line */
	const char *script;
	char line[2][HOOK_LINE_MAX + 1]; /* per stream */
	size_t len[2];                 /* bytes in line[stream] */
	char ring[HOOK_TAIL_MAX - 1];  /* last bytes of emitted lines, '\n'-separated */
	size_t ring_pos;               /* next write position in ring */
	unsigned long long ring_total; /* bytes ever written to ring */
	unsigned long long bytes;      /* bytes fed */
	unsigned long long lines;      /* lines emitted */
};

void hook_out_init(struct hook_out *o, const char *event, const char *script);
/* Feeds raw output of stdout; every complete (or HOOK_LINE_MAX long) line is logged. */
void hook_out_feed(struct hook_out *o, const char *data, size_t n);
/* The same for either stream. */
void hook_out_feed_stream(struct hook_out *o, enum hook_stream s, const char *data, size_t n);
/* Logs a last line (of each stream) that had no newline. */
void hook_out_finish(struct hook_out *o);
/* Copies the tail: the last whole lines that fit in size-1 bytes, each ending
 * in '\n' (a single line longer than that keeps its end). */
void hook_out_tail(const struct hook_out *o, char *dst, size_t size);

#endif
