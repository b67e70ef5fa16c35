/* test_bootio.c - pure parts of the stub's I/O modules: S3 URL building,
 * deadline/backoff arithmetic, digest sources (checksum header, sidecar),
 * Content-Range, S3 error codes, header lookup, progress formatting, and
 * the names and facts of a kept download (in a private temp directory). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "digest.h"
#include "exitcodes.h"
#include "http.h"
#include "partial.h"
#include "progress.h"
#include "retry.h"
#include "s3.h"

static void test_url_path_style(void **state)
{
	struct s3_target t;
	struct herr e = {0, ""};
	(void)state;
	assert_int_equal(
	    s3_build_target("http://127.0.0.1:9000/", "us-east-1", "bkt", "rel/app 1+2=3~ü.tar.gz", &t, &e),
	    0);
	assert_string_equal(t.host, "127.0.0.1:9000");
	/* encoded exactly once: space %20, + %2B, = %3D, ~ kept, UTF-8 per byte */
	assert_string_equal(t.path, "/bkt/rel/app%201%2B2%3D3~%C3%BC.tar.gz");
	assert_string_equal(t.url, "http://127.0.0.1:9000/bkt/rel/app%201%2B2%3D3~%C3%BC.tar.gz");
	/* an already-encoded-looking key is encoded again (it is the decoded form) */
	assert_int_equal(s3_build_target("https://s3.local", "r", "b", "a%20b", &t, &e), 0);
	assert_string_equal(t.path, "/b/a%2520b");
	/* endpoint with a path prefix */
	assert_int_equal(s3_build_target("https://h.example/s3/", "r", "b", "k", &t, &e), 0);
	assert_string_equal(t.url, "https://h.example/s3/b/k");
	assert_string_equal(t.host, "h.example");
}

static void test_url_aws(void **state)
{
	struct s3_target t;
	struct herr e = {0, ""};
	(void)state;
	assert_int_equal(s3_build_target("", "eu-west-1", "my-bucket", "a/b c", &t, &e), 0);
	assert_string_equal(t.url, "https://my-bucket.s3.eu-west-1.amazonaws.com/a/b%20c");
	assert_string_equal(t.host, "my-bucket.s3.eu-west-1.amazonaws.com");
	assert_string_equal(t.path, "/a/b%20c");
	/* a dotted bucket cannot be covered by the TLS wildcard: path-style */
	assert_int_equal(s3_build_target(NULL, "eu-west-1", "my.bucket", "k", &t, &e), 0);
	assert_string_equal(t.url, "https://s3.eu-west-1.amazonaws.com/my.bucket/k");
}

static void test_url_rejects(void **state)
{
	struct s3_target t;
	struct herr e = {0, ""};
	(void)state;
	assert_int_equal(s3_build_target("ftp://x", "r", "b", "k", &t, &e), -1);
	assert_int_equal(e.code, HOIST_EXIT_CONFIG);
	assert_non_null(strstr(e.msg, "must start with http"));
	assert_int_equal(s3_build_target("http://user@x", "r", "b", "k", &t, &e), -1);
	assert_int_equal(s3_build_target("", "", "b", "k", &t, &e), -1);
	assert_non_null(strstr(e.msg, "region"));
	assert_int_equal(s3_build_target("", "us-east-1", "b/x", "k", &t, &e), -1);
	assert_int_equal(e.code, HOIST_EXIT_DIRECTIVE);
	assert_int_equal(s3_build_target("http://x", "r", "b", "", &t, &e), -1);
}

static void test_backoff_and_deadline(void **state)
{
	(void)state;
	assert_int_equal(retry_remaining_ms(100, 250), 150);
	assert_int_equal(retry_remaining_ms(300, 250), 0);
	assert_int_equal(retry_remaining_ms(250, 250), 0);
	/* step doubles from base, capped; result within [step/2, step] */
	for (unsigned a = 0; a < 12; a++) {
		unsigned step = 100u << (a < 5 ? a : 5);
		if (step > 2000)
			step = 2000;
		assert_int_equal(retry_backoff_ms(a, 100, 2000, 0), step - step / 2);
		assert_int_equal(retry_backoff_ms(a, 100, 2000, step / 2), step);
		assert_true(retry_backoff_ms(a, 100, 2000, 0xffffffffu) <= step);
		assert_true(retry_backoff_ms(a, 100, 2000, 0xffffffffu) >= step / 2);
	}
	assert_int_equal(retry_backoff_ms(1000, 100, 2000, 0), 1000); /* no overflow */
	assert_int_equal(retry_request_timeout_ms(1000, 5000), 1000);
	assert_int_equal(retry_request_timeout_ms(1000, 300), 300);
	assert_int_equal(retry_request_timeout_ms(1000, 0), 0);
	assert_int_equal(retry_should_retry(1, 6, 5000, 200, 50), 1);
	assert_int_equal(retry_should_retry(6, 6, 5000, 200, 50), 0); /* attempts used up */
	assert_int_equal(retry_should_retry(1, 6, 240, 200, 50), 0);  /* deadline too close */
	assert_int_equal(retry_should_retry(1, 6, 250, 200, 50), 1);
}

static void test_checksum_header(void **state)
{
	uint8_t d[32], want[32];
	(void)state;
	/* sha256("") */
	assert_int_equal(
	    hex_decode("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", want, 32), 0);
	assert_int_equal(s3_checksum_header("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", d), 1);
	assert_memory_equal(d, want, 32);
	/* multipart composite: not a whole-object digest */
	assert_int_equal(s3_checksum_header("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=-3", d), 0);
	assert_int_equal(s3_checksum_header("abc-", d), -1);
	assert_int_equal(s3_checksum_header("abc-x", d), -1);
	assert_int_equal(s3_checksum_header("not base64!", d), -1);
	assert_int_equal(s3_checksum_header("AAAA", d), -1); /* wrong length */
	assert_int_equal(s3_checksum_header("", d), -1);
}

static void test_sidecar(void **state)
{
	static const char h[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
	uint8_t d[32], want[32];
	(void)state;
	assert_int_equal(hex_decode(h, want, 32), 0);
	assert_int_equal(s3_parse_sidecar(h, 64, d), 0);
	assert_memory_equal(d, want, 32);
	assert_int_equal(s3_parse_sidecar(h, 64, d), 0);
	assert_int_equal(
	    s3_parse_sidecar("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n", 65, d), 0);
	assert_int_equal(
	    s3_parse_sidecar("E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855  app.tar.gz\n",
	                     77, d),
	    0);
	assert_memory_equal(d, want, 32);
	assert_int_equal(
	    s3_parse_sidecar("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 *app.tgz", 73,
	                     d),
	    0);
	/* too short, trailing junk glued on, non-hex, empty */
	assert_int_equal(s3_parse_sidecar(h, 63, d), -1);
	assert_int_equal(
	    s3_parse_sidecar("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8550", 65, d), -1);
	assert_int_equal(
	    s3_parse_sidecar("g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 64, d), -1);
	assert_int_equal(s3_parse_sidecar("", 0, d), -1);
}

static void test_content_range(void **state)
{
	uint64_t s, e, t;
	(void)state;
	assert_int_equal(s3_parse_content_range("bytes 100-199/200", &s, &e, &t), 0);
	assert_true(s == 100 && e == 199 && t == 200);
	assert_int_equal(s3_parse_content_range("bytes 0-0/*", &s, &e, &t), 0);
	assert_true(t == UINT64_MAX);
	assert_int_equal(s3_parse_content_range("bytes 5-4/10", &s, &e, &t), -1);
	assert_int_equal(s3_parse_content_range("bytes 0-10/10", &s, &e, &t), -1);
	assert_int_equal(s3_parse_content_range("bytes */10", &s, &e, &t), -1);
	assert_int_equal(s3_parse_content_range("items 0-1/2", &s, &e, &t), -1);
	assert_int_equal(s3_parse_content_range("bytes 0-1/2x", &s, &e, &t), -1);
	assert_int_equal(s3_parse_content_range("bytes 99999999999999999999-1/2", &s, &e, &t), -1);
}

static void test_error_code(void **state)
{
	static const char xml[] = "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code>"
	                          "<Message>The specified key does not exist.</Message></Error>";
	char c[32];
	(void)state;
	assert_int_equal(s3_error_code(xml, sizeof(xml) - 1, c, sizeof(c)), 1);
	assert_string_equal(c, "NoSuchKey");
	assert_int_equal(s3_error_code("<Code>Slow Down</Code>", 22, c, sizeof(c)), 0);
	assert_int_equal(s3_error_code("<Code>SlowDown", 14, c, sizeof(c)), 0);
	assert_int_equal(s3_error_code("<Code>AccessDenied</Code>", 25, c, 8), 0); /* too long */
	/* bounded: a </Code> past len is not seen */
	assert_int_equal(s3_error_code("<Code>AccessDenied</Code>", 20, c, sizeof(c)), 0);
	assert_int_equal(s3_error_code(NULL, 0, c, sizeof(c)), 0);
}

static void test_header_get(void **state)
{
	static const char blk[] = "HTTP/1.1 200 OK\r\nETag: \"abc\"\r\ncontent-length:  42 \r\n"
	                          "x-amz-checksum-sha256: Zm9v\r\n\r\n";
	char v[16];
	(void)state;
	assert_int_equal(http_header_get(blk, sizeof(blk) - 1, "etag", v, sizeof(v)), 1);
	assert_string_equal(v, "\"abc\"");
	assert_int_equal(http_header_get(blk, sizeof(blk) - 1, "Content-Length", v, sizeof(v)), 1);
	assert_string_equal(v, "42");
	assert_int_equal(http_header_get(blk, sizeof(blk) - 1, "Content-Range", v, sizeof(v)), 0);
	assert_int_equal(http_header_get(blk, sizeof(blk) - 1, "x-amz-checksum-sha256", v, 4), -1);
	assert_int_equal(http_header_get(blk, sizeof(blk) - 1, "ETa", v, sizeof(v)), 0);
}

static void test_progress_format(void **state)
{
	char out[128];
	(void)state;
	progress_bytes(512, out, sizeof(out));
	assert_string_equal(out, "512 B");
	progress_bytes(12897485, out, sizeof(out));
	assert_string_equal(out, "12.3 MiB");
	progress_format(out, sizeof(out), 64u << 20, 256u << 20, 1000);
	assert_string_equal(out, "64.0 MiB of 256.0 MiB, 64.0 MiB/s, 3 s left");
	progress_format(out, sizeof(out), 1u << 20, 0, 2000);
	assert_string_equal(out, "1.0 MiB, 512.0 KiB/s");
	progress_format(out, sizeof(out), 0, 100, 0);
	assert_string_equal(out, "0 B of 100 B");
}

/* The kept download's names and facts: one per object, read back only for
 * the same bucket and key, other objects' partials pruned. */
static void test_partial(void **state)
{
	char dir[] = "/tmp/hoist-partial-XXXXXX";
	struct partial a, b, a2;
	struct partial_meta m = {"\"0123abcd\"", 400000, "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="}, got;
	struct herr e = {0, ""};
	FILE *f;
	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(partial_names(dir, "bkt", "rel/app.tgz", &a), 0);
	assert_int_equal(partial_names(dir, "bkt", "rel/app.tgz", &a2), 0);
	assert_int_equal(partial_names(dir, "bkt", "rel/app2.tgz", &b), 0);
	assert_string_equal(a.data, a2.data); /* stable across runs */
	assert_string_not_equal(a.data, b.data);
	assert_int_equal(strlen(a.id), 32);
	assert_int_equal(partial_load(&a, "bkt", "rel/app.tgz", &got), -1); /* nothing kept yet */
	assert_int_equal(partial_save(&a, "bkt", "rel/app.tgz", &m, &e), 0);
	assert_int_equal(partial_load(&a, "bkt", "rel/app.tgz", &got), 0);
	assert_string_equal(got.etag, m.etag);
	assert_true(got.total == 400000);
	assert_string_equal(got.checksum, m.checksum);
	/* the same names for another key (or bucket) never resume: the meta says whose it is */
	assert_int_equal(partial_load(&a, "bkt", "rel/other.tgz", &got), -1);
	assert_int_equal(partial_load(&a, "bkt2", "rel/app.tgz", &got), -1);
	/* one kept download at a time: another object's files go */
	f = fopen(a.data, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(partial_save(&b, "bkt", "rel/app2.tgz", &m, &e), 0);
	partial_prune(dir, &b, PARTIAL_MAX_AGE_S);
	assert_int_equal(access(a.data, F_OK), -1);
	assert_int_equal(access(a.meta, F_OK), -1);
	assert_int_equal(access(b.meta, F_OK), 0);
	/* and this object's own when too old to trust */
	f = fopen(b.data, "w");
	assert_non_null(f);
	fclose(f);
	{
		struct timespec old[2] = {{time(NULL) - 2 * PARTIAL_MAX_AGE_S, 0},
		                          {time(NULL) - 2 * PARTIAL_MAX_AGE_S, 0}};
		assert_int_equal(utimensat(AT_FDCWD, b.data, old, 0), 0);
	}
	partial_prune(dir, &b, PARTIAL_MAX_AGE_S);
	assert_int_equal(access(b.data, F_OK), -1);
	assert_int_equal(access(b.meta, F_OK), -1);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_url_path_style),  cmocka_unit_test(test_url_aws),
	    cmocka_unit_test(test_url_rejects),     cmocka_unit_test(test_backoff_and_deadline),
	    cmocka_unit_test(test_checksum_header), cmocka_unit_test(test_sidecar),
	    cmocka_unit_test(test_content_range),   cmocka_unit_test(test_error_code),
	    cmocka_unit_test(test_header_get),      cmocka_unit_test(test_progress_format),
	    cmocka_unit_test(test_partial),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
