/* status.h - what a deployment did, as JSON (hoist status --json) and text.
 *
 * The agent writes STATE/status.json and STATE/status.txt (atomically) when a
 * deployment starts ("in-progress") and when it ends, and a copy into the
 * revision's directory. JSON is produced by a small escaping writer. */
#ifndef HOIST_STATUS_H
#define HOIST_STATUS_H

#include <stddef.h>
#include <stdio.h>

#include "buf.h"
#include "healthrun.h"
#include "herr.h"
#include "hooks.h"

#define STATUS_MAX_STEPS 16
#define STATUS_NAME_MAX 160

struct status_step {
	char event[32];
	char revision[STATUS_NAME_MAX]; /* whose scripts ran (ApplicationStop: the previous one) */
	long long started;              /* epoch seconds */
	double duration_s;
	char result[16];  /* "ok", "failed", "ignored" (failure ignored), "running" */
	char detail[512]; /* failure description, "" when ok */
};

struct deploy_status {
	char id[STATUS_NAME_MAX];
	char kind[16]; /* deploy, rollback, recover */
	char version[STATUS_NAME_MAX];
	char environment[STATUS_NAME_MAX];
	char application[STATUS_NAME_MAX];
	char group[STATUS_NAME_MAX];
	char result[16]; /* succeeded failed rolled-back recovered in-progress */
	int exit_code;
	long long started;
	double duration_s;
	size_t n_steps;
	struct status_step steps[STATUS_MAX_STEPS];
	char error[HERR_MSG_MAX]; /* why it failed, "" when it did not */
	char failed_event[32];
	char failed_script[256];
	char failed_outcome[128];
	char tail[HOOK_TAIL_MAX];       /* output tail of the failed hook */
	struct deploy_status *rollback; /* the automatic rollback, when one ran (not owned here) */
	char current[STATUS_NAME_MAX];  /* records after the deployment */
	char last_good[STATUS_NAME_MAX];
	struct health_report health; /* hoist.yml checks; result "" = none ran */
};

/* Pure: appends s as a JSON string literal (quotes, escapes, \u00XX for controls;
 * bytes >= 0x80 passed through). -1 when the buffer is full. */
int json_string(struct buf *out, const char *s);
/* Pure: the whole status as a JSON object (newline-terminated). */
int status_json(const struct deploy_status *s, struct buf *out);
/* Pure: the status for people. */
int status_text(const struct deploy_status *s, struct buf *out);
/* Prints a status text with control bytes other than newline and tab as \xNN
 * (a damaged status.txt, or a name or hook output that carried them). */
void status_print_text(const char *text, size_t len, FILE *out);
/* Pure: 0 when text is one JSON value (RFC 8259, UTF-8, nesting <= 32);
 * else -1 with *bad_at the offset where it stops being JSON. */
int status_json_valid(const char *text, size_t len, size_t *bad_at);
/* Copies src into a fixed field, truncating. */
void status_copy(char *dst, size_t cap, const char *src);
/* Writes status.json and status.txt into dir (atomically). */
int status_save(const struct deploy_status *s, const char *dir, struct herr *err);

#endif
