/* strutil.h - small string checks shared by the parsers. */
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

#endif
