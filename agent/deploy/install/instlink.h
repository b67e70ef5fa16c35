/* instlink.h - the linked install: a bundle file reaches its destination's
 * temporary name as a hard link to the revision tree's copy, so the bytes
 * unpacked once are never written again. Used only where nothing but the
 * agent's own user can change the shared inode and its metadata stays what
 * the tree already has (see docs/architecture.md, "Writing each byte once"). */
#ifndef HOIST_INSTLINK_H
#define HOIST_INSTLINK_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "herr.h"

/* Pure: may the tree file st become installed with final mode `mode` by a
 * hard link? Only a regular file with one name (not already installed or
 * shared), owned by euid, whose mode is already the final one, that neither
 * its group nor others may write, and that no permissions rule reaches
 * (a chown or chmod would change the kept tree too). */
bool instlink_eligible(const struct stat *st, int mode, bool has_rule, uid_t euid);

/* Links src (opened as sfd, stat sst) to tmp in directory pfd when
 * instlink_eligible allows, SELinux is off (a link keeps the tree's label),
 * pfd has no default ACL (a link would not inherit it) and the file system
 * allows. Returns 1 with *out_fd
 * a read-only fd on the new name (same inode as sfd), 0 when a copy must be
 * made instead (not eligible, another file system, no hard links...), -1 on
 * an error (err filled). */
int instlink_try(const char *src, int sfd, const struct stat *sst, int pfd, const char *tmp, int mode,
                 bool has_rule, const char *what, int *out_fd, struct herr *err);

/* The tree files an install used (linked or copied), recorded beside its
 * installed list (in the directory of new_list) as INSTLINK_TREE_LIST, one
 * "<sha256-hex> <path in the tree>\n" per file, the sha256 each had when it
 * was installed: what the kept tree must still hold before it is installed
 * again (kepttree.h). A linked file may be changed through the host; any
 * file may be changed by a later hook, or lost to a power loss (the unpacked
 * tree is not fsync'd unless a file is linked or the install is large). */
#define INSTLINK_TREE_LIST "tree.list"

/* Writes text (n bytes, the lines above) as INSTLINK_TREE_LIST beside new_list
 * (temporary name, fsync, rename); the caller fsyncs the directory (the
 * final installed list is renamed in it right after). With n == 0 removes a
 * stale one instead. */
int instlink_record(const char *new_list, const char *text, size_t n, struct herr *err);
/* INSTLINK_TREE_LIST's path beside new_list into out (PATH_MAX). */
int instlink_list_path(const char *new_list, char *out, struct herr *err);

#endif
