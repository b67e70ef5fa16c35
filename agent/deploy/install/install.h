/* install.h - copies a revision's files onto the host and removes a previous
 * revision's, with the CodeDeploy semantics of ../shared/reference/codedeploy-agent.md
 * section 1.2-1.4 and 3.1, but safe:
 *   - conflicts (file_exists_behavior DISALLOW, duplicate targets, a file
 *     where a directory must go) are all found by install_plan BEFORE
 *     anything on the host is removed or written, so a refused deployment
 *     leaves the host exactly as it was;
 *   - files are written to a temporary name in the destination directory
 *     and renamed into place; an existing destination symlink is replaced,
 *     never written through; symlinks in the bundle are copied as links;
 *   - every path that may be written is recorded in the installed list
 *     BEFORE anything is written: the whole list is written ahead (sha256s
 *     pending) and made durable once, so a crash leaves a superset that
 *     install_undo can remove; the copies are then made durable together
 *     (fsync of each, or syncfs for a large install) and only then is the
 *     list replaced, atomically, by the one with the real sha256s;
 *   - on a file system with reflinks a file is cloned from the tree (a new
 *     inode, extents shared copy-on-write); elsewhere, with links allowed
 *     (install_plan_set_links), a file that qualifies is hard-linked from
 *     the tree; all others are copied.
 *
 * Installed list ("installed.list"), one entry per line, path last:
 *   F <sha256-hex> <mode-octal> <path>   regular file installed
 *   L - - <path>                         symlink installed
 *   D - <mode-octal> <path>              directory created by this revision
 * Paths are absolute host paths (without the root prefix). A path containing
 * a newline is refused at plan time. */
#ifndef HOIST_INSTALL_H
#define HOIST_INSTALL_H

#include <stdbool.h>

#include "appspec.h"
#include "herr.h"

struct install_plan; /* opaque */

struct install_opts {
	const char *root;            /* root prefix for host paths ("" = /) */
	const char *tree;            /* the unpacked bundle (revision tree) */
	const struct appspec *spec;
	const char *prev_list;       /* installed list of the revision being replaced, or NULL */
	const char *new_list;        /* where to write this revision's installed list */
};

/* Computes every action and checks every conflict; touches nothing on the host. */
int install_plan(const struct install_opts *opts, struct install_plan **out, struct herr *err);
/* Removes the previous revision's files (install_undo of prev_list), then
 * copies, creates and applies permissions; records as it goes. On success
 * new_list holds the final list, renamed into place but its directory not
 * yet fsync'd: the caller's next rename in that directory and its fsync
 * make it durable (until then a crash leaves the list written ahead). */
int install_apply(struct install_plan *plan, struct herr *err);
void install_plan_free(struct install_plan *plan);
/* The linked install (instlink.h): a file whose final mode and owner are
 * already the tree's, that only its owner may write and that no permissions
 * rule reaches becomes a hard link to the tree's copy instead of a copy (on
 * one file system, without reflinks). Off unless set: the installed file and
 * the kept tree then share one inode. The hook scripts of spec (kept until
 * install_plan_free) are always copied: hoist may chmod a script in the tree
 * before it runs it, which must not reach the host. */
void install_plan_set_links(struct install_plan *plan, bool on, const struct appspec *spec);
/* Records the tree files this install uses, with their sha256s, in
 * tree.list beside the installed list (instlink.h), for the check before the
 * tree is installed again. Off unless set (a directory deploy keeps no bundle
 * to unpack a changed tree again from). */
void install_plan_record_tree(struct install_plan *plan, bool on);

/* Removes what an installed list names, in reverse order: files and links
 * unlinked (never followed), created directories rmdir'ed when empty.
 * Missing entries are fine (idempotent, so it can run again after a crash). */
int install_undo(const char *list_path, const char *root, struct herr *err);
/* Checks that every F entry of a list still has its recorded SHA-256 on the
 * host; the first difference is reported in err (HOIST_EXIT_FAILED). */
int install_verify(const char *list_path, const char *root, struct herr *err);

#endif
