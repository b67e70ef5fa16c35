/* health.c - loading and running a revision's health checks (health.h). */
#include "health.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "exitcodes.h"
#include "fsutil.h"
#include "healthcurl.h"
#include "healthprobe.h"
#include "log.h"

/* The name of the spec's first http check, or NULL when it has none. */
static const char *first_http_check(const struct health_spec *spec)
{
	for (size_t i = 0; i < spec->n; i++)
		if (spec->checks[i].type == HEALTH_HTTP)
			return spec->checks[i].name;
	return NULL;
}

int health_load(const char *tree, struct health_spec **out, struct herr *err)
{
	const char *http;
	char path[PATH_MAX];
	struct buf b;
	int r, rc = -1;

	*out = NULL;
	if (fs_path_join(path, sizeof(path), tree, HOISTYML_NAME) != 0)
		return herr_set(err, HOIST_EXIT_BAD_BUNDLE, "path too long: %s", tree);
	r = fs_exists(path);
	if (r == 0)
		return 0;
	buf_init(&b, HOISTYML_MAX_BYTES + 1);
	if (r < 0 || fs_read_file(path, HOISTYML_MAX_BYTES, FS_NOFOLLOW, &b, err) != 0) {
		if (err->code == 0)
			herr_errno(err, HOIST_EXIT_BAD_BUNDLE, errno, "%s", HOISTYML_NAME);
		/* a symlink, a directory or an oversized file is the bundle's fault */
		if (err->code == HOIST_EXIT_IO)
			err->code = HOIST_EXIT_BAD_BUNDLE;
		herr_prefix(err, "%s", HOISTYML_NAME);
		goto out;
	}
	rc = hoistyml_parse(b.data ? b.data : "", b.len, HOISTYML_NAME, out, err);
	/* an http check needs libcurl (loaded late, healthcurl.h): a host without it
	 * is refused here, before anything is touched, not at the HealthCheck step */
	http = rc == 0 ? first_http_check(*out) : NULL;
	if (http != NULL && healthcurl_get(err) == NULL) {
		herr_prefix(err, "%s: check %s", HOISTYML_NAME, http);
		hoistyml_free(*out);
		*out = NULL;
		rc = -1;
	}
out:
	buf_free(&b);
	return rc;
}

struct real {
	struct health_probe probe;
};

static uint64_t real_now(void *ud)
{
	struct timespec ts;
	(void)ud;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void real_sleep(void *ud, uint64_t ms)
{
	struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L};
	(void)ud;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int real_probe(void *ud, const struct health_check *c, unsigned timeout_ms, char *msg, size_t cap)
{
	struct real *x = ud;
	int r = health_probe_run(&x->probe, c, timeout_ms, msg, cap);
	if (r == 0)
		log_debug("health check %s passed", c->name);
	else
		log_info("health check %s: %s", c->name, msg);
	return r;
}

int health_check(const struct health_spec *spec, const char *tree, char *const *envp, unsigned grace_s,
                 void (*on_spawn)(void *ctx, pid_t pid), void *spawn_ctx, struct health_report *rep)
{
	struct real x;
	struct health_ops ops = {.ud = &x, .now_ms = real_now, .sleep_ms = real_sleep, .probe = real_probe};
	struct herr e;
	int rc;

	memset(&x, 0, sizeof(x));
	herr_clear(&e);
	x.probe.tree = tree;
	x.probe.envp = envp;
	x.probe.grace_s = grace_s;
	x.probe.on_spawn = on_spawn;
	x.probe.spawn_ctx = spawn_ctx;
	if (health_probe_init(&x.probe, first_http_check(spec) != NULL, &e) != 0) {
		health_report_none(rep);
		snprintf(rep->result, sizeof(rep->result), "failed");
		snprintf(rep->error, sizeof(rep->error), "health checks: %.400s", e.msg);
		return -1;
	}
	log_info("health checks: %zu check%s, min_healthy_time %ums, deadline %ums", spec->n,
	         spec->n == 1 ? "" : "s", spec->min_healthy_ms, spec->deadline_ms);
	rc = health_run(spec, &ops, rep);
	health_probe_free(&x.probe);
	if (rc == 0)
		log_info("health checks passed in %llums", (unsigned long long)rep->duration_ms);
	else
		log_warnx("%s", rep->error);
	return rc;
}
