/* kepttree.h - a kept revision tree is whole before it is installed again.
 * An install records the sha256 of every tree file it used (tree.list,
 * instlink.h). A linked install shares inodes between the tree and the host,
 * so a change made in place to an installed file also reaches the tree; a
 * hook may change the tree; a power loss may cut files the unpacking never
 * fsync'd. Before a kept tree is used again (rollback, recovery, redeploy),
 * every recorded file must still have its sha256; a tree that differs is
 * unpacked again from the revision's kept bundle, so a rollback installs what
 * the bundle holds, with no network. */
#ifndef HOIST_KEPTTREE_H
#define HOIST_KEPTTREE_H

#include <stddef.h>

#include "bundle.h"
#include "herr.h"

/* Compares the tree with the tree.list in dir. Returns 0 when there is no
 * list or every file matches, 1 when one differs or is missing (its path in
 * the tree into changed, cap bytes), -1 on an error (err filled). */
int kepttree_check(const char *dir, const char *tree, char *changed, size_t cap, struct herr *err);

/* Unpacks bundle again into a staging directory in tmp_dir and exchanges it
 * with tree atomically (renameat2 RENAME_EXCHANGE: the tree's name always
 * holds one whole tree), removes the old one and dir's tree.list. */
int kepttree_restage(const char *dir, const char *bundle, const char *tmp_dir, const char *id,
                     const char *tree, const struct bundle_limits *lim, struct herr *err);

/* Both: the check, and a restage from dir/bundle_name when it finds a change.
 * bundle_name NULL (a directory deploy keeps no bundle): a change is an error. */
int kepttree_ready(const char *dir, const char *tree, const char *bundle_name, const char *tmp_dir,
                   const char *id, const struct bundle_limits *lim, struct herr *err);

#endif
