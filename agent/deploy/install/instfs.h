/* instfs.h - the file-system steps of install.c that must not follow planted
 * symlinks: opening a host path's parent directory component by component,
 * the temporary name beside a target, copying while hashing. */
#ifndef HOIST_INSTFS_H
#define HOIST_INSTFS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "herr.h"

/* Says whether the directory prefix (path[0..len), `depth` components deep)
 * may be a symlink that is followed; when false it is opened O_NOFOLLOW. */
typedef bool (*instfs_follow_fn)(const void *ctx, const char *path, size_t len, size_t depth);

/* Opens the directory that contains path (absolute, normalised, without the
 * root prefix) starting at rootfd, one openat per component. On failure
 * returns -1 with errno kept (ENOENT: a component is missing; ELOOP: a
 * component that may not be followed is a symlink) and err filled. */
int instfs_open_parent(int rootfd, const char *path, instfs_follow_fn follow, const void *ctx,
                       struct herr *err);
/* The last component of a normalised absolute path. */
const char *instfs_base(const char *path);
/* Number of components of a normalised absolute path ("/" has 0). */
size_t instfs_depth(const char *path);
/* The fixed temporary name used beside target name base (deterministic, so
 * install_undo can remove one left by a crash): ".hoist-tmp." + 16 hex digits. */
void instfs_tmp_name(const char *base, char out[NAME_MAX + 1]);
/* Copies all of src to dst (both fds; dst new and empty) with a fixed buffer,
 * hashing as it goes. A 64 KiB chunk of zeros is left a hole (INSTFS_COPY_CHUNK),
 * so a copy allocates at most one chunk per allocated block of src. */
#define INSTFS_COPY_CHUNK 65536
int instfs_copy(int src, int dst, const char *what, uint8_t sha[SHA256_LEN], struct herr *err);

#endif
