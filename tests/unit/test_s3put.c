/* test_s3put.c - the pure parts of agent/net/s3put.c: part sizes for
 * files past 2^31, 2^32 and S3's 10000-part limit, and the UploadId of a
 * CreateMultipartUpload answer (hostile ones refused). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "s3put.h"

#define MIB (1024ULL * 1024)
#define GIB (1024 * MIB)

static void test_part_size(void **state)
{
	(void)state;
	assert_int_equal(s3_part_size(4 * GIB, 0), S3_PUT_DEFAULT_PART);
	assert_int_equal(s3_part_size(4 * GIB, 1), S3_PUT_MIN_PART);           /* S3's minimum */
	assert_int_equal(s3_part_size(3 * GIB, 8 * MIB), 8 * MIB);
	/* 1 TiB in 64 MiB parts would be 16384 parts: grown to whole MiB, <= 10000 parts */
	uint64_t tib = 1024 * GIB;
	uint64_t p = s3_part_size(tib, 0);
	assert_true(p % MIB == 0);
	assert_true((tib + p - 1) / p <= S3_PUT_MAX_PARTS);
	assert_true(p > S3_PUT_DEFAULT_PART);
	/* exactly at the limit */
	p = s3_part_size(10000 * 5 * MIB, 5 * MIB);
	assert_true((10000 * 5 * MIB + p - 1) / p <= S3_PUT_MAX_PARTS);
}

static void test_upload_id(void **state)
{
	char id[64];
	const char *ok = "<?xml version=\"1.0\"?><InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
	                 "<UploadId>VXBsb2FkIElE.-_~/+=</UploadId></InitiateMultipartUploadResult>";
	(void)state;
	assert_int_equal(s3_parse_upload_id(ok, strlen(ok), id, sizeof(id)), 0);
	assert_string_equal(id, "VXBsb2FkIElE.-_~/+=");
	static const char *bad[] = {
	    "<UploadId></UploadId>",                 /* empty */
	    "<UploadId>abc",                         /* unterminated */
	    "<UploadId>a&amp;b</UploadId>",          /* characters outside the set */
	    "<UploadId>a b</UploadId>",
	    "<Upload>abc</Upload>",
	    "<UploadId>0123456789012345678901234567890123456789012345678901234567890123456789</UploadId>",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (s3_parse_upload_id(bad[i], strlen(bad[i]), id, sizeof(id)) == 0)
			fail_msg("accepted %s", bad[i]);
	/* a bounded search: the length given is respected */
	assert_int_equal(s3_parse_upload_id(ok, 20, id, sizeof(id)), -1);
	assert_int_equal(s3_parse_upload_id(NULL, 0, id, sizeof(id)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_part_size),
	    cmocka_unit_test(test_upload_id),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
