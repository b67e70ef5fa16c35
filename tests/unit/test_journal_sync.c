/* test_journal_sync.c - the journal's batched durability: no file until the
 * first step begins (then header and line at once), and every line on disk
 * in order whichever of them were fdatasync'd (docs/performance.md). */
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
#include "fsutil.h"
#include "herr.h"
#include "journal.h"

static const struct journal_info H = {
    .id = "d-1", .kind = "deploy", .version = "v2", .installed = "v1", .last_good = "v1"};

static void test_no_file_until_a_step_begins(void **state)
{
	char dir[] = "/tmp/hoist-test-jsync-XXXXXX", path[256];
	struct journal *jr = NULL;
	struct journal_info j;
	struct herr e = {0};
	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/journal", dir);
	assert_int_equal(journal_create(path, &H, &jr, &e), 0);
	/* nothing to recover from yet: no file (it would only be discarded) */
	assert_int_equal(fs_exists(path), 0);
	assert_int_equal(journal_close(jr, true, &e), 0);
	assert_int_equal(fs_exists(path), 0);
	/* the first begin writes the header with it */
	assert_int_equal(journal_create(path, &H, &jr, &e), 0);
	assert_int_equal(journal_begin(jr, "ApplicationStop", &e), 0);
	assert_int_equal(journal_read(path, &j, &e), 0);
	assert_string_equal(j.id, "d-1");
	assert_string_equal(j.installed, "v1");
	assert_true(j.host_touched);
	assert_false(j.install_begun);
	assert_string_equal(j.last_step, "ApplicationStop");
	/* closed without removal (interrupted): the file stays for recovery */
	assert_int_equal(journal_close(jr, false, &e), 0);
	assert_int_equal(fs_exists(path), 1);
	assert_int_equal(unlink(path), 0);
	rmdir(dir);
}

static void test_lines_in_order_synced_or_not(void **state)
{
	char dir[] = "/tmp/hoist-test-jsync-XXXXXX", path[256];
	static const char *const ev[] = {"ApplicationStop", "BeforeInstall",    "Install",
	                                 "AfterInstall",    "ApplicationStart", "ValidateService"};
	struct journal *jr = NULL;
	struct journal_info j;
	struct herr e = {0};
	struct buf b;
	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/journal", dir);
	assert_int_equal(journal_create(path, &H, &jr, &e), 0);
	for (size_t i = 0; i < sizeof(ev) / sizeof(ev[0]); i++) {
		assert_int_equal(journal_begin(jr, ev[i], &e), 0);
		assert_int_equal(journal_end(jr, ev[i], true, &e), 0);
	}
	assert_int_equal(journal_read(path, &j, &e), 0);
	assert_true(j.install_begun && j.install_ended);
	assert_string_equal(j.last_step, "ValidateService");
	buf_init(&b, 1 << 16);
	assert_int_equal(fs_read_file(path, 1 << 16, 0, &b, &e), 0);
	assert_non_null(strstr(b.data, "begin Install "));
	assert_true(strstr(b.data, "begin Install ") < strstr(b.data, "begin AfterInstall "));
	buf_free(&b);
	assert_int_equal(journal_close(jr, true, &e), 0);
	assert_int_equal(fs_exists(path), 0);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_no_file_until_a_step_begins),
	    cmocka_unit_test(test_lines_in_order_synced_or_not),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
