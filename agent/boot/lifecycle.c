/* lifecycle.c - Auto Scaling lifecycle hook completion (see lifecycle.h). */
#include "lifecycle.h"

#include <stdio.h>
#include <string.h>

#include "awsquery.h"
#include "exitcodes.h"

#define CALL_TIMEOUT_MS 15000

enum lifecycle_result lifecycle_result_for(int exit_code)
{
	if (exit_code == HOIST_EXIT_OK)
		return LIFECYCLE_CONTINUE;
	if (exit_code == HOIST_EXIT_TEMPFAIL || exit_code == HOIST_EXIT_BUSY)
		return LIFECYCLE_NONE;
	return LIFECYCLE_ABANDON;
}

int lifecycle_state_is_launch(const char *state)
{
	/* names in place, not pointers (no relocation each in the stub) */
	static const char launch[][sizeof("Warmed:Hibernated")] = {"InService", "Warmed:Stopped",
	                                                           "Warmed:Running", "Warmed:Hibernated"};
	for (size_t i = 0; i < sizeof(launch) / sizeof(launch[0]); i++)
		if (strcmp(state, launch[i]) == 0)
			return 1;
	return 0;
}

const char *lifecycle_result_name(enum lifecycle_result r)
{
	return r == LIFECYCLE_CONTINUE ? "CONTINUE" : r == LIFECYCLE_ABANDON ? "ABANDON" : "none";
}

int lifecycle_endpoint(const char *override, const char *region, char *out, size_t outsz)
{
	int n;
	if (override != NULL && override[0] != '\0')
		n = snprintf(out, outsz, "%s", override);
	else
		/* the China partition has its own domain */
		n = snprintf(out, outsz, "https://autoscaling.%s.amazonaws.com%s", region,
		             strncmp(region, "cn-", 3) == 0 ? ".cn" : "");
	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

/* One call; an error answer becomes err with Auto Scaling's code and message. */
static int call(struct http *h, const struct lifecycle_target *t, const struct credentials *cr,
                const char *action, const char *result, struct herr *err)
{
	char endpoint[1100], code[64], msg[256];
	struct awsq_param p[] = {
	    {"AutoScalingGroupName", t->group},
	    {"InstanceId", t->instance_id},
	    {"LifecycleActionResult", result},
	    {"LifecycleHookName", t->hook},
	};
	struct awsq_service svc = {endpoint, t->region, "autoscaling"};
	struct http_response resp;
	int rc = -1;

	http_response_init(&resp);
	if (lifecycle_endpoint(t->endpoint, t->region, endpoint, sizeof(endpoint)) != 0) {
		herr_set(err, HOIST_EXIT_CONFIG, "autoscaling_endpoint too long");
		goto out;
	}
	if (awsq_call(h, &svc, cr, action, LIFECYCLE_API_VERSION, p, sizeof(p) / sizeof(p[0]),
	              CALL_TIMEOUT_MS, &resp, err) != 0) {
		herr_prefix(err, "%s", action);
		goto out;
	}
	if (resp.status < 200 || resp.status > 299) {
		if (!awsq_error(resp.body.data, resp.body.len, code, sizeof(code), msg, sizeof(msg))) {
			(void)snprintf(code, sizeof(code), "HTTP %ld", resp.status);
			msg[0] = '\0';
		}
		/* every reboot of an InService instance asks again: nothing is waiting */
		if (resp.status == 400 && strcmp(code, "ValidationError") == 0 &&
		    strstr(msg, "No active Lifecycle Action") != NULL) {
			herr_set(err, HOIST_EXIT_OK, "%s", msg);
			rc = 1;
			goto out;
		}
		herr_set(err, resp.status == 403 ? HOIST_EXIT_DENIED : HOIST_EXIT_TEMPFAIL,
		         "%s (hook %s, group %s): %s%s%s%s%s%s", action, t->hook, t->group, code,
		         msg[0] ? ": " : "", msg,
		         strcmp(code, "AccessDenied") == 0 ? " (the instance role needs autoscaling:" : "",
		         strcmp(code, "AccessDenied") == 0 ? action : "",
		         strcmp(code, "AccessDenied") == 0 ? ")" : "");
		goto out;
	}
	rc = 0;
out:
	http_response_free(&resp);
	return rc;
}

int lifecycle_complete(struct http *h, const struct lifecycle_target *t, const struct credentials *cr,
                       enum lifecycle_result r, struct herr *err)
{
	return call(h, t, cr, "CompleteLifecycleAction", lifecycle_result_name(r), err);
}

int lifecycle_heartbeat(struct http *h, const struct lifecycle_target *t, const struct credentials *cr,
                        struct herr *err)
{
	return call(h, t, cr, "RecordLifecycleActionHeartbeat", NULL, err);
}
