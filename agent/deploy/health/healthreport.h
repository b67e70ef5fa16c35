/* healthreport.h - a health report (healthrun.h) as JSON and text, for
 * hoist status (status.c) and the history (history.c). Pure.
 *
 * JSON: {"result": "passed"|"failed"|"none", "checks": [{"name", "type",
 * "result", "attempts", "last_error" (or null), "duration_ms"}],
 * "min_healthy_time_s", "duration_ms", "error" (or null)} */
#ifndef HOIST_HEALTHREPORT_H
#define HOIST_HEALTHREPORT_H

#include "buf.h"
#include "healthrun.h"

int health_report_json(const struct health_report *rep, struct buf *out);
/* Nothing when the result is "none". ind prefixes each line. */
int health_report_text(const struct health_report *rep, const char *ind, struct buf *out);

#endif
