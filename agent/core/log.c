/* log.c - stderr plus optional deployment log file. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *log_prog = "hoist";
static enum log_level log_level = LOG_LEVEL_INFO;
static char log_phase[64];
static int log_fd = -1;
static int log_to_stderr = 1;

void log_init(const char *progname, enum log_level level)
{
	log_prog = progname;
	log_level = level;
}

void log_set_level(enum log_level level) { log_level = level; }
enum log_level log_get_level(void) { return log_level; }
void log_set_file(int fd) { log_fd = fd; }
void log_set_stderr(int enabled) { log_to_stderr = enabled; }

void log_set_phase(const char *phase)
{
	if (phase == NULL)
		log_phase[0] = '\0';
	else
		(void)snprintf(log_phase, sizeof(log_phase), "%s", phase);
}

/* Writes all of buf, retrying short writes and EINTR; errors are dropped
 * because a logger has nowhere to report its own failure. */
static void write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		buf += n;
		len -= (size_t)n;
	}
}

static void emit(const char *body)
{
	char line[4096];
	char stamp[32];
	struct timespec ts;
	struct tm tm;
	int n;

	if (log_phase[0] != '\0')
		n = snprintf(line, sizeof(line), "%s: [%s] %s\n", log_prog, log_phase, body);
	else
		n = snprintf(line, sizeof(line), "%s: %s\n", log_prog, body);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = (int)sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	if (log_to_stderr)
		write_all(STDERR_FILENO, line, (size_t)n);
	if (log_fd >= 0) {
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		if (strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ ", &tm) > 0)
			write_all(log_fd, stamp, strlen(stamp));
		write_all(log_fd, line, (size_t)n);
	}
}

/* One message is one line: control bytes (a newline or an escape sequence in
 * a bundle's file name, wherever a message quotes one) are written as \xNN,
 * so they can neither forge a log line nor reach a terminal. Tabs stay. */
const char *log_escape_controls(const char *in, char *out, size_t outsz)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	if (outsz == 0)
		return "";
	for (const unsigned char *p = (const unsigned char *)in; *p != '\0' && o + 1 < outsz; p++) {
		if ((*p >= 0x20 && *p != 0x7f) || *p == '\t') {
			out[o++] = (char)*p;
			continue;
		}
		if (o + 5 > outsz)
			break;
		out[o++] = '\\';
		out[o++] = 'x';
		out[o++] = hex[*p >> 4];
		out[o++] = hex[*p & 15];
	}
	out[o] = '\0';
	return out;
}

__attribute__((format(printf, 3, 0)))
static void vlog(enum log_level level, int errnum, const char *fmt, va_list ap)
{
	char body[3072];
	char safe[4000];
	size_t len;
	if (level > log_level)
		return;
	if (vsnprintf(body, sizeof(body), fmt, ap) < 0)
		return;
	if (errnum != 0) {
		len = strlen(body);
		(void)snprintf(body + len, sizeof(body) - len, ": %s", strerror(errnum));
	}
	emit(log_escape_controls(body, safe, sizeof(safe)));
}

#define LOG_FN(name, level, with_errno)                                  \
	void name(const char *fmt, ...)                                   \
	{                                                                 \
		int saved = errno;                                        \
		va_list ap;                                               \
		va_start(ap, fmt);                                        \
		vlog(level, (with_errno) ? saved : 0, fmt, ap);           \
		va_end(ap);                                               \
		errno = saved;                                            \
	}

LOG_FN(log_error, LOG_LEVEL_ERROR, 0)
LOG_FN(log_warn, LOG_LEVEL_WARN, 1)
LOG_FN(log_warnx, LOG_LEVEL_WARN, 0)
LOG_FN(log_info, LOG_LEVEL_INFO, 0)
LOG_FN(log_debug, LOG_LEVEL_DEBUG, 0)

void log_raw_line(const char *line)
{
	char stamp[32];
	struct timespec ts;
	struct tm tm;
	size_t len = strlen(line);
	if (log_to_stderr) {
		write_all(STDERR_FILENO, line, len);
		write_all(STDERR_FILENO, "\n", 1);
	}
	if (log_fd >= 0) {
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		if (strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ ", &tm) > 0)
			write_all(log_fd, stamp, strlen(stamp));
		write_all(log_fd, line, len);
		write_all(log_fd, "\n", 1);
	}
}
