/* bundle.h - turns a bundle (.tar, .tar.gz/.tgz, .zip, or a directory) into
 * a fresh staging tree, safely.
 *
 * Archives are extracted with libarchive and ARCHIVE_EXTRACT_SECURE_SYMLINKS,
 * SECURE_NODOTDOT and SECURE_NOABSOLUTEPATHS always on; in addition hard
 * links that leave the tree, device nodes, FIFOs and sockets are refused,
 * set-id bits are refused unless allowed, and the entry count, total bytes
 * and path length are capped. Every libarchive warning or retry is fatal.
 * A directory bundle is copied with the same checks (symlinks copied as
 * links, never followed). Like the reference agent, one wrapper directory
 * is lifted when the root holds only one directory that contains an
 * appspec. On failure the staging directory is removed and err names the
 * entry and the reason (code HOIST_EXIT_BAD_BUNDLE, or HOIST_EXIT_IO). */
#ifndef HOIST_BUNDLE_H
#define HOIST_BUNDLE_H

#include <stdbool.h>
#include <stdint.h>

#include "herr.h"

struct bundle_limits {
	uint64_t max_entries;     /* default 100000 */
	uint64_t max_total_bytes; /* default 8 GiB, counted as data is written */
	unsigned max_path_len;    /* default 1024 */
	bool allow_setid;         /* default false */
};

void bundle_limits_default(struct bundle_limits *l);
/* staging must not exist; it is created (0755) and filled. */
int bundle_stage(const char *bundle_path, const char *staging, const struct bundle_limits *lim,
		 struct herr *err);

#endif
