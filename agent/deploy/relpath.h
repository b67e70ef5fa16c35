/* relpath.h - bundle-relative paths: lexical normalisation, a lookup that
 * never follows a symbolic link, and printable escaping for messages.
 *
 * Shared by bundle.c (checking archive entries against the staging tree)
 * and appspec.c (checking files.source and hook locations). */
#ifndef HOIST_RELPATH_H
#define HOIST_RELPATH_H

#include <stddef.h>
#include <sys/stat.h>

enum relpath_norm {
	RELPATH_NORM_OK = 0,
	RELPATH_NORM_ESCAPES,  /* a ".." climbs above the root */
	RELPATH_NORM_TOO_LONG, /* result does not fit */
};

/* Normalises a path relative to a root: leading '/' ignored (the root),
 * "" and "." components dropped, ".." resolved lexically. "" means the root
 * itself. Never touches the file system. */
enum relpath_norm relpath_normalise(const char *in, char *out, size_t outsz);

/* Normalises an absolute host path the same way (result starts with '/';
 * ".." at "/" stays at "/"). in must start with '/'. -1 if it does not fit. */
int relpath_normalise_abs(const char *in, char *out, size_t outsz);

/* 1 when any component of path is exactly "..". */
int relpath_has_dotdot(const char *path);

enum relpath_walk {
	RELPATH_FOUND = 0,   /* st holds the lstat of the last component */
	RELPATH_MISSING,     /* some component does not exist (bad = first missing prefix) */
	RELPATH_THROUGH_LINK,/* a non-final component is a symlink (bad = that prefix) */
	RELPATH_NOT_DIR,     /* a non-final component is not a directory (bad = that prefix) */
	RELPATH_ERROR,       /* other errno (errno set, bad = the prefix) */
};

/* Looks up a normalised relative path (relpath_normalise output) below the
 * directory rootfd, component by component with AT_SYMLINK_NOFOLLOW and
 * O_NOFOLLOW, so no symbolic link is ever followed. "" is rootfd itself.
 * bad (may be NULL) receives the offending prefix. */
enum relpath_walk relpath_lookup(int rootfd, const char *rel, struct stat *st, char *bad,
				 size_t badsz);

/* Copies in to out with bytes outside printable ASCII written as \xNN and
 * '\\' and '\'' escaped, truncated with "..." past outsz; for messages. */
void relpath_escape(const char *in, char *out, size_t outsz);

/* relpath_escape into one of RELPATH_SHOW_SLOTS rotating static buffers of
 * RELPATH_SHOW_MAX bytes, for printing a bundle-derived path in a message:
 * every such path goes through it (or relpath_escape), so a name with a
 * newline or an escape sequence never reaches a log line raw. Not
 * thread-safe (the agent is single-threaded); at most RELPATH_SHOW_SLOTS
 * results may be used in one call. */
#define RELPATH_SHOW_SLOTS 8
#define RELPATH_SHOW_MAX 768
const char *relpath_show(const char *in);

#endif
