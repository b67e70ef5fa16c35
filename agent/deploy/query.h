/* query.h - the read-only commands: status, list, validate. */
#ifndef HOIST_QUERY_H
#define HOIST_QUERY_H

#include <stdbool.h>
#include <stdio.h>

#include "config.h"
#include "herr.h"

/* Prints the last deployment's status (text or JSON) to out; returns an exit code. */
int query_status(const char *state_dir, bool json, FILE *out, struct herr *err);
/* Prints the kept revisions to out; returns an exit code. */
int query_list(const char *state_dir, FILE *out, struct herr *err);
/* Checks an appspec file, an archive or a directory; prints "ok: ..." to out.
 * Returns 0, or HOIST_EXIT_BAD_BUNDLE with err set. */
int query_validate(const char *path, const struct hoist_config *cfg, FILE *out, struct herr *err);

#endif
