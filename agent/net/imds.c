/* imds.c - IMDSv2 client with retries against a deadline. */
#include "imds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitcodes.h"
#include "log.h"
#include "retry.h"

#define IMDS_TOKEN_TTL "21600"
#define IMDS_TOKEN_MAX 512
#define IMDS_BACKOFF_BASE_MS 100
#define IMDS_BACKOFF_CAP_MS 2000
#define IMDS_MIN_REQUEST_MS 50

struct imds {
	struct http *http;
	char *endpoint;
	bool v1_disabled;
	bool v1_mode; /* token endpoint absent and v1 allowed */
	unsigned timeout_ms;
	unsigned deadline_s;
	unsigned retries;
	uint64_t armed_ms; /* when the deadline was armed */
	uint64_t deadline_ms;
	unsigned requests;
	char token[IMDS_TOKEN_MAX];
};

struct imds *imds_new(struct http *h, const struct imds_opts *o, struct herr *err)
{
	struct imds *m = calloc(1, sizeof(*m));
	size_t len = strlen(o->endpoint);
	if (m == NULL || (m->endpoint = strdup(o->endpoint)) == NULL) {
		free(m);
		herr_set(err, HOIST_EXIT_INTERNAL, "out of memory");
		return NULL;
	}
	while (len > 0 && m->endpoint[len - 1] == '/')
		m->endpoint[--len] = '\0';
	m->http = h;
	m->v1_disabled = o->v1_disabled;
	m->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 1000;
	m->deadline_s = o->deadline_s > 0 ? o->deadline_s : 20;
	m->retries = o->retries;
	imds_rearm(m);
	return m;
}

void imds_free(struct imds *m)
{
	if (m == NULL)
		return;
	/* the token grants metadata access (and so the role's credentials) */
	memset(m->token, 0, sizeof(m->token));
	free(m->endpoint);
	free(m);
}

void imds_rearm(struct imds *m)
{
	m->armed_ms = retry_now_ms();
	m->deadline_ms = m->armed_ms + (uint64_t)m->deadline_s * 1000u;
}

unsigned imds_requests(const struct imds *m)
{
	return m->requests;
}

/* Outcome of one attempt. */
enum attempt { ATT_OK, ATT_NOT_FOUND, ATT_RETRY, ATT_UNAUTHORIZED, ATT_NO_TOKEN_API, ATT_FAIL };

/* One HTTP exchange with the metadata service; classifies the result. */
static enum attempt exchange(struct imds *m, const char *method, const char *path, const char *const *hdrs,
                             size_t n_hdrs, size_t max, struct http_response *resp, struct herr *err)
{
	char url[1024];
	struct http_request req = {0};
	unsigned t =
	    retry_request_timeout_ms(m->timeout_ms, retry_remaining_ms(retry_now_ms(), m->deadline_ms));
	int n = snprintf(url, sizeof(url), "%s%s", m->endpoint, path);
	if (n < 0 || (size_t)n >= sizeof(url)) {
		herr_set(err, HOIST_EXIT_CONFIG, "imds endpoint too long");
		return ATT_FAIL;
	}
	if (t == 0) {
		herr_set(err, HOIST_EXIT_TEMPFAIL, "%s %s: deadline passed", method, url);
		return ATT_RETRY;
	}
	req.method = method;
	req.url = url;
	req.headers = hdrs;
	req.n_headers = n_hdrs;
	req.timeout_ms = t;
	req.body_max = max;
	m->requests++;
	if (http_do(m->http, &req, resp, err) != 0)
		return err->code == HOIST_EXIT_TEMPFAIL ? ATT_RETRY : ATT_FAIL;
	log_debug("%s %s: %ld (%zu bytes)", method, path, resp->status, resp->body.len);
	switch (resp->status) {
	case 200:
		return ATT_OK;
	case 401:
		herr_set(err, HOIST_EXIT_TEMPFAIL, "%s %s: 401 unauthorized", method, url);
		return ATT_UNAUTHORIZED;
	case 403:
		/* IMDS answers 403 to everything when its endpoint is turned off, and
		 * to a token PUT that carries X-Forwarded-For (it went through a proxy);
		 * a missing token service answers 404/405, never 403 */
		herr_set(err, HOIST_EXIT_TEMPFAIL,
		         "%s %s: 403 Forbidden: the metadata service refuses access; its endpoint may be "
		         "disabled on this instance (instance metadata options: HttpEndpoint=enabled), "
		         "or the request went through an HTTP proxy (set no_proxy=169.254.169.254)",
		         method, url);
		return ATT_FAIL;
	case 404:
	case 405:
		if (strcmp(method, "PUT") == 0)
			return ATT_NO_TOKEN_API;
		if (resp->status == 404)
			return ATT_NOT_FOUND;
		herr_set(err, HOIST_EXIT_TEMPFAIL, "%s %s: HTTP 405", method, url);
		return ATT_FAIL;
	default:
		herr_set(err, HOIST_EXIT_TEMPFAIL, "%s %s: HTTP %ld", method, url, resp->status);
		return resp->status >= 500 || resp->status == 429 ? ATT_RETRY : ATT_FAIL;
	}
}

/* Keeps a session token from a 200 answer to the token PUT. */
static int take_token(struct imds *m, const struct http_response *resp, struct herr *err)
{
	size_t n = resp->body.len;
	if (n == 0 || n >= sizeof(m->token) || memchr(resp->body.data, '\n', n) != NULL ||
	    memchr(resp->body.data, '\0', n) != NULL)
		return herr_set(err, HOIST_EXIT_TEMPFAIL, "imds: malformed session token");
	memcpy(m->token, resp->body.data, n);
	m->token[n] = '\0';
	return 0;
}

/* One logical GET in one loop: the token PUT (when there is no token yet)
 * and the GET are attempts of the same loop, against the same deadline and
 * attempt budget, so no retry loop runs inside another. */
static int with_retries(struct imds *m, const char *path, size_t max, struct buf *out, struct herr *err)
{
	char tokhdr[IMDS_TOKEN_MAX + 64];
	const char *hdrs[1];
	struct http_response resp;
	unsigned attempt = 0;
	int refreshed = 0;
	int rc = -1;

	http_response_init(&resp);
	resp.body.max = max > IMDS_TOKEN_MAX ? max : IMDS_TOKEN_MAX;
	for (;;) {
		enum attempt a;
		bool want_token = !m->v1_mode && m->token[0] == '\0';
		if (want_token) {
			hdrs[0] = "X-aws-ec2-metadata-token-ttl-seconds: " IMDS_TOKEN_TTL;
			a = exchange(m, "PUT", "/latest/api/token", hdrs, 1, IMDS_TOKEN_MAX - 1, &resp, err);
		} else {
			size_t nh = 0;
			if (!m->v1_mode) {
				int n = snprintf(tokhdr, sizeof(tokhdr), "X-aws-ec2-metadata-token: %s",
				                 m->token);
				if (n < 0 || (size_t)n >= sizeof(tokhdr)) {
					herr_set(err, HOIST_EXIT_INTERNAL, "imds: session token too long");
					goto out;
				}
				hdrs[nh++] = tokhdr;
			}
			a = exchange(m, "GET", path, hdrs, nh, max, &resp, err);
		}
		switch (a) {
		case ATT_OK:
			if (want_token) {
				if (take_token(m, &resp, err) != 0)
					break; /* retried like a 5xx */
				continue;
			}
			if (buf_append(out, resp.body.data != NULL ? resp.body.data : "", resp.body.len) !=
			    0) {
				herr_set(err, HOIST_EXIT_TEMPFAIL, "imds %s: response too large", path);
				goto out;
			}
			rc = 0;
			goto out;
		case ATT_NOT_FOUND:
			rc = 1;
			goto out;
		case ATT_NO_TOKEN_API:
			if (m->v1_disabled) {
				herr_set(
				    err, HOIST_EXIT_TEMPFAIL,
				    "imds: no IMDSv2 token service at %s (HTTP %ld) and IMDSv1 is disabled",
				    m->endpoint, resp.status);
				goto out;
			}
			log_warnx("imds: no IMDSv2 token service at %s (HTTP %ld); falling back to IMDSv1 "
			          "(requests without a session token)",
			          m->endpoint, resp.status);
			m->v1_mode = true;
			continue;
		case ATT_UNAUTHORIZED:
			/* the token expired or was revoked: one fresh token, then retry now */
			if (!want_token && !refreshed) {
				refreshed = 1;
				m->token[0] = '\0';
				log_debug("imds: token refused, getting a new one");
				continue;
			}
			goto out;
		case ATT_FAIL:
			goto out;
		case ATT_RETRY:
			break;
		}
		{
			unsigned delay = retry_backoff_ms(attempt, IMDS_BACKOFF_BASE_MS, IMDS_BACKOFF_CAP_MS,
			                                  retry_random());
			uint64_t left = retry_remaining_ms(retry_now_ms(), m->deadline_ms);
			attempt++;
			if (!retry_should_retry(attempt, m->retries + 1, left, delay, IMDS_MIN_REQUEST_MS)) {
				herr_prefix(err, "metadata service %s unavailable after %u attempt%s in %u s",
				            m->endpoint, attempt, attempt == 1 ? "" : "s",
				            (unsigned)((retry_now_ms() - m->armed_ms + 500) / 1000));
				goto out;
			}
			log_warnx("%s; retry %u of %u in %u ms", err->msg, attempt, m->retries, delay);
			retry_sleep_ms(delay);
		}
	}
out:
	if (resp.body.data != NULL)
		memset(resp.body.data, 0, resp.body.len); /* may hold a token or credentials */
	http_response_free(&resp);
	return rc;
}

int imds_get(struct imds *m, const char *path, size_t max, struct buf *out, struct herr *err)
{
	return with_retries(m, path, max, out, err);
}
