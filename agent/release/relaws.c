/* relaws.c - the build side's AWS settings and S3 client (see relaws.h). */
#include "relaws.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "awsprofile.h"
#include "exitcodes.h"
#include "fsutil.h"
#include "log.h"

extern char **environ;

#define INI_MAX (256 * 1024)
#define VAL_MAX 4096

/* The credentials in use: fixed keys, or the role's (fetched on first use). */
static int relaws_creds(void *ud, const struct credentials **out, struct herr *err)
{
	struct relaws *a = ud;
	if (a->have_fixed) {
		*out = &a->fixed;
		return 0;
	}
	if (a->imds_disabled)
		return herr_set(err, HOIST_EXIT_NO_CREDENTIALS,
		                "no credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE "
		                "(AWS_EC2_METADATA_DISABLED is set, so no instance role)");
	if (rolecreds_get(&a->role, out, err) != 0)
		return herr_prefix(err, "no credentials: not in the environment (AWS_ACCESS_KEY_ID), not in "
		                        "the profile, and from the instance role");
	return 0;
}

/* Reads one shared file (missing: empty). */
static int read_ini(const char *env, const char *home_rel, struct buf *out, struct herr *err)
{
	char path[PATH_MAX];
	const char *p = getenv(env), *home = getenv("HOME");
	if (p == NULL || p[0] == '\0') {
		if (home == NULL || home[0] == '\0' || fs_path_join(path, sizeof(path), home, home_rel) != 0)
			return 0;
		p = path;
	}
	if (!fs_exists(p))
		return 0;
	return fs_read_file(p, INI_MAX, 0, out, err);
}

static char *dup_wipe(char *v)
{
	char *d = strdup(v);
	OPENSSL_cleanse(v, strlen(v));
	return d;
}

/* Profile keys: credentials file first, then config file, as the AWS CLI. */
static int from_profile(struct relaws *a, const char *profile, int explicit_profile, struct herr *err)
{
	struct buf cr, cf;
	char akid[VAL_MAX], secret[VAL_MAX], token[VAL_MAX], region[64];
	int rc = -1, have_akid = 0, have_secret = 0, have_token = 0, found_any;
	buf_init(&cr, INI_MAX);
	buf_init(&cf, INI_MAX);
	if (read_ini("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials", &cr, err) != 0 ||
	    read_ini("AWS_CONFIG_FILE", ".aws/config", &cf, err) != 0)
		goto out;
	for (int pass = 0; pass < 2; pass++) {
		const struct buf *b = pass == 0 ? &cr : &cf;
		const char *t = b->data != NULL ? b->data : "";
		if (!have_akid)
			have_akid = awsprofile_get(t, b->len, pass, profile, "aws_access_key_id", akid,
			                           sizeof(akid)) == 1;
		if (!have_secret)
			have_secret = awsprofile_get(t, b->len, pass, profile, "aws_secret_access_key",
			                             secret, sizeof(secret)) == 1;
		if (!have_token)
			have_token = awsprofile_get(t, b->len, pass, profile, "aws_session_token", token,
			                            sizeof(token)) == 1;
	}
	if (a->region[0] == '\0' && awsprofile_get(cf.data != NULL ? cf.data : "", cf.len, 1, profile,
	                                           "region", region, sizeof(region)) == 1)
		(void)snprintf(a->region, sizeof(a->region), "%s", region);
	found_any = have_akid || have_secret;
	if (a->have_fixed) {
		/* keys from the environment win; the profile gave its region only */
		rc = 0;
		goto out;
	}
	if (found_any && !(have_akid && have_secret)) {
		herr_set(err, HOIST_EXIT_CONFIG,
		         "profile %s: aws_access_key_id and aws_secret_access_key must both be set", profile);
		goto out;
	}
	if (have_akid) {
		a->fixed.access_key_id = dup_wipe(akid);
		a->fixed.secret_access_key = dup_wipe(secret);
		a->fixed.session_token = have_token ? dup_wipe(token) : NULL;
		if (a->fixed.access_key_id == NULL || a->fixed.secret_access_key == NULL ||
		    (have_token && a->fixed.session_token == NULL)) {
			herr_set(err, HOIST_EXIT_INTERNAL, "out of memory");
			goto out;
		}
		a->have_fixed = 1;
		(void)snprintf(a->source, sizeof(a->source), "profile %s", profile);
	} else if (explicit_profile) {
		/* as the AWS CLI: a named profile that gives nothing is an error, not a
		 * silent fall-back to the instance role */
		herr_set(err, HOIST_EXIT_CONFIG,
		         "AWS_PROFILE=%s: no aws_access_key_id/aws_secret_access_key for it in "
		         "~/.aws/credentials or "
		         "~/.aws/config (role_arn, SSO and credential_process profiles are not supported)",
		         profile);
		goto out;
	}
	rc = 0;
out:
	OPENSSL_cleanse(secret, sizeof(secret));
	OPENSSL_cleanse(token, sizeof(token));
	if (cr.data != NULL)
		OPENSSL_cleanse(cr.data, cr.len);
	if (cf.data != NULL)
		OPENSSL_cleanse(cf.data, cf.len);
	buf_free(&cr);
	buf_free(&cf);
	return rc;
}

int relaws_open(struct relaws *a, const struct relaws_opts *o, struct herr *err)
{
	const char *profile = getenv("AWS_PROFILE");
	memset(a, 0, sizeof(*a));
	config_init(&a->cfg);
	if (config_apply_env(&a->cfg, environ, err) != 0)
		return -1;
	if (o->region != NULL)
		(void)snprintf(a->region, sizeof(a->region), "%s", o->region);
	else if (a->cfg.region != NULL && a->cfg.region[0] != '\0')
		(void)snprintf(a->region, sizeof(a->region), "%s", a->cfg.region);
	if ((size_t)snprintf(a->endpoint, sizeof(a->endpoint), "%s",
	                     o->endpoint != NULL          ? o->endpoint
	                     : a->cfg.s3_endpoint != NULL ? a->cfg.s3_endpoint
	                                                  : "") >= sizeof(a->endpoint))
		return herr_set(err, HOIST_EXIT_CONFIG, "endpoint URL too long");
	{
		struct http_opts ho = {a->cfg.ca_bundle, a->cfg.connect_timeout_s * 1000u,
		                       a->cfg.low_speed_timeout_s};
		struct imds_opts io = {a->cfg.imds_endpoint, a->cfg.imds_v1_disabled, a->cfg.imds_timeout_ms,
		                       5, 2};
		if ((a->http = http_new(&ho, err)) == NULL || (a->imds = imds_new(a->http, &io, err)) == NULL)
			return -1;
	}
	a->role.imds = a->imds;
	if (a->cfg.access_key_id != NULL && a->cfg.access_key_id[0] != '\0') {
		a->fixed.access_key_id = a->cfg.access_key_id;
		a->fixed.secret_access_key = a->cfg.secret_access_key;
		a->fixed.session_token = a->cfg.session_token;
		a->have_fixed = 2; /* borrowed from cfg */
		(void)snprintf(a->source, sizeof(a->source), "the environment");
	}
	if (from_profile(a, profile != NULL && profile[0] != '\0' ? profile : "default",
	                 profile != NULL && profile[0] != '\0', err) != 0)
		return -1;
	if (!a->have_fixed)
		(void)snprintf(a->source, sizeof(a->source), "the instance role");
	{
		const char *d = getenv("AWS_EC2_METADATA_DISABLED");
		a->imds_disabled = d != NULL && strcasecmp(d, "true") == 0;
	}
	if (a->region[0] == '\0' && a->imds_disabled)
		return herr_set(err, HOIST_EXIT_CONFIG,
		                "no region: give --region, or set AWS_REGION or the profile's region");
	if (a->region[0] == '\0') {
		struct buf r;
		int got;
		buf_init(&r, 64);
		got = imds_get(a->imds, "/latest/meta-data/placement/region", 63, &r, err);
		if (got == 0 && r.len > 0)
			(void)snprintf(a->region, sizeof(a->region), "%.*s", (int)strcspn(r.data, "\r\n"),
			               r.data);
		buf_free(&r);
		if (a->region[0] == '\0')
			return herr_set(
			    err, HOIST_EXIT_CONFIG,
			    "no region: give --region, or set AWS_REGION or the profile's region");
		herr_clear(err);
	}
	log_debug("credentials from %s, region %s, endpoint %s", a->source, a->region,
	          a->endpoint[0] != '\0' ? a->endpoint : "AWS");
	a->s3 = (struct s3client){a->http, a->endpoint, a->region, relaws_creds, a, 0};
	return 0;
}

void relaws_close(struct relaws *a)
{
	if (a->have_fixed == 1) {
		creds_free(&a->fixed);
	}
	a->have_fixed = 0;
	rolecreds_free(&a->role);
	imds_free(a->imds);
	http_free(a->http);
	config_free(&a->cfg);
	memset(a, 0, sizeof(*a));
}
