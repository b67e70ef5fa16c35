/* fsutil.h - file-system helpers: atomic writes, bounded reads, safe removal, paths. */
#ifndef HOIST_FSUTIL_H
#define HOIST_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"
#include "herr.h"

#define FS_NOFOLLOW 1 /* refuse when the final component is a symlink */

/* Writes all n bytes, retrying short writes and EINTR; 0, or -1 with errno set. */
int fs_write_all(int fd, const void *data, size_t n);
/* mkdir -p; existing directories are fine, a non-directory in the way is an error. */
int fs_mkdir_p(const char *path, mode_t mode, struct herr *err);
/* Writes data to a temporary file beside path, fsyncs it, renames it over
 * path and fsyncs the directory: readers see the old or the new content. */
int fs_write_atomic(const char *path, const void *data, size_t n, mode_t mode, struct herr *err);
/* The same, atomic but not durable (nothing fsync'd): for files that only
 * describe state (status.json, a revision's meta). After a power loss the old
 * content may come back; files that decide what recovery does (journal,
 * current, last-good, installed) use fs_write_atomic. */
int fs_write_replace(const char *path, const void *data, size_t n, mode_t mode, struct herr *err);
int fs_fsync_dir(const char *dir, struct herr *err);
/* fsyncs the directory that contains path. */
int fs_fsync_parent(const char *path, struct herr *err);
/* Reads a whole regular file of at most max bytes into out (appended).
 * flags: FS_NOFOLLOW. Too large is an error naming the limit. */
int fs_read_file(const char *path, size_t max, int flags, struct buf *out, struct herr *err);
/* rm -rf that never follows symlinks; a missing path is not an error. */
int fs_rm_rf(const char *path, struct herr *err);
/* out = a "/" b, with exactly one slash between; -1 if it does not fit. */
int fs_path_join(char *out, size_t outsz, const char *a, const char *b);
/* out = root + abs_path (root "" or "/" means no prefix); -1 if it does not fit
 * or abs_path is not absolute. */
int fs_rooted(char *out, size_t outsz, const char *root, const char *abs_path);
/* 1 if the path exists (lstat), 0 if not, -1 on other errors. */
int fs_exists(const char *path);

#endif
