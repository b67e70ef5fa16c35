/* test_core.c - core helpers: bounded buffers, records, paths, digests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "digest.h"
#include "exitcodes.h"
#include "fsutil.h"
#include "herr.h"
#include "log.h"
#include "record.h"

static void test_buf_refuses_past_max(void **state)
{
	struct buf b;
	(void)state;
	buf_init(&b, 8);
	assert_int_equal(buf_append_str(&b, "12345678"), 0);
	assert_int_equal(buf_append_str(&b, "9"), -1);
	assert_int_equal(b.len, 8);
	assert_string_equal(b.data, "12345678");
	buf_free(&b);
}

static void test_buf_printf_grows(void **state)
{
	struct buf b;
	(void)state;
	buf_init(&b, 1 << 20);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(buf_printf(&b, "%04d", i), 0);
	assert_int_equal(b.len, 4000);
	assert_memory_equal(b.data + 3996, "0999", 4);
	buf_free(&b);
}

static void test_record_round_trip_and_torn(void **state)
{
	struct record r;
	struct herr e = {0};
	(void)state;
	record_init(&r);
	assert_int_equal(record_parse("version=1.2\nsha256=ab\n", 22, &r, &e), 0);
	assert_string_equal(record_get(&r, "version"), "1.2");
	assert_null(record_get(&r, "missing"));
	record_free(&r);
	/* a torn last line (crash during a non-atomic write) is refused */
	assert_int_equal(record_parse("version=1\nsha", 13, &r, &e), -1);
	assert_non_null(strstr(e.msg, "line 2"));
	record_free(&r);
	assert_int_equal(record_set(&r, "Bad-Key", "x"), -1);
	assert_int_equal(record_set(&r, "k", "two\nlines"), -1);
	record_free(&r);
}

static void test_record_write_read(void **state)
{
	char dir[] = "/tmp/hoist-core-XXXXXX";
	char path[256];
	struct record r, back;
	struct herr e = {0};
	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/current", dir);
	record_init(&r);
	record_init(&back);
	assert_int_equal(record_read(path, &back, &e), 1);
	assert_int_equal(record_set(&r, "version", "7"), 0);
	assert_int_equal(record_write(path, &r, &e), 0);
	assert_int_equal(record_read(path, &back, &e), 0);
	assert_string_equal(record_get(&back, "version"), "7");
	record_free(&r);
	record_free(&back);
	assert_int_equal(fs_rm_rf(dir, &e), 0);
	assert_int_equal(fs_exists(dir), 0);
}

static void test_paths(void **state)
{
	char out[32];
	(void)state;
	assert_int_equal(fs_path_join(out, sizeof(out), "/a/", "/b"), 0);
	assert_string_equal(out, "/a/b");
	assert_int_equal(fs_path_join(out, sizeof(out), "/", "b"), 0);
	assert_string_equal(out, "/b");
	assert_int_equal(fs_rooted(out, sizeof(out), "", "/etc/x"), 0);
	assert_string_equal(out, "/etc/x");
	assert_int_equal(fs_rooted(out, sizeof(out), "/tmp/r", "/etc/x"), 0);
	assert_string_equal(out, "/tmp/r/etc/x");
	assert_int_equal(fs_rooted(out, sizeof(out), "/tmp/r", "etc/x"), -1);
	assert_int_equal(fs_path_join(out, 8, "/abcdef", "ghijkl"), -1);
}

static void test_digest_vectors(void **state)
{
	uint8_t d[SHA256_LEN], back[SHA256_LEN];
	char hex[SHA256_HEX_LEN + 1];
	uint8_t raw[8];
	(void)state;
	assert_int_equal(sha256_buf("abc", 3, d), 0);
	hex_encode(d, sizeof(d), hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(hex_decode(hex, back, sizeof(back)), 0);
	assert_true(digest_equal(d, back, sizeof(d)));
	back[31] ^= 1;
	assert_false(digest_equal(d, back, sizeof(d)));
	assert_int_equal(hex_decode("zz", raw, 1), -1);
	assert_int_equal(base64_decode("aGk=", 4, raw, sizeof(raw)), 2);
	assert_memory_equal(raw, "hi", 2);
	assert_int_equal(base64_decode("aGk", 3, raw, sizeof(raw)), -1);
	assert_int_equal(base64_decode("a=Gk", 4, raw, sizeof(raw)), -1);
	assert_int_equal(base64_decode("aGVsbG8gd29ybGQ=", 16, raw, sizeof(raw)), -1); /* too long for out */
}

/* The streaming API against FIPS 180-2 vectors: split updates, reset and reuse, empty input. */
static void test_digest_streaming(void **state)
{
	static const char *const msg = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	uint8_t d[SHA256_LEN];
	char hex[SHA256_HEX_LEN + 1];
	struct sha256_ctx *c = sha256_new();
	(void)state;
	assert_non_null(c);
	for (size_t i = 0; i < strlen(msg); i += 5)
		assert_int_equal(sha256_update(c, msg + i, strlen(msg) - i < 5 ? strlen(msg) - i : 5), 0);
	assert_int_equal(sha256_final(c, d), 0);
	hex_encode(d, sizeof(d), hex);
	assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	assert_int_equal(sha256_reset(c), 0);
	assert_int_equal(sha256_final(c, d), 0);
	hex_encode(d, sizeof(d), hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha256_free(c);
	assert_int_equal(sha256_buf("", 0, d), 0);
	hex_encode(d, sizeof(d), hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_herr_formats(void **state)
{
	struct herr e = {0};
	char big[3000];
	(void)state;
	assert_int_equal(herr_set(&e, HOIST_EXIT_CONFIG, "line %d: bad", 3), -1);
	herr_prefix(&e, "%s", "/etc/hoist/hoist.conf");
	assert_string_equal(e.msg, "/etc/hoist/hoist.conf: line 3: bad");
	assert_int_equal(e.code, HOIST_EXIT_CONFIG);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	herr_set(&e, HOIST_EXIT_IO, "%s", big);
	assert_int_equal(strlen(e.msg), HERR_MSG_MAX - 1);
	assert_string_equal(e.msg + HERR_MSG_MAX - 4, "...");
	assert_string_equal(hoist_exit_name(HOIST_EXIT_TEMPFAIL), "tempfail");
}

/* issue 9 item 9, the class: a message quoting a name with a newline or an
 * escape sequence stays one log line, whoever formatted it. */
static void test_log_escapes_controls(void **state)
{
	char out[64], path[] = "/tmp/hoist-test-log-XXXXXX", text[512] = {0};
	int fd;
	ssize_t n;
	(void)state;
	assert_string_equal(log_escape_controls("a\nb\x1b[31m\tc\x7f\xc3\xa9", out, sizeof(out)),
	                    "a\\x0ab\\x1b[31m\tc\\x7f\xc3\xa9");
	assert_string_equal(log_escape_controls("\n\n\n", out, 9), "\\x0a\\x0a"); /* never a cut escape */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	log_set_stderr(0);
	log_set_file(fd);
	log_warnx("cannot install %s", "/srv/a\nhoist: [Install] forged line");
	log_set_file(-1);
	n = pread(fd, text, sizeof(text) - 1, 0);
	close(fd);
	unlink(path);
	assert_true(n > 0);
	assert_non_null(strstr(text, "cannot install /srv/a\\x0ahoist: [Install] forged line\n"));
	assert_ptr_equal(strchr(text, '\n'), text + n - 1); /* one line */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_log_escapes_controls),
		cmocka_unit_test(test_digest_streaming),
		cmocka_unit_test(test_buf_refuses_past_max),
		cmocka_unit_test(test_buf_printf_grows),
		cmocka_unit_test(test_record_round_trip_and_torn),
		cmocka_unit_test(test_record_write_read),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_digest_vectors),
		cmocka_unit_test(test_herr_formats),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
