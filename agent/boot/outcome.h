/* outcome.h - what hoist-boot does once a boot's outcome is known: the
 * Auto Scaling lifecycle hook completed (lifecycle.h), the status report
 * written to S3 (report.h), a notification POSTed on failure (notify.h).
 *
 * None of them ever changes the boot's exit code: each failure is one
 * warning in the log. The settings come from the directive, else
 * hoist.conf; the instance's identity from IMDS, read once before the
 * hand-over (outcome_probe). docs/architecture.md explains why the stub
 * runs the agent as a child when any of them is configured. */
#ifndef HOIST_OUTCOME_H
#define HOIST_OUTCOME_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "herr.h"
#include "http.h"
#include "imds.h"
#include "report.h"
#include "s3client.h"
#include "userdata.h"

struct outcome {
	/* settings: borrowed from the directive or the config */
	const char *hook, *group, *endpoint, *report, *notify;
	unsigned heartbeat_s;
	const char *application, *environment, *version;
	/* learned */
	char instance_id[32], ami_id[64], az[64], group_tag[256], target[64];
	bool lifecycle;  /* complete the hook at the end */
	bool has_report; /* rurl is valid */
	struct report_url rurl;
	const char *lifecycle_sent; /* what was sent, for the report */
};

/* Picks each setting from the directive, else the config. */
void outcome_init(struct outcome *o, const struct hoist_config *c, const struct directive *d);
/* 1 when anything is to be done after the deployment. */
int outcome_wanted(const struct outcome *o);
/* Checks the settings taken from hoist.conf (the directive's were checked
 * by its parser): HOIST_EXIT_CONFIG naming the key. */
int outcome_check(const struct outcome *o, struct herr *err);
/* Reads the identity (and, with a hook, autoscaling/target-lifecycle-state
 * and the group tag) from IMDS; decides whether the hook applies. Logs,
 * never fails. */
void outcome_probe(struct outcome *o, struct imds *m);
/* RecordLifecycleActionHeartbeat when the hook applies. */
void outcome_heartbeat(struct outcome *o, struct s3client *s3);
/* Completes the hook, writes the report, notifies on failure. status is
 * `hoist status --json` (NULL when it could not be read). s3 gives the
 * HTTP handle, the region, the credentials and the S3 endpoint (the
 * bundle's) for every call. */
void outcome_finish(struct outcome *o, int exit_code, const char *message, const char *status,
                    size_t status_len, struct s3client *s3);

#endif
