/* healthprobe.c - http, tcp and command probes (rules in healthprobe.h). */
#include "healthprobe.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "exitcodes.h"
#include "fsutil.h"
#include "healthcurl.h"
#include "hooks.h"
#include "log.h"

#define BODY_KEEP (64u * 1024u)

int health_probe_init(struct health_probe *p, bool need_http, struct herr *err)
{
	p->api = NULL;
	p->curl = NULL;
	if (!need_http)
		return 0;
	p->api = healthcurl_get(err);
	if (p->api == NULL)
		return -1;
	p->curl = p->api->easy_init();
	if (p->curl == NULL)
		return herr_set(err, HOIST_EXIT_INTERNAL, "cannot create a libcurl handle");
	return 0;
}

void health_probe_free(struct health_probe *p)
{
	if (p->curl != NULL)
		p->api->easy_cleanup(p->curl);
	p->curl = NULL;
}

/* Keeps the first BODY_KEEP bytes of the body; later bytes are read and dropped. */
static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	struct buf *b = ud;
	size_t n = size * nmemb;
	if (b->len < BODY_KEEP) {
		size_t take = BODY_KEEP - b->len < n ? BODY_KEEP - b->len : n;
		if (buf_append(b, data, take) != 0)
			return 0;
	}
	return n;
}

/* Is needle (NUL-free) within the first len bytes of hay (which may hold NULs)? */
static int contains(const char *hay, size_t len, const char *needle)
{
	size_t nl = strlen(needle);
	if (nl == 0)
		return 1;
	for (size_t i = 0; i + nl <= len; i++)
		if (hay[i] == needle[0] && memcmp(hay + i, needle, nl) == 0)
			return 1;
	return 0;
}

static int probe_http(struct health_probe *p, const struct health_check *c, unsigned timeout_ms, char *msg,
                      size_t cap)
{
	const struct healthcurl *api = p->api;
	CURL *h = p->curl;
	char ebuf[CURL_ERROR_SIZE];
	struct buf body;
	long status = 0;
	CURLcode cr;
	int bad = 0, rc = -1;

	buf_init(&body, BODY_KEEP + 1);
	ebuf[0] = '\0';
	if (h == NULL) { /* health_probe_init was told there was no http check */
		snprintf(msg, cap, "no libcurl handle for %s", c->url);
		goto out;
	}
	api->easy_reset(h);
	bad |= api->easy_setopt(h, CURLOPT_URL, c->url) != CURLE_OK;
	bad |= api->easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	bad |= api->easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
	bad |= api->easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
	bad |= api->easy_setopt(h, CURLOPT_PROXY, "") != CURLE_OK; /* never through a proxy */
	bad |= api->easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK;
	bad |= api->easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK;
	bad |= api->easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms) != CURLE_OK;
	bad |= api->easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms) != CURLE_OK;
	/* A fresh connection each time: the probe tests that the service accepts one. */
	bad |= api->easy_setopt(h, CURLOPT_FORBID_REUSE, 1L) != CURLE_OK;
	bad |= api->easy_setopt(h, CURLOPT_USERAGENT, "hoist-health/" HOIST_VERSION) != CURLE_OK;
	bad |= api->easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf) != CURLE_OK;
	bad |= api->easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK;
	bad |= api->easy_setopt(h, CURLOPT_WRITEDATA, &body) != CURLE_OK;
	if (bad) {
		snprintf(msg, cap, "cannot set up the request to %s", c->url);
		goto out;
	}
	cr = api->easy_perform(h);
	if (cr != CURLE_OK) {
		snprintf(msg, cap, "GET %s: %s", c->url, ebuf[0] ? ebuf : api->easy_strerror(cr));
		goto out;
	}
	(void)api->easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (status != c->expect_status) {
		snprintf(msg, cap, "GET %s answered %ld, expected %d", c->url, status, c->expect_status);
		goto out;
	}
	if (c->expect_body != NULL && !contains(body.data ? body.data : "", body.len, c->expect_body)) {
		snprintf(msg, cap, "GET %s answered %ld without '%.80s' in its body", c->url, status,
		         c->expect_body);
		goto out;
	}
	rc = 0;
out:
	buf_free(&body);
	return rc;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Connects to one address within the deadline: 0 connected, -1 (errno-like code in *e). */
static int connect_one(const struct addrinfo *ai, int64_t deadline, int *e)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	int rc = -1;
	if (fd < 0) {
		*e = errno;
		return -1;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
		rc = 0;
	} else if (errno != EINPROGRESS) {
		*e = errno;
	} else {
		for (;;) {
			struct pollfd pf = {.fd = fd, .events = POLLOUT};
			int64_t left = deadline - mono_ms();
			int r, so = 0;
			socklen_t sl = sizeof(so);
			if (left <= 0) {
				*e = ETIMEDOUT;
				break;
			}
			r = poll(&pf, 1, (int)(left > INT_MAX ? INT_MAX : left));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				*e = r == 0 ? ETIMEDOUT : errno;
				break;
			}
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &sl) != 0)
				so = errno;
			if (so == 0)
				rc = 0;
			else
				*e = so;
			break;
		}
	}
	close(fd);
	return rc;
}

static int probe_tcp(const struct health_check *c, unsigned timeout_ms, char *msg, size_t cap)
{
	struct addrinfo hints, *res = NULL;
	char port[8];
	int64_t deadline = mono_ms() + timeout_ms;
	int r, e = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%u", c->port);
	r = getaddrinfo(c->host, port, &hints, &res);
	if (r != 0) {
		snprintf(msg, cap, "%s: %s", c->host, gai_strerror(r));
		return -1;
	}
	r = -1;
	for (const struct addrinfo *ai = res; ai != NULL && r != 0; ai = ai->ai_next)
		r = connect_one(ai, deadline, &e);
	freeaddrinfo(res);
	if (r != 0)
		snprintf(msg, cap, "connect to %s port %u: %s", c->host, c->port,
		         e == ETIMEDOUT ? "timed out" : strerror(e));
	return r;
}

static int probe_command(struct health_probe *p, const struct health_check *c, unsigned timeout_ms, char *msg,
                         size_t cap)
{
	char path[PATH_MAX], desc[256];
	struct hook_result res;
	struct herr err;
	herr_clear(&err);
	if (c->argv[0][0] == '/')
		snprintf(path, sizeof(path), "%s", c->argv[0]);
	else if (fs_path_join(path, sizeof(path), p->tree, c->argv[0]) != 0) {
		snprintf(msg, cap, "path too long: %s", c->argv[0]);
		return -1;
	}
	{
		struct hook_run run = {.event = "HealthCheck",
		                       .script = path,
		                       .display = c->name,
		                       .cwd = p->tree,
		                       .envp = p->envp,
		                       .runas = c->runas,
		                       .timeout_s = (timeout_ms + 999) / 1000,
		                       .grace_s = p->grace_s,
		                       .argv = c->argv,
		                       .timeout_ms = timeout_ms,
		                       .on_spawn = p->on_spawn,
		                       .spawn_ctx = p->spawn_ctx};
		if (hook_run(&run, &res, &err) != 0) {
			snprintf(msg, cap, "%s", err.msg);
			return -1;
		}
	}
	if (res.outcome == HOOK_OK)
		return 0;
	if (res.outcome == HOOK_SETUP_FAILED) {
		snprintf(msg, cap, "%s", res.setup_error);
		return -1;
	}
	hook_outcome_describe(&res, desc, sizeof(desc));
	{
		/* the last line of its output says most about why */
		size_t n = strlen(res.tail);
		const char *last;
		while (n > 0 && res.tail[n - 1] == '\n')
			res.tail[--n] = '\0';
		last = strrchr(res.tail, '\n');
		last = last ? last + 1 : res.tail;
		snprintf(msg, cap, "%s %s%s%.120s", c->argv[0], desc, last[0] ? ": " : "", last);
	}
	return -1;
}

int health_probe_run(struct health_probe *p, const struct health_check *c, unsigned timeout_ms, char *msg,
                     size_t cap)
{
	if (timeout_ms == 0)
		timeout_ms = 1;
	switch (c->type) {
	case HEALTH_HTTP:
		return probe_http(p, c, timeout_ms, msg, cap);
	case HEALTH_TCP:
		return probe_tcp(c, timeout_ms, msg, cap);
	case HEALTH_COMMAND:
		return probe_command(p, c, timeout_ms, msg, cap);
	}
	snprintf(msg, cap, "unknown check type");
	return -1;
}
