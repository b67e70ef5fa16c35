/* http.h - a thin libcurl easy wrapper: one handle reused for the whole run
 * (connections kept alive), verified TLS only, http/https only, no
 * redirects, bounded response headers and error bodies. The URL's path is
 * sent as given ("." and ".." segments are not squashed).
 *
 * Transport failures (connect, timeout, reset) are HOIST_EXIT_TEMPFAIL;
 * the caller interprets HTTP status codes. Request headers are never
 * logged or put in messages (they carry signatures and session tokens). */
#ifndef HOIST_HTTP_H
#define HOIST_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "herr.h"

#define HTTP_MAX_HEADER_BYTES (32 * 1024)
#define HTTP_MAX_ERROR_BODY (64 * 1024)

struct http; /* opaque: a CURL easy handle and its settings */

struct http_opts {
	const char *ca_bundle; /* CURLOPT_CAINFO when non-empty */
	unsigned connect_timeout_ms;
	unsigned low_speed_time_s; /* abort a transfer slower than the stall floor
	                            * (1 B/s, http_set_stall_floor) for this long; 0 = off */
};

/* Receives 2xx body bytes; returns 0 to continue, -1 to abort (err set). */
typedef int (*http_sink_fn)(void *ud, const char *data, size_t n, struct herr *err);

/* Supplies request body bytes: fills up to n bytes of out, returns how many
 * (0 only at the end), or -1 to abort (err set). */
typedef long (*http_source_fn)(void *ud, char *out, size_t n, struct herr *err);

struct http_request {
	const char *method; /* "GET", "HEAD", "PUT", "POST", "DELETE" */
	const char *url;
	const char *const *headers; /* "Name: value" strings */
	size_t n_headers;
	unsigned timeout_ms; /* whole request; 0 = none (stall limit still applies) */
	http_sink_fn sink;   /* 2xx body; NULL: into resp->body (bounded by body_max) */
	void *sink_ud;
	size_t body_max; /* for sink == NULL */
	/* request body (PUT/POST): body_len bytes from body, or from source when
	 * set; has_body false sends none */
	int has_body;
	const void *body;
	uint64_t body_len;
	http_source_fn source;
	void *source_ud;
	int no_stall_limit; /* 1: no low-speed abort (an answer that may take minutes to start) */
};

struct http_response {
	long status;         /* 0 when no response arrived */
	struct buf headers;  /* raw header block of the final response */
	struct buf body;     /* 2xx body when no sink; error body (bounded) otherwise */
	uint64_t body_bytes; /* bytes passed to the sink or body */
	int transport_error; /* CURLcode, 0 when the exchange completed */
	int sink_failed;     /* 1 when the sink aborted (its err is kept) */
};

struct http *http_new(const struct http_opts *o, struct herr *err);
void http_free(struct http *h);
/* Sets the stall floor: a transfer slower than bytes_per_s on average over
 * low_speed_time_s is aborted (a trickle counts as a stall). Default 1. */
void http_set_stall_floor(struct http *h, unsigned bytes_per_s);

void http_response_init(struct http_response *r);
void http_response_free(struct http_response *r);

/* Performs one request. Returns 0 when an HTTP response was received
 * (whatever its status) and -1 on a transport error (TEMPFAIL, message
 * names method and URL), an oversized response, or a sink failure. */
int http_do(struct http *h, const struct http_request *req, struct http_response *resp, struct herr *err);

/* Pure: finds header name (case-insensitive) in a raw header block and
 * copies its trimmed value into out. Returns 1 found, 0 absent, -1 too long. */
int http_header_get(const char *block, size_t len, const char *name, char *out, size_t outsz);

/* "libcurl/7.88.1 OpenSSL/3.0.x zlib/1.2.13 ..." for --version. */
const char *http_version_string(void);

#endif
