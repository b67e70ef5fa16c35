/* awsquery.c - the AWS Query protocol (see awsquery.h). */
#include "awsquery.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "digest.h"
#include "exitcodes.h"
#include "sigv4.h"

#define HOST_MAX 256
#define FORM_MAX (16 * 1024)
#define TOKEN_HDR_MAX 4096
#define CONTENT_TYPE "application/x-www-form-urlencoded; charset=utf-8"

/* Appends "name=value" encoded, with a leading '&' unless first. */
static int form_pair(struct buf *out, const char *name, const char *value)
{
	if (out->len > 0 && buf_append(out, "&", 1) != 0)
		return -1;
	if (sigv4_uri_encode(name, strlen(name), false, out) != 0 || buf_append(out, "=", 1) != 0 ||
	    sigv4_uri_encode(value, strlen(value), false, out) != 0)
		return -1;
	return 0;
}

int awsq_form(const char *action, const char *version, const struct awsq_param *p, size_t n, struct buf *out)
{
	buf_reset(out);
	if (form_pair(out, "Action", action) != 0 || form_pair(out, "Version", version) != 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (p[i].value != NULL && form_pair(out, p[i].name, p[i].value) != 0)
			return -1;
	return 0;
}

/* Copies the text of the first <tag>...</tag> into out, printable bytes only. */
static int xml_text(const char *xml, size_t len, const char *tag, char *out, size_t outsz)
{
	char open[32], close[34];
	const char *p, *e;
	size_t n, j = 0;
	(void)snprintf(open, sizeof(open), "<%s>", tag);
	(void)snprintf(close, sizeof(close), "</%s>", tag);
	if (outsz == 0 || (p = memmem(xml, len, open, strlen(open))) == NULL)
		return 0;
	p += strlen(open);
	if ((e = memmem(p, len - (size_t)(p - xml), close, strlen(close))) == NULL)
		return 0;
	n = (size_t)(e - p);
	for (size_t i = 0; i < n && j + 1 < outsz; i++)
		if ((unsigned char)p[i] >= 0x20 && (unsigned char)p[i] != 0x7f)
			out[j++] = p[i];
	out[j] = '\0';
	return j > 0;
}

int awsq_error(const char *xml, size_t len, char *code, size_t codesz, char *msg, size_t msgsz)
{
	if (xml == NULL || len == 0)
		return 0;
	if (msgsz > 0 && !xml_text(xml, len, "Message", msg, msgsz))
		msg[0] = '\0';
	return xml_text(xml, len, "Code", code, codesz);
}

/* "http://h:p" or "https://h" (an optional trailing '/') -> "h:p" / "h". */
static int endpoint_host(const char *endpoint, char *host, size_t hostsz)
{
	const char *p = strstr(endpoint, "://");
	size_t n;
	if (p == NULL)
		return -1;
	p += 3;
	n = strcspn(p, "/");
	if (n == 0 || n >= hostsz || (p[n] == '/' && p[n + 1] != '\0'))
		return -1;
	memcpy(host, p, n);
	host[n] = '\0';
	return 0;
}

int awsq_call(struct http *h, const struct awsq_service *svc, const struct credentials *cr,
              const char *action, const char *version, const struct awsq_param *p, size_t n,
              unsigned timeout_ms, struct http_response *resp, struct herr *err)
{
	struct sigv4_header sh[5];
	const char *wire[6];
	char host[HOST_MAX], url[HOST_MAX + 16], date[32], host_h[HOST_MAX + 8], date_h[48];
	char tok_h[TOKEN_HDR_MAX], hex[SHA256_HEX_LEN + 1];
	uint8_t sum[SHA256_LEN];
	struct buf form, auth, auth_h;
	struct sigv4_request req;
	struct sigv4_scope scope;
	struct sigv4_credentials sc;
	struct http_request hr;
	time_t now = time(NULL);
	struct tm tm;
	size_t ns = 0, nw = 0;
	int rc = -1;

	tok_h[0] = '\0';
	buf_init(&form, FORM_MAX);
	buf_init(&auth, 1024);
	buf_init(&auth_h, 1100);
	if (endpoint_host(svc->endpoint, host, sizeof(host)) != 0) {
		herr_set(err, HOIST_EXIT_CONFIG, "%s endpoint %.200s: expected http(s)://HOST[:PORT]",
		         svc->service, svc->endpoint);
		goto out;
	}
	(void)snprintf(url, sizeof(url), "%s/", svc->endpoint);
	if (url[strlen(url) - 2] == '/')
		url[strlen(url) - 1] = '\0';
	if (awsq_form(action, version, p, n, &form) != 0 || sha256_buf(form.data, form.len, sum) != 0) {
		herr_set(err, HOIST_EXIT_INTERNAL, "%s %s: request too large", svc->service, action);
		goto out;
	}
	hex_encode(sum, sizeof(sum), hex);
	gmtime_r(&now, &tm);
	if (strftime(date, sizeof(date), "%Y%m%dT%H%M%SZ", &tm) == 0)
		goto out;
	(void)snprintf(host_h, sizeof(host_h), "Host: %s", host);
	(void)snprintf(date_h, sizeof(date_h), "X-Amz-Date: %s", date);
	sh[ns++] = (struct sigv4_header){"host", host};
	sh[ns++] = (struct sigv4_header){"content-type", CONTENT_TYPE};
	sh[ns++] = (struct sigv4_header){"x-amz-date", date};
	wire[nw++] = host_h;
	wire[nw++] = "Content-Type: " CONTENT_TYPE;
	wire[nw++] = date_h;
	if (cr->session_token != NULL && cr->session_token[0] != '\0') {
		int k = snprintf(tok_h, sizeof(tok_h), "X-Amz-Security-Token: %s", cr->session_token);
		if (k < 0 || (size_t)k >= sizeof(tok_h)) {
			herr_set(err, HOIST_EXIT_NO_CREDENTIALS, "session token too long");
			goto out;
		}
		sh[ns++] = (struct sigv4_header){"x-amz-security-token", cr->session_token};
		wire[nw++] = tok_h;
	}
	req = (struct sigv4_request){"POST", "/", "", sh, ns, hex};
	scope = (struct sigv4_scope){date, svc->region, svc->service, false, false};
	sc = (struct sigv4_credentials){cr->access_key_id, cr->secret_access_key, cr->session_token};
	if (sigv4_authorization(&req, &scope, &sc, &auth) != 0 ||
	    buf_printf(&auth_h, "Authorization: %s", auth.data) != 0) {
		herr_set(err, HOIST_EXIT_INTERNAL, "cannot sign the %s %s request", svc->service, action);
		goto out;
	}
	wire[nw++] = auth_h.data;
	hr = (struct http_request){.method = "POST",
	                           .url = url,
	                           .headers = wire,
	                           .n_headers = nw,
	                           .timeout_ms = timeout_ms,
	                           .body_max = 64 * 1024,
	                           .has_body = 1,
	                           .body = form.data,
	                           .body_len = form.len};
	if (http_do(h, &hr, resp, err) != 0)
		goto out;
	rc = 0;
out:
	/* the token header copy is as secret as the token */
	memset(tok_h, 0, sizeof(tok_h));
	buf_free(&form);
	buf_free(&auth);
	buf_free(&auth_h);
	return rc;
}
