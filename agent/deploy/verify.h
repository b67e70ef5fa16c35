/* verify.h - hoist verify: are the installed files of the current revision
 * still what it installed? Each manifest entry (manifest.h) is compared with
 * the host, never following a symlink:
 *   missing   the path is gone
 *   S size    5 sha256 of the content    M mode (permission bits or file type)
 *   L link target    U owner    G group    T file type (also flagged M, as rpm does)
 * Output like rpm -V: one line per differing path, "SM5DLUGTP" columns with
 * '.' for a match ('?' when the content could not be read), nothing when clean.
 *
 * Exit: 0 clean, HOIST_EXIT_DRIFT (20) something differs, HOIST_EXIT_CANNOT_VERIFY
 * (21) no current revision, a deployment in progress, no readable manifest, or
 * a file that could not be read (and nothing else differs). */
#ifndef HOIST_VERIFY_H
#define HOIST_VERIFY_H

#include <stdbool.h>
#include <stdio.h>

#include "herr.h"
#include "filemanifest.h"

enum verify_problem {
	VERIFY_MISSING = 1u << 0,
	VERIFY_SIZE = 1u << 1,
	VERIFY_MODE = 1u << 2,
	VERIFY_SHA = 1u << 3,
	VERIFY_LINK = 1u << 4,
	VERIFY_OWNER = 1u << 5,
	VERIFY_GROUP = 1u << 6,
	VERIFY_TYPE = 1u << 7,
	VERIFY_UNREADABLE = 1u << 8,
};

/* What was found on the host for one entry. */
struct verify_actual {
	char kind; /* 'F', 'L', 'D', '?' (other type), 0 missing */
	int mode;
	long long uid, gid, size;
	char sha[SHA256_HEX_LEN + 1]; /* F: content, L: target; "" not computed / unreadable */
	bool unreadable;
};

/* Pure: the problems of one entry given what was found. */
unsigned verify_compare(const struct file_manifest_entry *want, const struct verify_actual *got);
/* Pure: the rpm -V columns "SM5DLUGTP" of a problem set into out[10]. */
void verify_flags(unsigned problems, char out[10]);
/* Runs hoist verify on the state directory; prints to out; returns the exit code. */
int verify_run(const char *state_dir, const char *root, bool json, FILE *out, struct herr *err);

#endif
