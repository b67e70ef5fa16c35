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
struct policy;

/* What validate and preflight check (both run the same checks, preflight.h). */
struct preflight_req {
	const char *path;                /* appspec.yml, archive or directory */
	const struct hoist_config *cfg;
	const struct policy *policy;     /* NULL: the built-in defaults */
	const char *policy_file;         /* for the report */
	const struct herr *policy_error; /* non-NULL: the policy could not be read (the first check fails) */
	const char *state;               /* the state directory (the installed revision's list), or NULL */
	bool json;                       /* preflight --json: the report as one JSON object */
	bool verbose_checks;             /* preflight: one line per check */
};

/* Runs every check a deployment makes before it touches the host, in the
 * same order and with the same exit codes as deploy; changes nothing (the
 * bundle is staged in a temporary directory, removed after). A lone
 * appspec.yml gets the document checks only. Prints "ok: ..." (validate), a
 * line per check (preflight) or a JSON report; returns 0 or the exit code. */
int query_preflight(const struct preflight_req *q, FILE *out, struct herr *err);

#endif
