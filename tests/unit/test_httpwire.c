/* test_httpwire.c - what the HTTP client puts on the wire, read by a one-shot
 * server on 127.0.0.1 (a forked child): the request line of an S3 GET keeps
 * the key's "." and ".." segments exactly, in path style (through the signed
 * s3_request) and in virtual-host style (the AWS target's path, sent to
 * BUCKET.localhost, which libcurl resolves to the loopback itself). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "http.h"
#include "s3.h"
#include "s3client.h"

/* A server that answers one request with 404 and reports its request line. */
struct oneshot {
	pid_t pid;
	int port;
	int report; /* read end: the request line the server received */
};

/* Child: accepts one connection, sends the request line up the pipe. */
static void serve_one(int lfd, int wfd)
{
	char req[8192];
	size_t n = 0;
	int c = accept(lfd, NULL, NULL);
	if (c < 0)
		_exit(1);
	while (n < sizeof(req) - 1) {
		ssize_t r = read(c, req + n, sizeof(req) - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		req[n] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL)
			break;
	}
	req[n] = '\0';
	size_t line = strcspn(req, "\r\n");
	if (write(wfd, req, line) != (ssize_t)line)
		_exit(1);
	static const char resp[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
	if (write(c, resp, sizeof(resp) - 1) < 0)
		_exit(1);
	close(c);
	_exit(0);
}

static void oneshot_start(struct oneshot *s)
{
	struct sockaddr_in a = {0};
	socklen_t al = sizeof(a);
	int p[2];
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &al), 0);
	s->port = ntohs(a.sin_port);
	assert_int_equal(pipe(p), 0);
	s->pid = fork();
	assert_true(s->pid >= 0);
	if (s->pid == 0) {
		close(p[0]);
		serve_one(lfd, p[1]);
	}
	close(lfd);
	close(p[1]);
	s->report = p[0];
}

/* The request line the server received (after the client is done). */
static void oneshot_line(struct oneshot *s, char *out, size_t outsz)
{
	size_t n = 0;
	ssize_t r;
	int st = 0;
	while (n < outsz - 1 && (r = read(s->report, out + n, outsz - 1 - n)) > 0)
		n += (size_t)r;
	out[n] = '\0';
	close(s->report);
	assert_int_equal(waitpid(s->pid, &st, 0), s->pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static int static_creds(void *ud, const struct credentials **out, struct herr *err)
{
	(void)err;
	*out = ud;
	return 0;
}

/* Keys whose dot segments RFC 3986 would squash; each must arrive unchanged. */
static const char *const DOT_KEYS[] = {
    "bundles/../../other/x.tgz", "a/./b.tgz", "../up.tgz", "./here.tgz", "dir/..", "dir/.",
    "a/b/../../../../x",         "..",        "a//../b",
};

static void test_path_style_keeps_dot_segments(void **state)
{
	struct http_opts ho = {NULL, 5000, 0};
	struct herr err = {0, ""};
	char akid[] = "AKIDEXAMPLE", secret[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
	struct credentials cr = {akid, secret, NULL, 0};
	char ep[64], line[8192], want[8192];
	(void)state;
	for (size_t i = 0; i < sizeof(DOT_KEYS) / sizeof(DOT_KEYS[0]); i++) {
		struct oneshot s;
		struct http *h;
		struct http_response resp;
		struct s3client c;
		oneshot_start(&s);
		(void)snprintf(ep, sizeof(ep), "http://127.0.0.1:%d", s.port);
		h = http_new(&ho, &err);
		assert_non_null(h);
		c = (struct s3client){
		    .http = h, .endpoint = ep, .region = "us-east-1", .creds = static_creds, .creds_ud = &cr};
		http_response_init(&resp);
		assert_int_equal(s3_request(&c, "GET", "hoist-releases", DOT_KEYS[i], NULL, 0, 5000, NULL,
		                            NULL, &resp, &err),
		                 0);
		assert_int_equal(resp.status, 404);
		http_response_free(&resp);
		http_free(h);
		oneshot_line(&s, line, sizeof(line));
		(void)snprintf(want, sizeof(want), "GET /hoist-releases/%s HTTP/1.1", DOT_KEYS[i]);
		assert_string_equal(line, want);
	}
}

static void test_virtual_host_keeps_dot_segments(void **state)
{
	struct http_opts ho = {NULL, 5000, 0};
	struct herr err = {0, ""};
	struct s3_target t;
	char url[S3_URL_MAX + 64], line[8192], want[8192];
	(void)state;
	for (size_t i = 0; i < sizeof(DOT_KEYS) / sizeof(DOT_KEYS[0]); i++) {
		struct oneshot s;
		struct http *h;
		struct http_response resp;
		struct http_request req = {0};
		/* the AWS target: virtual-host style, the key alone in the path */
		assert_int_equal(s3_build_target("", "us-east-1", "hoist-releases", DOT_KEYS[i], &t, &err),
		                 0);
		assert_string_equal(t.host, "hoist-releases.s3.us-east-1.amazonaws.com");
		oneshot_start(&s);
		(void)snprintf(url, sizeof(url), "http://hoist-releases.localhost:%d%s", s.port, t.path);
		h = http_new(&ho, &err);
		assert_non_null(h);
		http_response_init(&resp);
		req.method = "GET";
		req.url = url;
		req.timeout_ms = 5000;
		assert_int_equal(http_do(h, &req, &resp, &err), 0);
		assert_int_equal(resp.status, 404);
		http_response_free(&resp);
		http_free(h);
		oneshot_line(&s, line, sizeof(line));
		(void)snprintf(want, sizeof(want), "GET /%s HTTP/1.1", DOT_KEYS[i]);
		assert_string_equal(line, want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_path_style_keeps_dot_segments),
	    cmocka_unit_test(test_virtual_host_keeps_dot_segments),
	};
	(void)signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
