/* manifest.h - what a revision put on the host, with the attributes hoist
 * verify compares: revisions/V/manifest, written when Install ends (from the
 * installed list and an lstat of each path), then brought up to date when the
 * deployment succeeds: what its own hooks changed (an AfterInstall that
 * templates a config or changes a mode) is part of the deployed revision.
 *
 *   hoist-manifest 1
 *   F <sha256> <mode> <uid> <gid> <size> <path>   regular file
 *   L <sha256 of the link target> - <uid> <gid> - <path>   symbolic link
 *   D - <mode> <uid> <gid> - <path>               directory created by the revision
 * mode is octal (permission bits); path is absolute on the host (without the
 * root prefix) and last, so it may hold spaces. Older revisions have no
 * manifest: manifest_from_list reads their installed list instead (no owner,
 * group, size or link target recorded: those are not compared). */
#ifndef HOIST_MANIFEST_H
#define HOIST_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "herr.h"

#define MANIFEST_NAME "manifest"
#define MANIFEST_MAX_BYTES (96u * 1024u * 1024u)

struct manifest_entry {
	char kind;                    /* 'F', 'L', 'D' */
	char sha[SHA256_HEX_LEN + 1]; /* F: content, L: target; "" unknown */
	int mode;                     /* -1 unknown */
	long long uid, gid, size;     /* -1 unknown */
	char *path;                   /* points into the manifest's text */
};

struct manifest {
	struct manifest_entry *e;
	size_t n;
	char *text; /* owned */
};

/* Pure: parses a manifest's text (takes ownership of text, malloc'ed, NUL-terminated). */
int manifest_parse(char *text, size_t len, const char *name, struct manifest *out, struct herr *err);
/* Reads a manifest file (never through a symlink). */
int manifest_load(const char *path, struct manifest *out, struct herr *err);
/* Reads an installed list (install.h) as a manifest with unknown owners and sizes. */
int manifest_from_list(const char *list_path, struct manifest *out, struct herr *err);
/* Writes dir/manifest from the complete installed list and the host (root prefix). */
int manifest_write(const char *list_path, const char *root, const char *dir, struct herr *err);
/* Rewrites dir/manifest with the host's current modes, owners and sizes, and the
 * sha256 of each path changed (ctime) since the manifest was written; paths gone
 * or of another type are left as recorded (verify reports them). */
int manifest_refresh(const char *root, const char *dir, struct herr *err);
void manifest_free(struct manifest *m);

#endif
