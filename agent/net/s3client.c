/* s3client.c - signed S3 requests (see s3client.h). */
#include "s3client.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "exitcodes.h"
#include "log.h"
#include "s3.h"
#include "sigv4.h"

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define MAX_EXTRA 6
#define HDR_MAX 2048

/* Splits "Name: value" into a sigv4 header; -1 when malformed. */
static int split_header(const char *h, char *name, size_t namesz, struct sigv4_header *out)
{
	const char *colon = strchr(h, ':');
	size_t n;
	if (colon == NULL || (n = (size_t)(colon - h)) == 0 || n >= namesz)
		return -1;
	memcpy(name, h, n);
	name[n] = '\0';
	out->name = name;
	out->value = colon + 1 + strspn(colon + 1, " ");
	return 0;
}

int s3_call(struct s3client *c, const struct s3_call *call, struct http_response *resp, struct herr *err)
{
	static struct s3_target t; /* large; the stub is single-threaded */
	const struct credentials *cr = NULL;
	struct sigv4_header sh[5 + MAX_EXTRA];
	char names[MAX_EXTRA][64];
	char date[32], host_h[S3_HOST_MAX + 8], date_h[48], tok_h[HDR_MAX * 2], sha_h[128];
	char url[S3_URL_MAX + 1024];
	const char *wire[7 + MAX_EXTRA];
	const char *payload = call->payload_sha256_hex != NULL ? call->payload_sha256_hex : EMPTY_SHA256;
	const char *query = call->query != NULL ? call->query : "";
	struct buf auth, auth_h;
	struct sigv4_request req;
	struct sigv4_scope scope;
	struct sigv4_credentials sc;
	struct http_request hr;
	time_t now = time(NULL);
	struct tm tm;
	size_t ns = 0, nw = 0;
	int rc = -1, n;

	buf_init(&auth, 1024);
	buf_init(&auth_h, 1100);
	if (call->n_extra > MAX_EXTRA) {
		herr_set(err, HOIST_EXIT_INTERNAL, "too many request headers");
		goto out;
	}
	if (s3_build_target(c->endpoint, c->region, call->bucket, call->key, &t, err) != 0)
		goto out;
	n = snprintf(url, sizeof(url), "%s%s%s", t.url, query[0] != '\0' ? "?" : "", query);
	if (n < 0 || (size_t)n >= sizeof(url)) {
		herr_set(err, HOIST_EXIT_INTERNAL, "S3 request URL too long");
		goto out;
	}
	if (c->creds(c->creds_ud, &cr, err) != 0)
		goto out;
	gmtime_r(&now, &tm);
	if (strftime(date, sizeof(date), "%Y%m%dT%H%M%SZ", &tm) == 0)
		goto out;
	(void)snprintf(host_h, sizeof(host_h), "Host: %s", t.host);
	(void)snprintf(date_h, sizeof(date_h), "x-amz-date: %s", date);
	n = snprintf(sha_h, sizeof(sha_h), "x-amz-content-sha256: %s", payload);
	if (n < 0 || (size_t)n >= sizeof(sha_h)) {
		herr_set(err, HOIST_EXIT_INTERNAL, "bad payload digest");
		goto out;
	}
	sh[ns++] = (struct sigv4_header){"host", t.host};
	sh[ns++] = (struct sigv4_header){"x-amz-date", date};
	sh[ns++] = (struct sigv4_header){"x-amz-content-sha256", payload};
	wire[nw++] = host_h;
	wire[nw++] = date_h;
	wire[nw++] = sha_h;
	if (call->checksum_mode) {
		sh[ns++] = (struct sigv4_header){"x-amz-checksum-mode", "ENABLED"};
		wire[nw++] = "x-amz-checksum-mode: ENABLED";
	}
	if (cr->session_token != NULL && cr->session_token[0] != '\0') {
		n = snprintf(tok_h, sizeof(tok_h), "x-amz-security-token: %s", cr->session_token);
		if (n < 0 || (size_t)n >= sizeof(tok_h)) {
			herr_set(err, HOIST_EXIT_NO_CREDENTIALS, "session token too long");
			goto out;
		}
		sh[ns++] = (struct sigv4_header){"x-amz-security-token", cr->session_token};
		wire[nw++] = tok_h;
	}
	for (size_t i = 0; i < call->n_extra; i++) {
		if (split_header(call->extra[i], names[i], sizeof(names[i]), &sh[ns]) != 0) {
			herr_set(err, HOIST_EXIT_INTERNAL, "malformed request header");
			goto out;
		}
		ns++;
		wire[nw++] = call->extra[i];
	}
	if (call->has_body)
		/* no Expect: 100-continue round trip; the body is signed anyway */
		wire[nw++] = "Expect:";
	req = (struct sigv4_request){call->method, t.path, query, sh, ns, payload};
	scope = (struct sigv4_scope){date, c->region, "s3", true, false};
	sc = (struct sigv4_credentials){cr->access_key_id, cr->secret_access_key, cr->session_token};
	if (sigv4_authorization(&req, &scope, &sc, &auth) != 0 ||
	    buf_printf(&auth_h, "Authorization: %s", auth.data) != 0) {
		herr_set(err, HOIST_EXIT_INTERNAL, "cannot sign the S3 request for s3://%s/%s", call->bucket,
		         call->key);
		goto out;
	}
	wire[nw++] = auth_h.data;
	hr = (struct http_request){call->method,
	                           url,
	                           wire,
	                           nw,
	                           call->timeout_ms,
	                           call->sink,
	                           call->sink_ud,
	                           call->body_max,
	                           call->has_body,
	                           call->body,
	                           call->body_len,
	                           call->source,
	                           call->source_ud,
	                           call->no_stall_limit};
	c->requests++;
	if (http_do(c->http, &hr, resp, err) != 0) {
		goto out;
	}
	log_debug("%s s3://%s/%s%s%s: %ld", call->method, call->bucket, call->key,
	          query[0] != '\0' ? "?" : "", query, resp->status);
	rc = 0;
out:
	/* the token header copy is as secret as the token */
	memset(tok_h, 0, sizeof(tok_h));
	buf_free(&auth);
	buf_free(&auth_h);
	return rc;
}

int s3_request(struct s3client *c, const char *method, const char *bucket, const char *key,
               const char *const *extra, size_t n_extra, unsigned timeout_ms, http_sink_fn sink,
               void *sink_ud, struct http_response *resp, struct herr *err)
{
	struct s3_call call = {0};
	call.method = method;
	call.bucket = bucket;
	call.key = key;
	call.extra = extra;
	call.n_extra = n_extra;
	call.timeout_ms = timeout_ms;
	call.sink = sink;
	call.sink_ud = sink_ud;
	call.checksum_mode = 1;
	return s3_call(c, &call, resp, err);
}

/* 1 when S3 refused the request for its region: a 301 redirect or a 400
 * AuthorizationHeaderMalformed/PermanentRedirect naming the bucket's region
 * in x-amz-bucket-region (copied to region when it looks like one). */
static int wrong_region(const struct http_response *resp, const char *code, char *region, size_t regionsz)
{
	if (resp->status != 301 && strcmp(code, "AuthorizationHeaderMalformed") != 0 &&
	    strcmp(code, "PermanentRedirect") != 0 && strcmp(code, "IllegalLocationConstraintException") != 0)
		return 0;
	if (http_header_get(resp->headers.data, resp->headers.len, "x-amz-bucket-region", region, regionsz) !=
	    1)
		return 0;
	return region[0] != '\0' && strspn(region, "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen(region);
}

int s3_status_error(const struct http_response *resp, const char *method, const char *bucket, const char *key,
                    struct herr *err)
{
	char code[64] = "", region[64];
	long st = resp->status;
	int ec;
	const char *why;

	if (!s3_error_code(resp->body.data, resp->body.len, code, sizeof(code)))
		(void)snprintf(code, sizeof(code), "HTTP %ld", st);
	if (wrong_region(resp, code, region, sizeof(region)))
		return herr_set(
		    err, HOIST_EXIT_DENIED,
		    "%s s3://%s/%s: the bucket is in region %s (S3's x-amz-bucket-region), not the "
		    "region the request was signed for: set region=%s in the directive or "
		    "hoist.conf (%s)",
		    method, bucket, key, region, region, code);
	if (st == 403) {
		ec = HOIST_EXIT_DENIED;
		why = strcmp(code, "SignatureDoesNotMatch") == 0
		          ? "request signature refused (check the clock, region and credentials)"
		      : strcmp(code, "InvalidAccessKeyId") == 0 ? "credentials unknown to S3"
		      : strcmp(code, "RequestTimeTooSkewed") == 0
		          ? "the clock is off"
		          : "access denied (does the instance role allow s3:GetObject on it?)";
	} else if (st == 404) {
		ec = HOIST_EXIT_NOT_FOUND;
		why = strcmp(code, "NoSuchBucket") == 0 ? "no such bucket" : "no such key";
	} else if (st >= 500 || st == 429 || strcmp(code, "SlowDown") == 0) {
		ec = HOIST_EXIT_TEMPFAIL;
		why = "S3 is unavailable or throttling";
	} else if (strcmp(code, "ExpiredToken") == 0 || strcmp(code, "TokenRefreshRequired") == 0) {
		ec = HOIST_EXIT_TEMPFAIL;
		why = "the credentials expired";
	} else if (strcmp(code, "InvalidToken") == 0) {
		ec = HOIST_EXIT_NO_CREDENTIALS;
		why = "the session token was refused";
	} else {
		ec = HOIST_EXIT_DENIED;
		why = "request refused";
	}
	return herr_set(err, ec, "%s s3://%s/%s: %s (%s)", method, bucket, key, why, code);
}
