/* relaws.h - the build side's connection to AWS: settings from the
 * environment as the AWS tools read them, credentials by the AWS chain
 * (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, then
 * AWS_PROFILE (or "default") in ~/.aws/credentials and ~/.aws/config, then
 * the instance role through IMDS), the region (--region, AWS_REGION,
 * AWS_DEFAULT_REGION, the profile's region, IMDS placement), the endpoint
 * (--endpoint, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, else AWS) and one
 * signed S3 client over them. */
#ifndef HOIST_RELAWS_H
#define HOIST_RELAWS_H

#include "config.h"
#include "creds.h"
#include "herr.h"
#include "http.h"
#include "imds.h"
#include "rolecreds.h"
#include "s3client.h"

struct relaws_opts {
	const char *endpoint; /* NULL: from the environment */
	const char *region;   /* NULL: from the chain */
};

struct relaws {
	struct hoist_config cfg; /* environment settings (imds, region, endpoint, ca bundle, keys) */
	struct http *http;
	struct imds *imds;
	struct rolecreds role;
	struct credentials fixed; /* environment or profile keys (owned) */
	int have_fixed;
	int imds_disabled; /* AWS_EC2_METADATA_DISABLED=true: no instance role, no IMDS region */
	char source[160];  /* where the credentials come from, for messages */
	char region[64];
	char endpoint[1024];
	struct s3client s3;
};

int relaws_open(struct relaws *a, const struct relaws_opts *o, struct herr *err);
void relaws_close(struct relaws *a);

#endif
