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
 * entry and the reason (code HOIST_EXIT_BAD_BUNDLE, or HOIST_EXIT_IO).
 *
 * Decisions (docs/appspec.md lists them against the reference):
 *   - Owners are NOT restored (no ARCHIVE_EXTRACT_OWNER): staged files belong
 *     to the agent's user. The reference keeps the archive's uid/gid as root
 *     (tar -p); hoist sets ownership only through appspec `permissions`, so a
 *     bundle built on a laptop cannot hand files to whatever uid it carried.
 *     Modes and mtimes are kept; xattrs, ACLs and file flags are not (a
 *     security.capability xattr would grant capabilities).
 *   - A later entry may not replace an earlier one (tar allows it): only a
 *     directory entry may name an existing directory. No entry may have a
 *     symlink or a non-directory as a parent, so nothing is written through
 *     a link an earlier entry planted. Symlinks with any target are created
 *     as links.
 *   - Hard links must name a regular file extracted earlier.
 *   - The declared size of an entry is checked before anything is written,
 *     and bytes are counted again as each block is written, against
 *     bundle_extract_cap: a decompression bomb (a 42 KB zip that inflates to
 *     4 GiB) stops after at most ratio_floor bytes, while an honest archive of
 *     several GiB (a ratio far below 100) extracts whole.
 *   - Names are decoded as UTF-8 whatever the process locale (LANG unset, C):
 *     libarchive converts pax and UTF-8-flagged zip names to the current
 *     locale's charset, and ASCII cannot hold "caf\xc3\xa9.txt". Extraction
 *     runs under a C.UTF-8 LC_CTYPE (uselocale, this thread only), so names
 *     land byte-exact.
 *   - Content decides the format (tar/pax/ustar/gnutar, zip; compressed with
 *     gzip, bzip2, xz, lzma, zstd, lz4 or compress), never the file name.
 *     Decompressors that would run an external program are not enabled.
 *   - Extraction chdir()s into staging for libarchive and back (the agent is
 *     single-threaded; not safe to call from several threads).
 *   - staging's parent must exist; staging is 0700 while being filled and
 *     0755 when done. A directory bundle is limited to 200 levels. */
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
	unsigned max_ratio;       /* default 100: an archive extracts to at most ratio x its size ... */
	uint64_t ratio_floor;     /* ... or this many bytes (default 128 MiB), whichever is larger;
	                           * 0 ratio: no ratio rule (max_total_bytes alone) */
};

void bundle_limits_default(struct bundle_limits *l);
/* Pure: the bytes an archive of archive_bytes may extract to: max_total_bytes,
 * lowered to max(max_ratio x archive_bytes, ratio_floor) (the bomb rule).
 * A directory bundle (archive_bytes 0) gets max_total_bytes. */
uint64_t bundle_extract_cap(const struct bundle_limits *l, uint64_t archive_bytes);
/* staging must not exist; it is created (0755) and filled. */
int bundle_stage(const char *bundle_path, const char *staging, const struct bundle_limits *lim,
		 struct herr *err);

#endif
