/* progress.c - download progress display. */
#include "progress.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "retry.h"

void progress_bytes(uint64_t n, char *out, size_t outsz)
{
	static const char unit[][4] = {"B", "KiB", "MiB", "GiB", "TiB"}; /* no pointers to relocate */
	double v = (double)n;
	unsigned u = 0;
	while (v >= 1024.0 && u < 4) {
		v /= 1024.0;
		u++;
	}
	if (u == 0)
		(void)snprintf(out, outsz, "%llu B", (unsigned long long)n);
	else
		(void)snprintf(out, outsz, "%.1f %s", v, unit[u]);
}

void progress_format(char *out, size_t outsz, uint64_t bytes, uint64_t total, uint64_t elapsed_ms)
{
	char b[32], t[32], r[32];
	double rate = elapsed_ms > 0 ? (double)bytes * 1000.0 / (double)elapsed_ms : 0.0;
	progress_bytes(bytes, b, sizeof(b));
	progress_bytes((uint64_t)rate, r, sizeof(r));
	if (total > 0 && total >= bytes) {
		unsigned long long left =
		    rate > 0.0 ? (unsigned long long)((double)(total - bytes) / rate + 0.5) : 0;
		progress_bytes(total, t, sizeof(t));
		if (rate > 0.0)
			(void)snprintf(out, outsz, "%s of %s, %s/s, %llu s left", b, t, r, left);
		else
			(void)snprintf(out, outsz, "%s of %s", b, t);
	} else {
		(void)snprintf(out, outsz, "%s, %s/s", b, r);
	}
}

void progress_start(struct progress *p, uint64_t total, int tty, int enabled)
{
	memset(p, 0, sizeof(*p));
	p->start_ms = retry_now_ms();
	p->last_ms = p->start_ms;
	p->total = total;
	p->tty = tty;
	p->enabled = enabled;
}

void progress_update(struct progress *p, uint64_t bytes)
{
	char line[160];
	uint64_t now;
	if (!p->enabled)
		return;
	now = retry_now_ms();
	if (now - p->last_ms < (p->tty ? PROGRESS_TTY_INTERVAL_MS : PROGRESS_LOG_INTERVAL_MS))
		return;
	p->last_ms = now;
	progress_format(line, sizeof(line), bytes, p->total, now - p->start_ms);
	if (p->tty) {
		char out[200];
		int n = snprintf(out, sizeof(out), "\r\033[Kdownload: %s", line);
		if (n > 0 && (size_t)n < sizeof(out) && write(STDERR_FILENO, out, (size_t)n) == n)
			p->drawn = 1;
	} else {
		log_info("%s", line);
	}
}

void progress_end(struct progress *p)
{
	if (p->drawn && write(STDERR_FILENO, "\r\033[K", 4) == 4)
		p->drawn = 0;
}
