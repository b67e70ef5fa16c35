/* progress.h - download progress: on a terminal one updating line (bytes,
 * rate, time left), otherwise a log line every few seconds. */
#ifndef HOIST_PROGRESS_H
#define HOIST_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

#define PROGRESS_TTY_INTERVAL_MS 250
#define PROGRESS_LOG_INTERVAL_MS 5000

struct progress {
	uint64_t start_ms;
	uint64_t last_ms;
	uint64_t total; /* 0 when unknown */
	int tty;        /* draw a \r line on stderr */
	int drawn;      /* a tty line is on screen */
	int enabled;
};

void progress_start(struct progress *p, uint64_t total, int tty, int enabled);
void progress_update(struct progress *p, uint64_t bytes);
/* Clears the tty line. */
void progress_end(struct progress *p);
/* Pure: "12.3 MiB". */
void progress_bytes(uint64_t n, char *out, size_t outsz);
/* Pure: "12.3 MiB of 256.0 MiB, 80.1 MiB/s, 3 s left" (total 0: no "of"/"left"). */
void progress_format(char *out, size_t outsz, uint64_t bytes, uint64_t total, uint64_t elapsed_ms);

#endif
