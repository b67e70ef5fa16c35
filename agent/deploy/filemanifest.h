/* filemanifest.h - what a revision put on the host, with the attributes hoist
 * verify compares: revisions/V/installed.manifest, written when Install ends (from the
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
 * manifest: file_manifest_from_list reads their installed list instead (no owner,
 * group, size or link target recorded: those are not compared). */
#ifndef HOIST_FILEMANIFEST_H
#define HOIST_FILEMANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "herr.h"

#define FILE_MANIFEST_NAME "installed.manifest"
#define FILE_MANIFEST_MAX_BYTES (96u * 1024u * 1024u)

struct file_manifest_entry {
	char kind;                    /* 'F', 'L', 'D' */
	char sha[SHA256_HEX_LEN + 1]; /* F: content, L: target; "" unknown */
	int mode;                     /* -1 unknown */
	long long uid, gid, size;     /* -1 unknown */
	char *path;                   /* points into the manifest's text */
};

struct file_manifest {
	struct file_manifest_entry *e;
	size_t n;
	char *text; /* owned */
};

/* Pure: parses a manifest's text (takes ownership of text, malloc'ed, NUL-terminated). */
int file_manifest_parse(char *text, size_t len, const char *name, struct file_manifest *out,
                        struct herr *err);
/* Reads a manifest file (never through a symlink). */
int file_manifest_load(const char *path, struct file_manifest *out, struct herr *err);
/* Reads an installed list (install.h) as a manifest with unknown owners and sizes. */
int file_manifest_from_list(const char *list_path, struct file_manifest *out, struct herr *err);
/* Writes dir/installed.manifest from the complete installed list and the host (root prefix). */
int file_manifest_write(const char *list_path, const char *root, const char *dir, struct herr *err);
/* Rewrites dir/installed.manifest with the host's current modes, owners and sizes, and the
 * sha256 of each path changed (ctime) since the manifest was written; paths gone
 * or of another type are left as recorded (verify reports them). */
int file_manifest_refresh(const char *root, const char *dir, struct herr *err);
void file_manifest_free(struct file_manifest *m);

#endif
