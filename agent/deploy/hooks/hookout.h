/* hookout.h - splits a hook's output into log lines and keeps its tail.
 *
 * Pure bookkeeping over bytes (no I/O besides log_raw_line), so memory is
 * fixed however much a hook prints: one line buffer of HOOK_LINE_MAX bytes
 * (longer lines are split) and a ring of HOOK_TAIL_MAX bytes for the tail. */
#ifndef HOIST_HOOKOUT_H
#define HOIST_HOOKOUT_H

#include <stddef.h>

#include "hooks.h"

#define HOOK_LINE_MAX 4096

struct hook_out {
	const char *event; /* prefix parts of every logged line */
	const char *script;
	char line[HOOK_LINE_MAX + 1];
	size_t len;                    /* bytes in line */
	char ring[HOOK_TAIL_MAX - 1];  /* last bytes of emitted lines, '\n'-separated */
	size_t ring_pos;               /* next write position in ring */
	unsigned long long ring_total; /* bytes ever written to ring */
	unsigned long long bytes;      /* bytes fed */
	unsigned long long lines;      /* lines emitted */
};

void hook_out_init(struct hook_out *o, const char *event, const char *script);
/* Feeds raw output; every complete (or HOOK_LINE_MAX long) line is logged. */
void hook_out_feed(struct hook_out *o, const char *data, size_t n);
/* Logs a last line that had no newline. */
void hook_out_finish(struct hook_out *o);
/* Copies the tail: the last whole lines that fit in size-1 bytes, each ending
 * in '\n' (a single line longer than that keeps its end). */
void hook_out_tail(const struct hook_out *o, char *dst, size_t size);

#endif
