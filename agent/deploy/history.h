/* history.h - every deployment's events, kept: STATE/history/, one entry per
 * deployment, rollback, restart or recovery, written when it starts
 * ("in-progress") and replaced when it ends; the newest HISTORY_KEEP are kept.
 * Read with hoist history [--json]; the fleet dashboard renders the JSON:
 *
 *   {"deployments": [ newest first
 *     {"id", "version", "kind": "deploy"|"rollback"|"restart"|"recover",
 *      "result": "succeeded"|"failed"|"rolled-back"|"interrupted"|"refused"
 *                (or "in-progress" while one runs),
 *      "started", "finished" (RFC 3339 UTC; finished null while in progress),
 *      "failed_step" (or null), "steps": [{"name", "result", "started", "duration_ms"}],
 *      "output_tail" (the failed step's output tail, or null), "rolled_back_to" (or null),
 *      "exit_code", "error" (or null), "health" (healthreport.h)}]}
 *
 * "refused": failed before anything on the host changed (bad bundle or
 * appspec, conflicts). "interrupted": cut short (crash, kill -9); written by
 * the recovery that found it. Each entry is bounded (16 steps, a 2 KiB output
 * tail), so the history stays under a few MiB. Writing it never fails a
 * deployment: errors are logged. */
#ifndef HOIST_HISTORY_H
#define HOIST_HISTORY_H

#include <stdbool.h>
#include <stdio.h>

#include "buf.h"
#include "herr.h"
#include "status.h"

#define HISTORY_KEEP 200
#define HISTORY_DIR "history"

/* Pure: the history result of a status ("refused", "succeeded", ...). */
const char *history_result(const struct deploy_status *st);
/* Pure: one entry as a JSON object (no newline); finished: epoch seconds, or -1 (in progress). */
int history_entry_json(const struct deploy_status *st, long long finished, struct buf *out);
/* Pure: one entry for people. */
int history_entry_text(const struct deploy_status *st, long long finished, struct buf *out);
/* Writes (replaces) the entry of st and prunes the oldest; failures only warn. */
void history_save(const char *state_dir, const struct deploy_status *st);
/* Marks the entry of a deployment found by recovery (journal id): result "interrupted"
 * at last_step, or "succeeded" when it had completed but its journal was not removed yet. */
void history_interrupted(const char *state_dir, const char *id, const char *kind, const char *version,
                         const char *last_step, const char *result);
/* hoist history: prints every entry, newest first; returns an exit code. */
int history_print(const char *state_dir, bool json, FILE *out, struct herr *err);

#endif
