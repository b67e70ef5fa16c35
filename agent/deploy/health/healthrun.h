/* healthrun.h - runs the checks of a hoist.yml to a verdict (pure: the clock,
 * the sleeping and the probes are the caller's, so tests drive it with a
 * fake clock and scripted answers).
 *
 * Two phases against one deadline (monotonic, from the start):
 *   1. coming up: each check is tried every `interval` until it passes once;
 *      it fails when it failed more than `retries` times in a row;
 *   2. staying up: once all have passed, every check keeps being tried every
 *      `interval` until `min_healthy_time` has passed since then; a single
 *      failure now fails the whole set (the service flapped).
 * An attempt never outlasts the deadline (its timeout is cut to what is left);
 * reaching the deadline before the verdict fails every check still pending. */
#ifndef HOIST_HEALTHRUN_H
#define HOIST_HEALTHRUN_H

#include <stddef.h>
#include <stdint.h>

#include "hoistyml.h"

#define HEALTH_ERROR_MAX 256

struct health_check_result {
	char name[HEALTH_NAME_MAX];
	char type[16];
	char result[16]; /* "passed", "failed", "pending" (deadline came first) */
	unsigned attempts;
	char last_error[HEALTH_ERROR_MAX]; /* the last failed attempt's reason, "" none */
	uint64_t duration_ms;              /* from the start until it first passed, or until it failed */
};

struct health_report {
	char result[16]; /* "passed", "failed", "none" (no hoist.yml) */
	size_t n;
	struct health_check_result checks[HEALTH_MAX_CHECKS];
	unsigned min_healthy_ms;
	uint64_t duration_ms;
	char error[HEALTH_ERROR_MAX * 2]; /* why it failed, "" when it passed */
};

struct health_ops {
	void *ud;
	uint64_t (*now_ms)(void *ud); /* monotonic */
	void (*sleep_ms)(void *ud, uint64_t ms);
	/* One attempt of check c within timeout_ms: 0 passed, -1 failed (reason in msg). */
	int (*probe)(void *ud, const struct health_check *c, unsigned timeout_ms, char *msg, size_t cap);
};

/* Fills rep; returns 0 when the set passed, -1 when it failed (rep->error says why). */
int health_run(const struct health_spec *spec, const struct health_ops *ops, struct health_report *rep);
/* rep for a revision without hoist.yml. */
void health_report_none(struct health_report *rep);

#endif
