/* healthrun.c - the two-phase health check schedule (rules in healthrun.h). */
#include "healthrun.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static void copy(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

void health_report_none(struct health_report *rep)
{
	memset(rep, 0, sizeof(*rep));
	copy(rep->result, sizeof(rep->result), "none");
}

/* Marks every check without a verdict as failed by the deadline. */
static void deadline_passed(const struct health_spec *spec, struct health_report *rep, uint64_t elapsed,
                            bool staying)
{
	size_t n = 0;
	char names[HEALTH_ERROR_MAX] = "";
	for (size_t i = 0; i < spec->n; i++) {
		struct health_check_result *r = &rep->checks[i];
		if (strcmp(r->result, "passed") == 0 && !staying)
			continue;
		if (strcmp(r->result, "pending") == 0) {
			copy(r->result, sizeof(r->result), "failed");
			r->duration_ms = elapsed;
			if (r->last_error[0] == '\0')
				copy(r->last_error, sizeof(r->last_error),
				     "no attempt finished before the deadline");
			size_t len = strlen(names);
			snprintf(names + len, sizeof(names) - len, "%s%s", n++ ? ", " : "", r->name);
		}
	}
	if (staying)
		snprintf(
		    rep->error, sizeof(rep->error),
		    "health checks: the deadline of %ums passed before min_healthy_time (%ums) was reached",
		    spec->deadline_ms, spec->min_healthy_ms);
	else
		snprintf(rep->error, sizeof(rep->error),
		         "health checks: the deadline of %ums passed; not healthy: %s", spec->deadline_ms,
		         names);
}

int health_run(const struct health_spec *spec, const struct health_ops *ops, struct health_report *rep)
{
	uint64_t next[HEALTH_MAX_CHECKS];
	unsigned fails[HEALTH_MAX_CHECKS];
	uint64_t t0 = ops->now_ms(ops->ud), deadline = t0 + spec->deadline_ms, healthy_since = 0;
	bool staying = false;
	size_t n_passed = 0;
	int rc = -1;

	memset(rep, 0, sizeof(*rep));
	rep->n = spec->n < HEALTH_MAX_CHECKS ? spec->n : HEALTH_MAX_CHECKS;
	rep->min_healthy_ms = spec->min_healthy_ms;
	for (size_t i = 0; i < rep->n; i++) {
		copy(rep->checks[i].name, sizeof(rep->checks[i].name), spec->checks[i].name);
		copy(rep->checks[i].type, sizeof(rep->checks[i].type),
		     health_type_name(spec->checks[i].type));
		copy(rep->checks[i].result, sizeof(rep->checks[i].result), "pending");
		next[i] = t0;
		fails[i] = 0;
	}
	for (;;) {
		uint64_t now = ops->now_ms(ops->ud), when = UINT64_MAX, timeout;
		size_t pick = rep->n;
		const struct health_check *c;
		struct health_check_result *r;
		char msg[HEALTH_ERROR_MAX];

		if (staying && now >= healthy_since + spec->min_healthy_ms) {
			rc = 0;
			break;
		}
		for (size_t i = 0; i < rep->n; i++) {
			if (!staying && strcmp(rep->checks[i].result, "passed") == 0)
				continue;
			if (next[i] < when) {
				when = next[i];
				pick = i;
			}
		}
		if (staying && healthy_since + spec->min_healthy_ms <= when) {
			/* nothing is due before the end of min_healthy_time */
			when = healthy_since + spec->min_healthy_ms;
			pick = rep->n;
		}
		if (when >= deadline || now >= deadline) {
			deadline_passed(spec, rep, now - t0, staying);
			break;
		}
		if (when > now)
			ops->sleep_ms(ops->ud, when - now);
		if (pick == rep->n)
			continue;
		now = ops->now_ms(ops->ud);
		if (now >= deadline)
			continue; /* reported at the top */
		c = &spec->checks[pick];
		r = &rep->checks[pick];
		timeout = c->timeout_ms < deadline - now ? c->timeout_ms : deadline - now;
		msg[0] = '\0';
		r->attempts++;
		if (ops->probe(ops->ud, c, (unsigned)timeout, msg, sizeof(msg)) == 0) {
			uint64_t after = ops->now_ms(ops->ud);
			fails[pick] = 0;
			if (!staying) {
				copy(r->result, sizeof(r->result), "passed");
				r->duration_ms = after - t0;
				if (++n_passed == rep->n) {
					staying = true;
					healthy_since = after;
					for (size_t i = 0; i < rep->n; i++)
						next[i] = after + spec->checks[i].interval_ms;
					continue;
				}
			}
			next[pick] = after + c->interval_ms;
			continue;
		}
		{
			uint64_t after = ops->now_ms(ops->ud);
			copy(r->last_error, sizeof(r->last_error), msg[0] ? msg : "failed");
			if (staying) {
				copy(r->result, sizeof(r->result), "failed");
				r->duration_ms = after - t0;
				snprintf(rep->error, sizeof(rep->error),
				         "health check %s failed %llums after all checks had passed, before "
				         "min_healthy_time (%ums): %s",
				         c->name, (unsigned long long)(after - healthy_since),
				         spec->min_healthy_ms, r->last_error);
				break;
			}
			if (++fails[pick] > c->retries) {
				copy(r->result, sizeof(r->result), "failed");
				r->duration_ms = after - t0;
				snprintf(rep->error, sizeof(rep->error),
				         "health check %s failed %u time%s in a row (retries: %u): %s",
				         c->name, fails[pick], fails[pick] == 1 ? "" : "s", c->retries,
				         r->last_error);
				break;
			}
			next[pick] = after + c->interval_ms;
		}
	}
	rep->duration_ms = ops->now_ms(ops->ud) - t0;
	copy(rep->result, sizeof(rep->result), rc == 0 ? "passed" : "failed");
	return rc;
}
