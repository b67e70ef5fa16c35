/* lifecycle.h - completes the Auto Scaling launch lifecycle hook of this
 * instance: CONTINUE after a good deployment (or when the wanted release is
 * already in place), ABANDON after a failure, heartbeats while a deployment
 * outlasts the hook's timeout.
 *
 * The decisions are pure (tested in tests/unit/test_lifecycle.c); the two
 * calls are Query-protocol POSTs (awsquery) signed with the instance role,
 * which needs only autoscaling:CompleteLifecycleAction and
 * autoscaling:RecordLifecycleActionHeartbeat. The instance is named by its
 * id, so no lifecycle action token is needed. */
#ifndef HOIST_LIFECYCLE_H
#define HOIST_LIFECYCLE_H

#include <stddef.h>

#include "creds.h"
#include "herr.h"
#include "http.h"
#include "strutil.h"

#define LIFECYCLE_NAME_MAX STR_AWS_NAME_MAX
#define LIFECYCLE_API_VERSION "2011-01-01"

enum lifecycle_result {
	LIFECYCLE_NONE = 0, /* leave the action pending (a retry may still succeed) */
	LIFECYCLE_CONTINUE,
	LIFECYCLE_ABANDON,
};

struct lifecycle_target {
	const char *hook;        /* LifecycleHookName */
	const char *group;       /* AutoScalingGroupName */
	const char *instance_id; /* InstanceId */
	const char *endpoint;    /* "" = https://autoscaling.REGION.amazonaws.com */
	const char *region;
};

/* A hook or group name: str_word_ok(name, LIFECYCLE_NAME_MAX) (strutil.h). */
/* Pure: the result for the boot's exit code: 0 CONTINUE; 75 (temporary, the
 * unit retries) and 15 (another deployment runs) NONE; any other ABANDON. */
enum lifecycle_result lifecycle_result_for(int exit_code);
/* Pure: 1 when IMDS autoscaling/target-lifecycle-state names a launch
 * (InService, or a warm pool's Warmed:Stopped/Running/Hibernated). */
int lifecycle_state_is_launch(const char *state);
/* Pure: "CONTINUE", "ABANDON" or "none". */
const char *lifecycle_result_name(enum lifecycle_result r);
/* Pure: the endpoint for a region (an override is used as it is). */
int lifecycle_endpoint(const char *override, const char *region, char *out, size_t outsz);

/* CompleteLifecycleAction. Returns 0 when Auto Scaling accepted it, 1 when
 * no lifecycle action is waiting for the instance (a reboot long after its
 * launch), -1 with err naming the error code and message Auto Scaling gave
 * (or the transport failure): the caller logs it; it never changes the
 * deployment's result. */
int lifecycle_complete(struct http *h, const struct lifecycle_target *t, const struct credentials *cr,
                       enum lifecycle_result r, struct herr *err);
/* RecordLifecycleActionHeartbeat; same contract (1: nothing waiting). */
int lifecycle_heartbeat(struct http *h, const struct lifecycle_target *t, const struct credentials *cr,
                        struct herr *err);

#endif
