/* pack.h - a bundle directory into a reproducible .tgz: the same tree gives
 * the same bytes. Entries sorted by name (byte order, directories before
 * their contents), owner 0:0 "root", mtime fixed (SOURCE_DATE_EPOCH, else
 * 0), permission bits kept, pax (restricted) tar, gzip without a name or
 * timestamp. Regular files, directories and symlinks only; anything else
 * (device, fifo, socket) is an error naming it. Written to FILE.tmp,
 * fsync'd and renamed. */
#ifndef HOIST_PACK_H
#define HOIST_PACK_H

#include <stdint.h>
#include <time.h>

#include "herr.h"

struct pack_result {
	uint8_t sha256[32];
	uint64_t size;
	uint64_t entries;
};

int pack_dir(const char *dir, const char *out, time_t mtime, struct pack_result *res, struct herr *err);

#endif
