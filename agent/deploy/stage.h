/* stage.h - bringing a bundle into the state directory as a kept revision.
 *
 * The bundle file is hard-linked into the revision directory (copied when on
 * another file system); it is unpacked with bundle_stage into STATE/tmp and
 * the finished tree is renamed to revisions/<version>/tree, so a revision
 * directory never holds a half-extracted tree. */
#ifndef HOIST_STAGE_H
#define HOIST_STAGE_H

#include <stddef.h>

#include "bundle.h"
#include "herr.h"

/* A new deployment id: "d-" and 9 characters of [A-Z0-9] from getrandom. */
int stage_new_id(char *out, size_t cap, struct herr *err);
/* Pure: the archive suffix of a bundle file name (".tar.gz", ".tgz", ".tar",
 * ".zip"), or "" when it has none of them. */
const char *stage_suffix(const char *name);
/* Links (or copies) bundle into dir as "bundle<suffix>"; writes the name used to name_out. */
int stage_keep_bundle(const char *bundle, const char *dir, char *name_out, size_t cap, struct herr *err);
/* Unpacks bundle into tmp_dir/stage-<id>, then renames it to tree (which must not exist). */
int stage_tree(const char *bundle, const char *tmp_dir, const char *id, const char *tree,
               const struct bundle_limits *lim, struct herr *err);
/* Removes leftovers of interrupted stagings in tmp_dir (stage-* entries). */
void stage_clean_tmp(const char *tmp_dir);
/* Removes the temporary files a killed run left beside the records: NAME.tmp.PID
 * (fs_write_atomic, fs_write_replace) in state_dir and in each revisions/V/, and
 * revisions/V/installed.list.new. Run under the lock, so no writer owns them. */
void stage_clean_state_tmp(const char *state_dir);

#endif
