/* revisions.h - the kept revisions under STATE/revisions/<version>/ and their retention.
 *
 *   bundle.<ext>      the bundle as given (hard link when on the same file system,
 *                     else a copy); absent for a directory bundle
 *   tree/             the unpacked bundle (staged in STATE/tmp, then renamed here)
 *   installed.list    what Install put on the host (install.h format), complete
 *   installed.partial the list while Install runs (a crash leaves it for recovery)
 *   installed.manifest what hoist verify compares with (filemanifest.h)
 *   meta              record: version, deployed_at, result, sha256, bundle, deployment_id,
 *                     bytes, application, environment, deployment_group, bundle_*
 *   status.json/.txt  the status of the last deployment of this revision
 *   deploy.log        the log of every deployment of this revision (hook output too)
 * STATE/current, STATE/last-good and STATE/installed are record.h files naming a
 * version; installed is the revision whose files are on the host (written when
 * its Install step ends), current the last deployment that succeeded or was
 * rolled back to, last-good the last one that succeeded. */
#ifndef HOIST_REVISIONS_H
#define HOIST_REVISIONS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "herr.h"

#define REV_NAME_MAX 160

struct rev_paths {
	char dir[PATH_MAX];
	char tree[PATH_MAX];
	char list[PATH_MAX];
	char partial[PATH_MAX];
	char meta[PATH_MAX];
	char log[PATH_MAX];
};

/* 0 when version is a version name (str_safe_token, the rule of --version and
 * of the directive); else an error naming where it was read (HOIST_EXIT_IO).
 * Every name read from a state file passes it before it is used in a path. */
int rev_name_check(const char *version, const char *where, struct herr *err);
/* Fills the paths of a version's revision directory (refuses a bad name). */
int rev_paths(const char *state_dir, const char *version, struct rev_paths *p, struct herr *err);

/* Reads key of record STATE/name into out ("" when the record or key is absent). */
int rev_record_field(const char *state_dir, const char *name, const char *key, char *out, size_t cap,
                     struct herr *err);
/* Reads the "version" of record STATE/name into out ("" when absent). */
int rev_record_version(const char *state_dir, const char *name, char *out, size_t cap, struct herr *err);
/* Writes STATE/name = {version, revision dir, deployment id, time, sha256}, atomically. */
int rev_record_write(const char *state_dir, const char *name, const char *version, const char *deployment_id,
                     const char *sha256, struct herr *err);
/* Removes STATE/name (durably). */
int rev_record_remove(const char *state_dir, const char *name, struct herr *err);

struct rev_entry {
	char version[REV_NAME_MAX];
	double deployed_at; /* epoch seconds (ns resolution), 0 when never deployed */
	uint64_t bytes;     /* everything under the revision directory */
	char result[16];    /* from meta: succeeded, failed, ... ("" unknown) */
	bool protect;       /* current, last-good or installed: never removed */
	bool remove;        /* set by rev_retention_select */
};

/* Pure: marks entries to remove. Newest first (deployed_at), protected ones are
 * always kept and count against the limits; another is kept while fewer than
 * keep_n are kept and the kept bytes stay within keep_bytes. */
void rev_retention_select(struct rev_entry *e, size_t n, unsigned keep_n, uint64_t keep_bytes);
/* Bytes of the regular files under dir (a hard-linked bundle counts: it pins the space). */
uint64_t rev_dir_bytes(const char *dir);
/* Lists STATE/revisions (sorted newest first); sizes come from meta "bytes"
 * when recorded (set when a deployment succeeds), else are counted. *out is malloc'ed. */
int rev_list(const char *state_dir, struct rev_entry **out, size_t *n, struct herr *err);
/* Applies retention: marks current/last-good/installed protected, removes the rest beyond limits. */
int rev_retain(const char *state_dir, unsigned keep_n, uint64_t keep_bytes, struct herr *err);

#endif
