/* test_bigsizes.c - sizes and offsets past 2^31 and 2^32 in the pure code of
 * the download and the extraction: Content-Range of a resumed 4 GiB+ GET,
 * progress text, the decompression cap. (The whole path, with a 4,700 MiB
 * sparse bundle, is e2e/test_agent_4gib; the stub's full 4 GiB+ download is in
 * bench/boot-download.sh with BENCH_BIG_MIB.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "bundle.h"
#include "progress.h"
#include "s3.h"

#define GIB ((uint64_t)1 << 30)

static void test_content_range_past_2_32(void **state)
{
	uint64_t s, e, t;
	(void)state;
	/* a resume at 4 GiB + 1 of a 4,700 MiB object */
	assert_int_equal(s3_parse_content_range("bytes 4294967297-4928307199/4928307200", &s, &e, &t), 0);
	assert_true(s == 4294967297ULL && e == 4928307199ULL && t == 4928307200ULL);
	/* across 2^31 */
	assert_int_equal(s3_parse_content_range("bytes 2147483647-2147483648/2147483649", &s, &e, &t), 0);
	assert_true(s == 2147483647ULL && e == 2147483648ULL && t == 2147483649ULL);
	/* the largest S3 object (5 TiB) and a value past 2^64 */
	assert_int_equal(s3_parse_content_range("bytes 0-5497558138879/5497558138880", &s, &e, &t), 0);
	assert_true(t == 5497558138880ULL);
	assert_int_equal(s3_parse_content_range("bytes 0-1/18446744073709551616", &s, &e, &t), -1);
	assert_int_equal(s3_parse_content_range("bytes 4294967296-4294967295/4294967297", &s, &e, &t), -1);
}

static void test_progress_past_2_32(void **state)
{
	char out[128];
	(void)state;
	progress_bytes(4700 * (uint64_t)1 << 20, out, sizeof(out));
	assert_string_equal(out, "4.6 GiB");
	progress_format(out, sizeof(out), 4 * GIB + 1, 4700 * (uint64_t)1 << 20, 10000);
	assert_non_null(strstr(out, "4.0 GiB of 4.6 GiB"));
}

static void test_extract_cap_past_2_32(void **state)
{
	struct bundle_limits l;
	(void)state;
	bundle_limits_default(&l);
	/* 8 GiB default cap; a 5 GiB archive may extract to all of it */
	assert_true(bundle_extract_cap(&l, 5 * GIB) == 8 * GIB);
	/* a 50 MiB archive: 100 x 50 MiB = 4.88 GiB, past 2^32 */
	assert_true(bundle_extract_cap(&l, 50 * ((uint64_t)1 << 20)) == 5000 * ((uint64_t)1 << 20));
	/* ratio x size never wraps */
	l.max_total_bytes = UINT64_MAX;
	assert_true(bundle_extract_cap(&l, UINT64_MAX / 2) == UINT64_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_content_range_past_2_32),
	    cmocka_unit_test(test_progress_past_2_32),
	    cmocka_unit_test(test_extract_cap_past_2_32),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
