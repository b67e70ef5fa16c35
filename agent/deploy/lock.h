/* lock.h - one deployment at a time: an flock on STATE/lock.
 *
 * The kernel drops the lock when the holder dies (kill -9, crash), so a
 * stale lock never blocks the next run; the journal tells that run what
 * was interrupted. */
#ifndef HOIST_LOCK_H
#define HOIST_LOCK_H

#include "herr.h"

/* Takes the lock without waiting. Returns the lock fd (>= 0), or -1 with
 * err->code HOIST_EXIT_BUSY when another process holds it (message names
 * its pid when known), HOIST_EXIT_IO on other errors. */
int lock_acquire(const char *state_dir, struct herr *err);
void lock_release(int fd);

#endif
