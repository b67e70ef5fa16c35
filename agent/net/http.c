/* http.c - libcurl easy wrapper (see http.h). */
#include "http.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "exitcodes.h"

struct http {
	CURL *curl;
	char *ca_bundle;
	unsigned connect_timeout_ms;
	unsigned low_speed_time_s;
	unsigned low_speed_bytes_s;
};

/* Per-request state seen by the callbacks. */
struct xfer {
	const struct http_request *req;
	struct http_response *resp;
	CURL *curl;
	struct herr *err;
	int overflow;
	uint64_t sent; /* request body bytes handed to libcurl */
	int source_failed;
	char why[CURL_ERROR_SIZE]; /* libcurl's detail, e.g. "Operation too slow. ..." */
};

static int global_done;

struct http *http_new(const struct http_opts *o, struct herr *err)
{
	struct http *h = NULL;
	if (!global_done) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			herr_set(err, HOIST_EXIT_INTERNAL, "cannot initialise libcurl");
			return NULL;
		}
		global_done = 1;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		goto oom;
	h->curl = curl_easy_init();
	if (h->curl == NULL)
		goto oom;
	if (o->ca_bundle != NULL && o->ca_bundle[0] != '\0') {
		h->ca_bundle = strdup(o->ca_bundle);
		if (h->ca_bundle == NULL)
			goto oom;
	}
	h->connect_timeout_ms = o->connect_timeout_ms;
	h->low_speed_time_s = o->low_speed_time_s;
	h->low_speed_bytes_s = 1;
	return h;
oom:
	http_free(h);
	herr_set(err, HOIST_EXIT_INTERNAL, "out of memory creating the HTTP client");
	return NULL;
}

void http_set_stall_floor(struct http *h, unsigned bytes_per_s)
{
	h->low_speed_bytes_s = bytes_per_s > 0 ? bytes_per_s : 1;
}

void http_free(struct http *h)
{
	if (h == NULL)
		return;
	if (h->curl != NULL)
		curl_easy_cleanup(h->curl);
	free(h->ca_bundle);
	free(h);
}

void http_response_init(struct http_response *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->headers, HTTP_MAX_HEADER_BYTES);
	buf_init(&r->body, HTTP_MAX_ERROR_BODY);
}

void http_response_free(struct http_response *r)
{
	buf_free(&r->headers);
	buf_free(&r->body);
}

/* Collects the header block; a new status line (after 100 Continue or an
 * interim response) starts the block again so only the final one is kept. */
static size_t on_header(char *data, size_t size, size_t nitems, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nitems;
	if (n >= 5 && memcmp(data, "HTTP/", 5) == 0)
		buf_reset(&x->resp->headers);
	if (buf_append(&x->resp->headers, data, n) != 0) {
		x->overflow = 1;
		return 0;
	}
	return n;
}

/* Routes body bytes: 2xx to the sink (or body buffer), anything else to
 * the bounded error body so S3 error XML can be read. */
static size_t on_body(char *data, size_t size, size_t nitems, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nitems;
	long status = 0;
	(void)curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &status);
	x->resp->status = status;
	if (status >= 200 && status < 300 && x->req->sink != NULL) {
		if (x->req->sink(x->req->sink_ud, data, n, x->err) != 0) {
			x->resp->sink_failed = 1;
			return 0;
		}
	} else if (status >= 200 && status < 300) {
		size_t max = x->req->body_max > 0 ? x->req->body_max : x->resp->body.max;
		if (n > max - x->resp->body.len || buf_append(&x->resp->body, data, n) != 0) {
			x->overflow = 1;
			return 0;
		}
	} else {
		/* error bodies: keep the first HTTP_MAX_ERROR_BODY bytes, drop the rest */
		size_t room = x->resp->body.max - x->resp->body.len;
		(void)buf_append(&x->resp->body, data, n < room ? n : room);
	}
	x->resp->body_bytes += n;
	return n;
}

/* Feeds the request body: from the buffer, or from the caller's source. A
 * rewind (after a 100-continue refusal or a reused connection that died) is
 * allowed only for buffers; a source reports the error. */
static size_t on_read(char *out, size_t size, size_t nitems, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nitems;
	uint64_t left = x->req->body_len - x->sent;
	if (n > left)
		n = (size_t)left;
	if (n == 0)
		return 0;
	if (x->req->source != NULL) {
		long got = x->req->source(x->req->source_ud, out, n, x->err);
		if (got < 0 || (size_t)got > n) {
			x->source_failed = 1;
			return CURL_READFUNC_ABORT;
		}
		n = (size_t)got;
	} else {
		memcpy(out, (const char *)x->req->body + x->sent, n);
	}
	x->sent += n;
	return n;
}

static int on_seek(void *ud, curl_off_t offset, int origin)
{
	struct xfer *x = ud;
	if (origin != SEEK_SET || offset < 0 || x->req->source != NULL || (uint64_t)offset > x->req->body_len)
		return CURL_SEEKFUNC_CANTSEEK;
	x->sent = (uint64_t)offset;
	return CURL_SEEKFUNC_OK;
}

/* Sets every option of one request on a freshly reset handle. curl_easy_reset
 * keeps the connection cache, so keep-alive survives between requests. */
static int setup(struct http *h, const struct http_request *req, struct xfer *x, struct curl_slist **hdrs)
{
	CURL *c = h->curl;
	int bad = 0;
	curl_easy_reset(c);
	for (size_t i = 0; i < req->n_headers; i++) {
		struct curl_slist *n = curl_slist_append(*hdrs, req->headers[i]);
		if (n == NULL)
			return -1;
		*hdrs = n;
	}
	bad |= curl_easy_setopt(c, CURLOPT_URL, req->url) != CURLE_OK;
	/* the path goes on the wire exactly as given: an S3 key may hold "." and
	 * ".." segments, and RFC 3986 squashing would name another object (in
	 * path style another bucket) than the one signed */
	bad |= curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	/* only http/https, no redirects at all: a 3xx is reported, not followed */
	bad |= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
	/* TLS is always verified; there is deliberately no switch to turn it off */
	bad |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK;
	if (h->ca_bundle != NULL)
		bad |= curl_easy_setopt(c, CURLOPT_CAINFO, h->ca_bundle) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)h->connect_timeout_ms) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)req->timeout_ms) != CURLE_OK;
	if (h->low_speed_time_s > 0 && !req->no_stall_limit) {
		/* a trickle counts as a stall: below the floor on average over the
		 * window, the transfer is aborted (and resumed by the caller) */
		bad |= curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, (long)h->low_speed_bytes_s) != CURLE_OK;
		bad |= curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)h->low_speed_time_s) != CURLE_OK;
	}
	bad |= curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 512L * 1024) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_HTTPHEADER, *hdrs) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_USERAGENT, "hoist-boot/" HOIST_VERSION) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_HEADERDATA, x) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_WRITEDATA, x) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_ERRORBUFFER, x->why) != CURLE_OK;
	if (req->has_body) {
		/* UPLOAD sends the body with the method below; the size is always
		 * known, so no chunked encoding */
		bad |= curl_easy_setopt(c, CURLOPT_UPLOAD, 1L) != CURLE_OK;
		bad |= curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->body_len) != CURLE_OK;
		bad |= curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read) != CURLE_OK;
		bad |= curl_easy_setopt(c, CURLOPT_READDATA, x) != CURLE_OK;
		bad |= curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek) != CURLE_OK;
		bad |= curl_easy_setopt(c, CURLOPT_SEEKDATA, x) != CURLE_OK;
		bad |= curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method) != CURLE_OK;
	} else if (strcmp(req->method, "HEAD") == 0)
		bad |= curl_easy_setopt(c, CURLOPT_NOBODY, 1L) != CURLE_OK;
	else if (strcmp(req->method, "GET") != 0)
		bad |= curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method) != CURLE_OK;
	return bad ? -1 : 0;
}

/* libcurl's own detail when it gave one ("Operation too slow. Less than
 * 1024 bytes/sec transferred the last 30 seconds"), else the code's text. */
static const char *why(struct xfer *x, CURLcode cc)
{
	size_t n = strlen(x->why);
	while (n > 0 && (x->why[n - 1] == '\n' || x->why[n - 1] == '.'))
		x->why[--n] = '\0';
	return n > 0 ? x->why : curl_easy_strerror(cc);
}

/* Drops the query string from a URL for messages (it may carry tokens). */
static int url_len_for_msg(const char *url)
{
	size_t n = strcspn(url, "?");
	return n > 300 ? 300 : (int)n;
}

int http_do(struct http *h, const struct http_request *req, struct http_response *resp, struct herr *err)
{
	struct curl_slist *hdrs = NULL;
	struct xfer x = {req, resp, h->curl, err, 0, 0, 0, ""};
	CURLcode cc;
	int rc = -1;

	buf_reset(&resp->headers);
	buf_reset(&resp->body);
	resp->status = 0;
	resp->body_bytes = 0;
	resp->transport_error = 0;
	resp->sink_failed = 0;
	if (setup(h, req, &x, &hdrs) != 0) {
		herr_set(err, HOIST_EXIT_INTERNAL, "cannot configure the HTTP request");
		goto out;
	}
	cc = curl_easy_perform(h->curl);
	(void)curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &resp->status);
	if (resp->sink_failed || x.source_failed) {
		resp->transport_error = (int)cc;
		goto out; /* the sink or source filled err */
	}
	if (x.overflow) {
		/* a retry gets the same oversized answer: permanent */
		herr_set(err, HOIST_EXIT_TOO_LARGE, "%s %.*s: response too large", req->method,
		         url_len_for_msg(req->url), req->url);
		goto out;
	}
	if (cc != CURLE_OK) {
		resp->transport_error = (int)cc;
		if (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE)
			/* not retried: the same certificate fails the same way */
			herr_set(err, HOIST_EXIT_CONFIG,
			         "%s %.*s: %s (TLS is always verified; set "
			         "ca_bundle if the endpoint uses a private CA)",
			         req->method, url_len_for_msg(req->url), req->url, curl_easy_strerror(cc));
		else
			herr_set(err, HOIST_EXIT_TEMPFAIL, "%s %.*s: %s", req->method,
			         url_len_for_msg(req->url), req->url, why(&x, cc));
		goto out;
	}
	rc = 0;
out:
	/* x.why dies with this call; the handle lives on */
	(void)curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, NULL);
	curl_slist_free_all(hdrs);
	return rc;
}

int http_header_get(const char *block, size_t len, const char *name, char *out, size_t outsz)
{
	size_t nlen = strlen(name);
	const char *p = block, *end = block + len;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol != NULL ? eol : end;
		if ((size_t)(le - p) > nlen && p[nlen] == ':' && strncasecmp(p, name, nlen) == 0) {
			const char *v = p + nlen + 1;
			const char *ve = le;
			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && isspace((unsigned char)ve[-1]))
				ve--;
			if ((size_t)(ve - v) >= outsz)
				return -1;
			memcpy(out, v, (size_t)(ve - v));
			out[ve - v] = '\0';
			return 1;
		}
		p = le + 1;
	}
	return 0;
}

const char *http_version_string(void)
{
	return curl_version();
}
