/* strutil.h - small string checks shared by the parsers. */
#ifndef HOIST_STRUTIL_H
#define HOIST_STRUTIL_H

/* 1 when s has no control bytes (so it prints safely inside quotes in a message). */
int str_printable(const char *s);

#endif
