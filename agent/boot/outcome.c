/* outcome.c - lifecycle hook, report and notification after a boot (see outcome.h). */
#include "outcome.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "exitcodes.h"
#include "lifecycle.h"
#include "log.h"
#include "notify.h"
#include "s3put.h"
#include "strutil.h"

#define MD "/latest/meta-data/"
#define DOC_MAX (2u << 20)

/* The directive's value if set, else the config's, else NULL. */
static const char *pick(const char *directive, const char *config)
{
	if (directive != NULL && directive[0] != '\0')
		return directive;
	return config != NULL && config[0] != '\0' ? config : NULL;
}

void outcome_init(struct outcome *o, const struct hoist_config *c, const struct directive *d)
{
	memset(o, 0, sizeof(*o));
	o->hook = pick(d->lifecycle_hook, c->lifecycle_hook);
	o->group = pick(d->autoscaling_group, c->autoscaling_group);
	o->endpoint = c->autoscaling_endpoint != NULL ? c->autoscaling_endpoint : "";
	o->report = pick(d->report, c->report);
	o->notify = pick(d->notify, c->notify);
	o->heartbeat_s = c->lifecycle_heartbeat_s;
	o->application = d->application;
	o->environment = d->environment;
	o->version = d->version;
}

int outcome_wanted(const struct outcome *o)
{
	return o->hook != NULL || o->report != NULL || o->notify != NULL;
}

int outcome_check(const struct outcome *o, struct herr *err)
{
	if (o->hook != NULL && !str_word_ok(o->hook, LIFECYCLE_NAME_MAX))
		return herr_set(err, HOIST_EXIT_CONFIG,
		                "lifecycle_hook: expected a name of 1-255 characters");
	if (o->group != NULL && !str_word_ok(o->group, LIFECYCLE_NAME_MAX))
		return herr_set(err, HOIST_EXIT_CONFIG,
		                "autoscaling_group: expected a name of 1-255 characters");
	if (o->report != NULL && report_parse_url(o->report, NULL) != 0)
		return herr_set(err, HOIST_EXIT_CONFIG, "report: expected s3://BUCKET/PREFIX/, got '%.64s'",
		                o->report);
	return 0;
}

/* One short metadata item into out (trailing newline dropped). 0, 1 absent, -1 failed. */
static int md_item(struct imds *m, const char *path, char *out, size_t outsz)
{
	struct buf b;
	struct herr e = {0, ""};
	int r;
	buf_init(&b, outsz);
	r = imds_get(m, path, outsz - 1, &b, &e);
	if (r == 0) {
		while (b.len > 0 && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
			b.len--;
		memcpy(out, b.data, b.len);
		out[b.len] = '\0';
		if (!str_word_ok(out, LIFECYCLE_NAME_MAX))
			r = -1;
	} else if (r < 0) {
		log_warnx("imds %s: %s", path, e.msg);
	}
	buf_free(&b);
	return r;
}

void outcome_probe(struct outcome *o, struct imds *m)
{
	int r;
	if (md_item(m, MD "instance-id", o->instance_id, sizeof(o->instance_id)) != 0) {
		log_warnx("no instance id from the metadata service: no lifecycle completion, no report");
		o->instance_id[0] = '\0';
		return;
	}
	if (o->report != NULL || o->notify != NULL) {
		if (md_item(m, MD "ami-id", o->ami_id, sizeof(o->ami_id)) != 0)
			o->ami_id[0] = '\0';
		if (md_item(m, MD "placement/availability-zone", o->az, sizeof(o->az)) != 0)
			o->az[0] = '\0';
	}
	o->has_report = o->report != NULL && report_parse_url(o->report, &o->rurl) == 0;
	if (o->hook == NULL)
		return;
	r = md_item(m, MD "autoscaling/target-lifecycle-state", o->target, sizeof(o->target));
	if (r == 1) {
		log_info("lifecycle hook %s: this instance is not in an Auto Scaling group "
		         "(no autoscaling/target-lifecycle-state); nothing to complete",
		         o->hook);
		return;
	}
	if (r != 0)
		return;
	if (!lifecycle_state_is_launch(o->target)) {
		log_info("lifecycle hook %s: target lifecycle state is %s, not a launch; nothing to complete",
		         o->hook, o->target);
		return;
	}
	if (o->group == NULL) {
		r = md_item(m, MD "tags/instance/aws:autoscaling:groupName", o->group_tag,
		            sizeof(o->group_tag));
		if (r != 0) {
			log_warnx(
			    "lifecycle hook %s: no group name: set autoscaling_group, or allow instance "
			    "tags in the instance metadata; the hook is not completed",
			    o->hook);
			return;
		}
		o->group = o->group_tag;
	}
	o->lifecycle = true;
	log_info("lifecycle hook %s of group %s (target state %s): completed after the deployment", o->hook,
	         o->group, o->target);
}

/* The lifecycle target of this instance. */
static struct lifecycle_target target_of(const struct outcome *o, const struct s3client *s3)
{
	return (struct lifecycle_target){o->hook, o->group, o->instance_id, o->endpoint, s3->region};
}

void outcome_heartbeat(struct outcome *o, struct s3client *s3)
{
	const struct credentials *cr = NULL;
	struct lifecycle_target t = target_of(o, s3);
	struct herr err = {0, ""};
	int rc;
	if (!o->lifecycle)
		return;
	rc = s3->creds(s3->creds_ud, &cr, &err);
	if (rc == 0)
		rc = lifecycle_heartbeat(s3->http, &t, cr, &err);
	if (rc < 0)
		log_warnx("lifecycle heartbeat not recorded: %s", err.msg);
	else if (rc == 1)
		log_info("lifecycle hook %s: no lifecycle action is waiting; no heartbeat", o->hook);
	else
		log_info("lifecycle heartbeat recorded (hook %s, every %u s)", o->hook, o->heartbeat_s);
}

/* Completes the lifecycle action for exit_code; logs the outcome. */
static void complete(struct outcome *o, int exit_code, struct s3client *s3)
{
	const struct credentials *cr = NULL;
	struct lifecycle_target t = target_of(o, s3);
	enum lifecycle_result r = lifecycle_result_for(exit_code);
	struct herr err = {0, ""};
	int rc;
	if (r == LIFECYCLE_NONE) {
		o->lifecycle_sent = "none";
		log_info("lifecycle hook %s left pending: exit %d (%s) is retried; the hook's timeout "
		         "and default result apply if no retry succeeds",
		         o->hook, exit_code, hoist_exit_name(exit_code));
		return;
	}
	rc = s3->creds(s3->creds_ud, &cr, &err);
	if (rc == 0)
		rc = lifecycle_complete(s3->http, &t, cr, r, &err);
	if (rc == 1) {
		o->lifecycle_sent = "none";
		log_info("lifecycle hook %s: no lifecycle action is waiting for this instance (completed "
		         "earlier, timed out, or another hook or group name)",
		         o->hook);
		return;
	}
	if (rc != 0) {
		o->lifecycle_sent = "refused";
		log_warnx("lifecycle action not completed: %s; the deployment's result (exit %d) stands",
		          err.msg, exit_code);
		return;
	}
	o->lifecycle_sent = lifecycle_result_name(r);
	log_info("lifecycle hook %s of group %s: %s", o->hook, o->group, lifecycle_result_name(r));
}

/* PUTs the report document; logs one line either way. */
static void put_report(struct outcome *o, const struct buf *doc, struct s3client *s3)
{
	static const struct s3_put_opts po = {"application/json", NULL, 0};
	char key[REPORT_PREFIX_MAX + 256];
	struct s3_put_result res;
	struct herr err = {0, ""};
	if (report_key(&o->rurl, o->environment, o->instance_id, key, sizeof(key)) != 0) {
		log_warnx("report: key too long; no report written");
		return;
	}
	if (s3_put_buffer(s3, o->rurl.bucket, key, doc->data, doc->len, &po, &res, &err) != 0) {
		if (res.status == 403)
			log_warnx("report not written: PUT s3://%s/%s: access denied (the instance role "
			          "needs s3:PutObject on the report prefix)",
			          o->rurl.bucket, key);
		else
			log_warnx("report not written: %s", err.msg);
		return;
	}
	log_info("report written to s3://%s/%s", o->rurl.bucket, key);
}

void outcome_finish(struct outcome *o, int exit_code, const char *message, const char *status,
                    size_t status_len, struct s3client *s3)
{
	struct buf doc;
	struct report_info ri;
	struct herr err = {0, ""};

	if (o->instance_id[0] == '\0')
		return; /* the probe said why */
	if (o->lifecycle)
		complete(o, exit_code, s3);
	if (!o->has_report && (o->notify == NULL || exit_code == 0))
		return;
	buf_init(&doc, DOC_MAX);
	ri = (struct report_info){o->instance_id,
	                          o->ami_id[0] ? o->ami_id : NULL,
	                          o->az[0] ? o->az : NULL,
	                          o->application,
	                          o->environment,
	                          o->version,
	                          exit_code,
	                          message,
	                          o->lifecycle_sent,
	                          (long long)time(NULL)};
	if (report_document(&ri, status, status_len, &doc) != 0) {
		log_warnx("report: the document is larger than %u bytes; no report", DOC_MAX);
		goto out;
	}
	if (o->has_report)
		put_report(o, &doc, s3);
	if (o->notify != NULL && exit_code != 0) {
		if (notify_post(s3->http, o->notify, doc.data, doc.len, &err) != 0)
			log_warnx("%s; nobody was notified of exit %d", err.msg, exit_code);
		else
			log_info("failure notified");
	}
out:
	buf_free(&doc);
}
