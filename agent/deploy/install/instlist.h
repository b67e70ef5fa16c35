/* instlist.h - the installed list of install.h: reading (validated, torn last
 * line dropped) and writing (each line durable before the path it names is
 * written: one fdatasync per line, or in batch mode one instlist_sync for a
 * whole list written ahead). Format and meaning are described in install.h. */
#ifndef HOIST_INSTLIST_H
#define HOIST_INSTLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "digest.h"
#include "herr.h"

/* Largest list read back (bytes); about 200,000 entries. */
#define INSTLIST_MAX_BYTES (64u * 1024u * 1024u)
/* Longest line: kind, sha, mode, path and separators. */
#define INSTLIST_MAX_LINE (4096u + SHA256_HEX_LEN + 16u)
/* The sha field of an F line written before its copy finished (a crash). */
#define INSTLIST_SHA_PENDING "----------------------------------------------------------------"

struct inst_entry {
	char kind;                    /* 'F', 'L' or 'D' */
	char sha[SHA256_HEX_LEN + 1]; /* F: hex or INSTLIST_SHA_PENDING; else "" */
	int mode;                     /* -1 when "-" */
	char *path;                   /* absolute host path, without the root prefix */
	unsigned line;
};

struct inst_list {
	struct inst_entry *e; /* in file order */
	size_t n;
	size_t *by_path; /* indices sorted by path (for instlist_find) */
};

/* 1 if path is absolute, normalised (no empty, "." or ".." component, no
 * trailing slash), not "/" itself, without newline and shorter than PATH_MAX. */
bool instlist_path_ok(const char *path);
/* Reads and validates a whole list. A missing file is an empty list when
 * missing_ok. Any invalid line refuses the whole list (nothing is returned). */
int instlist_load(const char *path, bool missing_ok, struct inst_list *out, struct herr *err);
/* The last entry for path, or NULL. */
const struct inst_entry *instlist_find(const struct inst_list *l, const char *path);
void instlist_free(struct inst_list *l);
/* Whether undoing the list would remove directory path (host_dir is it with
 * the root prefix): it is a D entry and everything below it is in the list
 * as well, so install_undo leaves it empty and rmdir's it. */
bool instlist_empties_dir(const struct inst_list *l, const char *host_dir, const char *path);

struct instlist_writer {
	int fd;
	off_t off;
	const char *path;
	/* Set before instlist_create: no sync per line (nor at create); the caller
	 * makes the lines durable with instlist_sync before writing what they name. */
	bool batch;
	bool dir_synced; /* the list's directory entry was made durable */
	bool dirty;      /* batch: written since the last sync */
};

/* Creates (truncates) the list file and makes its directory entry durable. */
int instlist_create(struct instlist_writer *w, const char *path, struct herr *err);
/* Appends one line and fdatasyncs it. sha may be NULL ("-", or pending for F);
 * mode < 0 writes "-". *sha_off (may be NULL) receives the sha field's offset. */
int instlist_append(struct instlist_writer *w, char kind, const char *sha, int mode, const char *path,
                    off_t *sha_off, struct herr *err);
/* Overwrites a pending sha field in place (durable at instlist_close). */
int instlist_fill_sha(struct instlist_writer *w, off_t sha_off, const char *hex, struct herr *err);
/* Makes every line written so far durable (fdatasync; the first call also
 * fsyncs the list's directory so the file itself survives a crash). */
int instlist_sync(struct instlist_writer *w, struct herr *err);
/* fsyncs and closes; safe to call twice and on a writer never created (fd -1). */
int instlist_close(struct instlist_writer *w, struct herr *err);

#endif
