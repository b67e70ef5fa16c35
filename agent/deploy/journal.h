/* journal.h - STATE/journal: the record of a deployment in progress.
 *
 * Exists only while a deployment runs (or after it was interrupted). Text,
 * append-only; the first "begin" line and Install's are fdatasync'd before
 * their step starts (the others only change the name of the last step, and
 * become durable with the next sync):
 *   hoist-journal 1
 *   id D-XXXXXXXXX
 *   kind deploy|rollback|recover
 *   version V          the revision being deployed
 *   installed V|-      the revision whose files were on the host at the start
 *   last_good V|-      the last-good revision at the start
 *   begin EVENT EPOCH  a step started (ApplicationStop, ..., Install, ...)
 *   hook PGID TICKS BOOTID  a hook of the step began: its process group, start
 *                      time (clock ticks since boot) and the boot id (orphans.h)
 *   end EVENT ok|failed EPOCH
 * A trailing line without its newline (torn by a crash) is ignored. */
#ifndef HOIST_JOURNAL_H
#define HOIST_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "herr.h"
#include "orphans.h"

#define JOURNAL_MAX_BYTES 65536
#define JOURNAL_NAME_MAX 160

struct journal_info {
	char id[JOURNAL_NAME_MAX];
	char kind[16];
	char version[JOURNAL_NAME_MAX];
	char installed[JOURNAL_NAME_MAX]; /* "" for none */
	char last_good[JOURNAL_NAME_MAX]; /* "" for none */
	bool host_touched;                /* a step that changes the host began (any hook, Install) */
	bool install_begun;
	bool install_ended; /* Install ended ok: the new revision's files are whole */
	char last_step[64]; /* the last step begun ("" none) */
	struct hook_ident hook; /* the hook running at the end (pgid 0: none, or it ended) */
};

struct journal; /* opaque: the open journal file */

/* Prepares the journal at path; the file is created with its header and the
 * first line (atomic, fsync'd, the directory too) when a step begins. */
int journal_create(const char *path, const struct journal_info *head, struct journal **out, struct herr *err);
/* Appends "begin EVENT"; fdatasyncs the first one and Install's. */
int journal_begin(struct journal *j, const char *event, struct herr *err);
/* Appends "hook PGID TICKS BOOTID" (not synced: read only in the same boot,
 * where the page cache keeps it): recovery can end what a killed hoist left
 * of the hook. */
int journal_hook(struct journal *j, const struct hook_ident *id, struct herr *err);
/* Appends "end EVENT ok|failed" (synced with the next begin). */
int journal_end(struct journal *j, const char *event, bool ok, struct herr *err);
/* Closes; with remove, unlinks the file and fsyncs its directory (deployment over). */
int journal_close(struct journal *j, bool remove, struct herr *err);

/* Pure: parses a journal's text. Errors are HOIST_EXIT_IO naming the line. */
int journal_parse(const char *text, size_t len, struct journal_info *out, struct herr *err);
/* Reads path: 1 = no journal, 0 = parsed into out, -1 = error. */
int journal_read(const char *path, struct journal_info *out, struct herr *err);

#endif
