/* strutil.h - small string checks shared by the parsers, and the line and
 * key=value splitting of hoist.conf and the user data directive. */
#ifndef HOIST_STRUTIL_H
#define HOIST_STRUTIL_H

#include <stddef.h>

/* 1 when s has no control bytes (so it prints safely inside quotes in a message). */
int str_printable(const char *s);
/* 1 when s is a safe name for a version, environment or application: 1..maxlen
 * characters of [A-Za-z0-9._+-], not starting with '-' or '.', no "..".
 * Such a name can be a path component and a command-line argument as it is. */
int str_safe_token(const char *s, size_t maxlen);
/* 1 for "http://X" or "https://X" of at most maxlen bytes, where X is
 * non-empty, does not start with '/' and has no spaces or control bytes. */
int str_http_url_ok(const char *s, size_t maxlen);
#define STR_AWS_NAME_MAX 255 /* lifecycle hook and Auto Scaling group names */

/* 1 for 1..maxlen printable ASCII bytes without spaces (an AWS resource name
 * such as a lifecycle hook or an Auto Scaling group, an instance id). */
int str_word_ok(const char *s, size_t maxlen);

/* Lines of a key=value text (hoist.conf, the user data directive). */
/* The line at *p of [*p, end) as [*ls, *le), without its "\n" or a "\r" before
 * it; *p moves past it (to end after the last line). Call while *p < end. */
void str_next_line(const char **p, const char *end, const char **ls, const char **le);
/* Trims spaces and tabs from both ends of [*s, *e). */
void str_trim(const char **s, const char **e);
/* Splits [ls, le) at its first '=' into a key [*ks, *ke) and a value [*vs, *ve),
 * each trimmed; -1 (nothing set) when there is no '='. */
int str_split_kv(const char *ls, const char *le, const char **ks, const char **ke, const char **vs,
                 const char **ve);

#endif
