/* fsquick.h - atomic but not durable replacement of small informational files.
 *
 * For files that only describe state (status.json, a revision's meta): readers
 * see the old or the new content thanks to rename, but nothing is fsync'd, so
 * after a power loss the old content may come back. Files that decide what
 * recovery does (journal, current, last-good, installed) use fs_write_atomic. */
#ifndef HOIST_FSQUICK_H
#define HOIST_FSQUICK_H

#include <stddef.h>
#include <sys/types.h>

#include "herr.h"

/* Writes data to "path.tmp.PID" and renames it over path. */
int fs_write_replace(const char *path, const void *data, size_t n, mode_t mode, struct herr *err);

#endif
