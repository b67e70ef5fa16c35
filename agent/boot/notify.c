/* notify.c - the failure notification (see notify.h). */
#include "notify.h"

#include <string.h>

#include "exitcodes.h"

/* Length of "scheme://host[:port]" in url, for messages (the path may hold a secret). */
static int origin_len(const char *url)
{
	const char *p = strstr(url, "://");
	size_t n = p != NULL ? (size_t)(p + 3 - url) + strcspn(p + 3, "/?#") : strcspn(url, "/?#");
	return n > 200 ? 200 : (int)n;
}

int notify_post(struct http *h, const char *url, const char *json, size_t len, struct herr *err)
{
	static const char *const hdrs[] = {"Content-Type: application/json", "Expect:"};
	struct http_request req = {.method = "POST",
	                           .url = url,
	                           .headers = hdrs,
	                           .n_headers = 2,
	                           .timeout_ms = NOTIFY_TIMEOUT_MS,
	                           .body_max = 4096,
	                           .has_body = 1,
	                           .body = json,
	                           .body_len = len};
	struct http_response resp;
	struct herr e2 = {0, ""};
	int rc = -1;

	http_response_init(&resp);
	if (http_do(h, &req, &resp, &e2) != 0) {
		herr_set(err, e2.code, "notify %.*s: no answer (%s)", origin_len(url), url,
		         resp.transport_error != 0 ? "connection failed or timed out" : "bad answer");
		goto out;
	}
	if (resp.status < 200 || resp.status > 299) {
		herr_set(err, HOIST_EXIT_TEMPFAIL, "notify %.*s: HTTP %ld", origin_len(url), url,
		         resp.status);
		goto out;
	}
	rc = 0;
out:
	http_response_free(&resp);
	return rc;
}
