/* log.h - the one logging module of both programs.
 *
 * Lines go to stderr (journald captures it under the unit's identifier)
 * and, when a file is attached, to that file with a UTC timestamp. Each
 * line is "PROGRAM: [PHASE] message". Never log secrets. */
#ifndef HOIST_LOG_H
#define HOIST_LOG_H

#include <stddef.h>

enum log_level { LOG_LEVEL_ERROR = 0, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

void log_init(const char *progname, enum log_level level);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Phase shown in brackets, e.g. "imds", "download", "BeforeInstall"; NULL clears. */
void log_set_phase(const char *phase);
/* Also append every line to fd (not owned; -1 detaches). */
void log_set_file(int fd);
/* 0 disables stderr output (tests); default 1. */
void log_set_stderr(int enabled);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_warn appends ": strerror(errno)"; log_warnx does not. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Pure: in with every control byte but tab written as \xNN (what every
 * log_* message goes through, so one message is one line); returns out. */
const char *log_escape_controls(const char *in, char *out, size_t outsz);

/* Writes one raw, already-formatted line (no prefix) to the attached file
 * and stderr; used for hook output, which carries its own prefix. */
void log_raw_line(const char *line);

#endif
