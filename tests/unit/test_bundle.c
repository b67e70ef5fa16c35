/* test_bundle.c - bundle_stage on archives the test builds with libarchive's
 * writer: good tar.gz, zip and plain tar; hostile ones refused with the entry
 * named and nothing written outside staging; bombs; damaged input; wrapper
 * lifting; directory bundles; blocks of zeros left as holes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <spawn.h>
#include <unistd.h>

#include "bundle.h"
#include "exitcodes.h"
#include "fsutil.h"
#include "herr.h"
#include "log.h"

enum fmt { F_PAX_GZ, F_ZIP, F_TAR, F_GNUTAR_XZ };

/* One entry for the archive writer. */
struct ent {
	const char *path;
	mode_t type;          /* AE_IFREG (0 = regular), AE_IFDIR, AE_IFLNK, AE_IFCHR, AE_IFIFO */
	mode_t mode;          /* permission bits; 0 = 0644 / 0755 */
	const char *data;     /* regular file content */
	const char *link;     /* symlink target */
	const char *hardlink; /* hard link target */
	int64_t zeros;        /* >0: regular file of that many zero bytes */
};

struct fix {
	char base[64];
	char stage[128];
	char outside[128];  /* sentinel directory beside staging: must stay empty */
	char bundle[128];
};

static struct fix F;

static void write_bundle(const void *data, size_t n);
static char *read_bundle(size_t *n);

static int setup(void **state)
{
	(void)state;
	snprintf(F.base, sizeof(F.base), "/tmp/hoist-test-bundle-XXXXXX");
	assert_non_null(mkdtemp(F.base));
	snprintf(F.stage, sizeof(F.stage), "%s/stage", F.base);
	snprintf(F.outside, sizeof(F.outside), "%s/outside", F.base);
	snprintf(F.bundle, sizeof(F.bundle), "%s/bundle.bin", F.base);
	assert_int_equal(mkdir(F.outside, 0755), 0);
	return 0;
}

static int teardown(void **state)
{
	struct herr e = {0};
	(void)state;
	assert_int_equal(fs_rm_rf(F.base, &e), 0);
	return 0;
}

/* Writes ents into path in the given format. */
static void build(const char *path, enum fmt f, const struct ent *ents, size_t n)
{
	static char zeros[65536];
	struct archive *a = archive_write_new();
	assert_non_null(a);
	switch (f) {
	case F_PAX_GZ:
		assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
		assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
		assert_int_equal(archive_write_set_filter_option(a, "gzip", "compression-level", "1"),
				 ARCHIVE_OK);
		break;
	case F_ZIP:
		assert_int_equal(archive_write_set_format_zip(a), ARCHIVE_OK);
		break;
	case F_TAR:
		assert_int_equal(archive_write_set_format_ustar(a), ARCHIVE_OK);
		break;
	case F_GNUTAR_XZ:
		assert_int_equal(archive_write_set_format_gnutar(a), ARCHIVE_OK);
		assert_int_equal(archive_write_add_filter_xz(a), ARCHIVE_OK);
		break;
	}
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		const struct ent *x = &ents[i];
		struct archive_entry *e = archive_entry_new();
		mode_t type = x->type ? x->type : AE_IFREG;
		int64_t size = 0;
		archive_entry_set_pathname(e, x->path);
		archive_entry_set_mtime(e, 1000000000, 0);
		archive_entry_set_uid(e, 1234);
		archive_entry_set_gid(e, 1234);
		if (x->hardlink != NULL) {
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_hardlink(e, x->hardlink);
			archive_entry_set_perm(e, 0644);
			archive_entry_set_size(e, 0);
		} else {
			archive_entry_set_filetype(e, type);
			archive_entry_set_perm(e, x->mode ? x->mode : (type == AE_IFDIR ? 0755 : 0644));
			if (type == AE_IFLNK)
				archive_entry_set_symlink(e, x->link);
			if (type == AE_IFCHR)
				archive_entry_set_rdev(e, makedev(1, 3));
			if (type == AE_IFREG)
				size = x->zeros > 0 ? x->zeros : (int64_t)(x->data ? strlen(x->data) : 0);
			archive_entry_set_size(e, size);
		}
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		if (x->zeros > 0) {
			for (int64_t left = x->zeros; left > 0;) {
				size_t c = left > (int64_t)sizeof(zeros) ? sizeof(zeros) : (size_t)left;
				assert_int_equal(archive_write_data(a, zeros, c), (la_ssize_t)c);
				left -= (int64_t)c;
			}
		} else if (size > 0) {
			assert_int_equal(archive_write_data(a, x->data, (size_t)size), (la_ssize_t)size);
		}
		archive_entry_free(e);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
}

/* Number of entries in a directory (without . and ..). */
static int count_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int n = 0;
	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void assert_absent(const char *path)
{
	struct stat st;
	if (lstat(path, &st) == 0)
		fail_msg("%s exists but must not", path);
}

static void assert_file(const char *rel, const char *content, mode_t mode)
{
	char p[256], buf[256];
	struct stat st;
	int fd;
	ssize_t n;
	snprintf(p, sizeof(p), "%s/%s", F.stage, rel);
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	if ((st.st_mode & 07777) != mode)
		fail_msg("%s: mode %o, expected %o", rel, st.st_mode & 07777, mode);
	fd = open(p, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = '\0';
	assert_string_equal(buf, content);
	assert_int_equal(st.st_mtime, 1000000000);
}

static void assert_link(const char *rel, const char *target)
{
	char p[256], buf[256];
	ssize_t n;
	snprintf(p, sizeof(p), "%s/%s", F.stage, rel);
	n = readlink(p, buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, target);
}

static void assert_mode(const char *rel, mode_t mode)
{
	char p[256];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", F.stage, rel);
	assert_int_equal(lstat(p, &st), 0);
	if ((st.st_mode & 07777) != mode)
		fail_msg("%s: mode %o, expected %o", rel, st.st_mode & 07777, mode);
}

/* Expects bundle_stage to refuse with code and both fragments in the
 * message, staging removed and the sentinel directory still empty. */
static void expect_refused(const struct bundle_limits *lim, int code, const char *frag1,
			   const char *frag2)
{
	struct herr e = {0};
	int rc = bundle_stage(F.bundle, F.stage, lim, &e);
	if (rc != -1 || e.code != code || strstr(e.msg, frag1) == NULL ||
	    (frag2 != NULL && strstr(e.msg, frag2) == NULL))
		fail_msg("rc %d code %d msg '%s'; expected code %d with '%s' and '%s'", rc, e.code, e.msg,
			 code, frag1, frag2 ? frag2 : "");
	assert_absent(F.stage);
	assert_int_equal(count_dir(F.outside), 0);
}

static void stage_ok(const struct bundle_limits *lim)
{
	struct herr e = {0};
	if (bundle_stage(F.bundle, F.stage, lim, &e) != 0)
		fail_msg("bundle_stage failed: %s", e.msg);
}

static const struct ent good[] = {
	{.path = "./", .type = AE_IFDIR, .mode = 0700},
	{.path = "app/", .type = AE_IFDIR, .mode = 0750},
	{.path = "app/bin/run.sh", .mode = 0755, .data = "#!/bin/sh\necho hi\n"},
	{.path = "app/conf/a.conf", .mode = 0640, .data = "a=1\n"},
	{.path = "app/conf/", .type = AE_IFDIR, .mode = 0711},
	{.path = "app/link", .type = AE_IFLNK, .link = "bin/run.sh"},
	{.path = "app/abslink", .type = AE_IFLNK, .link = "/etc/passwd"},
	{.path = "appspec.yml", .data = "version: 0.0\nos: linux\n"},
	{.path = "empty", .data = ""},
};

static void check_good_tree(int with_hardlink)
{
	struct stat a, b;
	char p1[256], p2[256];
	assert_file("app/bin/run.sh", "#!/bin/sh\necho hi\n", 0755);
	assert_file("app/conf/a.conf", "a=1\n", 0640);
	assert_file("appspec.yml", "version: 0.0\nos: linux\n", 0644);
	assert_file("empty", "", 0644);
	assert_link("app/link", "bin/run.sh");
	assert_link("app/abslink", "/etc/passwd");
	assert_mode("app", 0750);
	assert_mode("app/conf", 0711);
	assert_mode("", 0755); /* staging itself: not the "./" entry's 0700 */
	if (with_hardlink) {
		snprintf(p1, sizeof(p1), "%s/app/conf/a.conf", F.stage);
		snprintf(p2, sizeof(p2), "%s/app/hard", F.stage);
		assert_int_equal(stat(p1, &a), 0);
		assert_int_equal(stat(p2, &b), 0);
		assert_int_equal(a.st_ino, b.st_ino);
	}
	/* owners are not restored from the archive (uid 1234 there) */
	snprintf(p1, sizeof(p1), "%s/appspec.yml", F.stage);
	assert_int_equal(stat(p1, &a), 0);
	assert_int_equal(a.st_uid, geteuid());
}

static void test_good_targz(void **state)
{
	struct ent ents[sizeof(good) / sizeof(good[0]) + 1];
	(void)state;
	memcpy(ents, good, sizeof(good));
	ents[sizeof(good) / sizeof(good[0])] = (struct ent){.path = "app/hard", .hardlink = "app/conf/a.conf"};
	build(F.bundle, F_PAX_GZ, ents, sizeof(ents) / sizeof(ents[0]));
	stage_ok(NULL);
	check_good_tree(1);
}

static void test_good_zip(void **state)
{
	(void)state;
	build(F.bundle, F_ZIP, good, sizeof(good) / sizeof(good[0]));
	stage_ok(NULL);
	check_good_tree(0);
}

static void test_good_plain_tar_and_xz(void **state)
{
	struct herr e = {0};
	(void)state;
	build(F.bundle, F_TAR, good, sizeof(good) / sizeof(good[0]));
	stage_ok(NULL);
	check_good_tree(0);
	assert_int_equal(fs_rm_rf(F.stage, &e), 0);
	build(F.bundle, F_GNUTAR_XZ, good, sizeof(good) / sizeof(good[0]));
	stage_ok(NULL);
	check_good_tree(0);
}

static void test_staging_must_not_exist(void **state)
{
	struct herr e = {0};
	char keep[256];
	(void)state;
	build(F.bundle, F_TAR, good, 3);
	assert_int_equal(mkdir(F.stage, 0755), 0);
	snprintf(keep, sizeof(keep), "%s/keep", F.stage);
	assert_int_equal(mkdir(keep, 0755), 0);
	assert_int_equal(bundle_stage(F.bundle, F.stage, NULL, &e), -1);
	assert_int_equal(e.code, HOIST_EXIT_IO);
	assert_non_null(strstr(e.msg, "staging"));
	assert_int_equal(access(keep, F_OK), 0); /* someone else's directory is not removed */
}

/* One hostile archive: entries, the message fragments, a path outside that must not appear. */
struct hostile {
	const char *name;
	struct ent ents[4];
	size_t n;
	const char *frag1;
	const char *frag2;
	const char *outside_file; /* relative to F.outside */
};

#define OUT "@OUT@" /* replaced by the sentinel directory's path in link targets */

static const struct hostile hostile[] = {
	{"dotdot", {{.path = "ok", .data = "x"}, {.path = "../evil", .data = "x"}}, 2,
	 "bundle entry '../evil'", "'..'", NULL},
	{"dotdot-inner", {{.path = "a/../../outside/evil", .data = "x"}}, 1,
	 "'a/../../outside/evil'", "'..'", "evil"},
	{"absolute", {{.path = "@OUT@/abs", .data = "x"}}, 1, "absolute path refused", NULL, "abs"},
	{"link-dir-write-through",
	 {{.path = "dir/", .type = AE_IFDIR},
	  {.path = "dir/link", .type = AE_IFLNK, .link = OUT},
	  {.path = "dir/link/pwned", .data = "owned"}},
	 3, "bundle entry 'dir/link/pwned'", "'dir/link' is a symbolic link", "pwned"},
	{"abs-link-then-file",
	 {{.path = "ln", .type = AE_IFLNK, .link = OUT "/target.txt"}, {.path = "ln", .data = "owned"}},
	 2, "bundle entry 'ln'", "duplicate entry", "target.txt"},
	{"dir-replaced-by-link",
	 {{.path = "d/", .type = AE_IFDIR},
	  {.path = "d", .type = AE_IFLNK, .link = OUT},
	  {.path = "d/x", .data = "owned"}},
	 3, "bundle entry 'd'", "duplicate entry", "x"},
	{"relative-link-escape-write",
	 {{.path = "up", .type = AE_IFLNK, .link = "../outside"}, {.path = "up/evil", .data = "x"}},
	 2, "'up/evil'", "symbolic link", "evil"},
	{"hardlink-etc-passwd", {{.path = "h", .hardlink = "/etc/passwd"}}, 1, "bundle entry 'h'",
	 "absolute hard link target refused", NULL},
	{"hardlink-dotdot", {{.path = "h", .hardlink = "../x"}}, 1, "bundle entry 'h'",
	 "hard link target contains a '..'", NULL},
	{"hardlink-missing", {{.path = "h", .hardlink = "nothing"}}, 1, "bundle entry 'h'",
	 "not a regular file extracted earlier", NULL},
	{"hardlink-to-symlink",
	 {{.path = "l", .type = AE_IFLNK, .link = "/etc/shadow"}, {.path = "h", .hardlink = "l"}}, 2,
	 "bundle entry 'h'", "not a regular file extracted earlier", NULL},
	{"device", {{.path = "dev/null", .type = AE_IFCHR, .mode = 0666}}, 1, "bundle entry 'dev/null'",
	 "device node refused", NULL},
	{"fifo", {{.path = "fifo", .type = AE_IFIFO}}, 1, "bundle entry 'fifo'", "FIFO refused", NULL},
	{"setuid", {{.path = "bin/su", .mode = 04755, .data = "x"}}, 1, "bundle entry 'bin/su'",
	 "set-user-ID or set-group-ID bit (mode 4755) refused", NULL},
	{"setgid-dir", {{.path = "shared/", .type = AE_IFDIR, .mode = 02775}}, 1, "'shared/'",
	 "mode 2775", NULL},
	{"file-as-parent", {{.path = "a", .data = "x"}, {.path = "a/b", .data = "y"}}, 2,
	 "bundle entry 'a/b'", "its parent 'a' is not a directory", NULL},
	{"root-as-file", {{.path = ".", .data = "x"}}, 1, "bundle entry '.'", "names the bundle root",
	 NULL},
	{"backslash-name", {{.path = "a\\b/../../x", .data = "x"}}, 1, "bundle entry 'a\\\\b/../../x'",
	 "'..'", NULL},
	{"escaped-name", {{.path = "bad\nname/../../x", .data = "x"}}, 1, "'bad\\x0aname/../../x'",
	 "'..'", NULL},
};

/* Substitutes OUT in link targets and paths with the sentinel's path. */
static const char *subst(const char *s, char *buf, size_t bufsz)
{
	const char *at;
	if (s == NULL || (at = strstr(s, OUT)) == NULL)
		return s;
	snprintf(buf, bufsz, "%.*s%s%s", (int)(at - s), s, F.outside, at + strlen(OUT));
	return buf;
}

static void test_hostile_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		const struct hostile *h = &hostile[i];
		struct ent ents[4];
		char paths[4][256], links[4][256];
		print_message("hostile: %s\n", h->name);
		for (size_t j = 0; j < h->n; j++) {
			ents[j] = h->ents[j];
			ents[j].path = subst(h->ents[j].path, paths[j], sizeof(paths[j]));
			ents[j].link = subst(h->ents[j].link, links[j], sizeof(links[j]));
		}
		build(F.bundle, F_PAX_GZ, ents, h->n);
		expect_refused(NULL, HOIST_EXIT_BAD_BUNDLE, h->frag1, h->frag2);
		if (h->outside_file != NULL) {
			char p[256];
			snprintf(p, sizeof(p), "%s/%s", F.outside, h->outside_file);
			assert_absent(p);
		}
	}
}

static void test_setuid_allowed(void **state)
{
	struct bundle_limits lim;
	const struct ent ents[] = {{.path = "bin/tool", .mode = 04755, .data = "x"}};
	(void)state;
	bundle_limits_default(&lim);
	lim.allow_setid = true;
	build(F.bundle, F_PAX_GZ, ents, 1);
	stage_ok(&lim);
	assert_file("bin/tool", "x", 04755);
}

static void test_entry_count_bomb(void **state)
{
	struct bundle_limits lim;
	struct ent ents[12];
	char names[12][16];
	(void)state;
	for (int i = 0; i < 12; i++) {
		snprintf(names[i], sizeof(names[i]), "f%02d", i);
		ents[i] = (struct ent){.path = names[i], .data = "x"};
	}
	build(F.bundle, F_PAX_GZ, ents, 12);
	bundle_limits_default(&lim);
	lim.max_entries = 10;
	expect_refused(&lim, HOIST_EXIT_BAD_BUNDLE, "bundle entry 'f10'", "more than max_entries (10)");
	lim.max_entries = 12;
	stage_ok(&lim);
}

static void test_size_bomb(void **state)
{
	struct bundle_limits lim;
	struct stat st;
	const struct ent bomb[] = {{.path = "small", .data = "abc"},
				   {.path = "zeros", .zeros = INT64_C(1) << 30}};
	(void)state;
	build(F.bundle, F_PAX_GZ, bomb, 2);
	assert_int_equal(stat(F.bundle, &st), 0);
	assert_true(st.st_size < 8 * 1024 * 1024); /* it is a bomb: 1 GiB in a few MiB */
	bundle_limits_default(&lim);
	lim.max_total_bytes = 1024 * 1024;
	expect_refused(&lim, HOIST_EXIT_BAD_BUNDLE, "bundle entry 'zeros'", "max_extract_bytes (1048576");
}

static void test_size_limit_across_entries(void **state)
{
	struct bundle_limits lim;
	const struct ent ents[] = {{.path = "a", .zeros = 400000},
				   {.path = "b", .zeros = 400000},
				   {.path = "c", .zeros = 400000}};
	(void)state;
	bundle_limits_default(&lim);
	lim.max_total_bytes = 1000000;
	build(F.bundle, F_ZIP, ents, 3);
	expect_refused(&lim, HOIST_EXIT_BAD_BUNDLE, "bundle entry 'c'", "max_extract_bytes");
	lim.max_total_bytes = 1200000; /* exactly the total: allowed */
	stage_ok(&lim);
}

static void test_zip_bomb(void **state)
{
	struct bundle_limits lim;
	const struct ent bomb[] = {{.path = "zeros", .zeros = INT64_C(64) << 20}};
	(void)state;
	build(F.bundle, F_ZIP, bomb, 1);
	bundle_limits_default(&lim);
	lim.max_total_bytes = 1024 * 1024;
	expect_refused(&lim, HOIST_EXIT_BAD_BUNDLE, "bundle entry 'zeros'", "max_extract_bytes");
}

/* A zip whose headers claim 1000 bytes for 64 MiB of deflated zeros: the
 * declared size passes the early check, the data must still not get through. */
static void test_zip_lying_size(void **state)
{
	struct bundle_limits lim;
	const struct ent bomb[] = {{.path = "zeros", .zeros = INT64_C(64) << 20}};
	const uint32_t real = UINT32_C(64) << 20, fake = 1000;
	size_t n, patched = 0;
	char *p;
	(void)state;
	build(F.bundle, F_ZIP, bomb, 1);
	p = read_bundle(&n);
	for (size_t i = 0; i + 4 <= n; i++) {
		uint32_t v;
		memcpy(&v, p + i, 4);
		if (v == real) {
			memcpy(p + i, &fake, 4);
			patched++;
		}
	}
	assert_true(patched >= 2); /* local header (or descriptor) and central directory */
	write_bundle(p, n);
	free(p);
	bundle_limits_default(&lim);
	lim.max_total_bytes = 1024 * 1024;
	expect_refused(&lim, HOIST_EXIT_BAD_BUNDLE, "bundle entry 'zeros'", NULL);
}

static void test_path_too_long(void **state)
{
	char longp[1200];
	struct ent ents[1];
	struct bundle_limits lim;
	(void)state;
	memset(longp, 0, sizeof(longp));
	for (size_t i = 0; i < 1100; i++)
		longp[i] = (i % 100 == 99) ? '/' : 'a';
	longp[1099] = 'b'; /* a trailing '/' would make it a directory */
	ents[0] = (struct ent){.path = longp, .data = "x"};
	build(F.bundle, F_PAX_GZ, ents, 1);
	expect_refused(NULL, HOIST_EXIT_BAD_BUNDLE, "is 1100 bytes long, more than max_path_len (1024)",
		       NULL);
	bundle_limits_default(&lim);
	lim.max_path_len = 2000;
	stage_ok(&lim);
}

/* Writes n bytes of data to F.bundle. */
static void write_bundle(const void *data, size_t n)
{
	int fd = open(F.bundle, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	close(fd);
}

/* Reads F.bundle into a malloc'd buffer. */
static char *read_bundle(size_t *n)
{
	struct stat st;
	char *p;
	int fd = open(F.bundle, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	p = malloc((size_t)st.st_size);
	assert_non_null(p);
	assert_int_equal(read(fd, p, (size_t)st.st_size), st.st_size);
	close(fd);
	*n = (size_t)st.st_size;
	return p;
}

static void test_truncated_and_corrupt(void **state)
{
	const struct ent ents[] = {{.path = "first", .data = "one"},
				   {.path = "second", .data = "two"},
				   {.path = "third", .data = "three"}};
	size_t n;
	char *p;
	(void)state;
	/* truncated gzip stream */
	build(F.bundle, F_PAX_GZ, ents, 3);
	p = read_bundle(&n);
	write_bundle(p, n / 2);
	free(p);
	expect_refused(NULL, HOIST_EXIT_BAD_BUNDLE, "bundle", NULL);
	/* plain tar, the second header's checksum broken: a RETRY must be fatal */
	build(F.bundle, F_TAR, ents, 3);
	p = read_bundle(&n);
	assert_true(n > 1024 + 512);
	p[1024 + 148] ^= 0x01; /* header 2 = offset 1024 (header 512 + data block 512); chksum at 148 */
	write_bundle(p, n);
	free(p);
	expect_refused(NULL, HOIST_EXIT_BAD_BUNDLE, "damaged archive at entry #2 (after 'first')", NULL);
	/* truncated plain tar, inside the data of the last entry */
	build(F.bundle, F_TAR, ents, 3);
	p = read_bundle(&n);
	write_bundle(p, 2560 + 2); /* header 3 at 2048, its data at 2560 */
	free(p);
	expect_refused(NULL, HOIST_EXIT_BAD_BUNDLE, "third", NULL);
}

static void test_empty_and_not_archive(void **state)
{
	const char text[] = "version: 0.0\nos: linux\n";
	(void)state;
	write_bundle("", 0);
	expect_refused(NULL, HOIST_EXIT_BAD_BUNDLE, "is empty (0 bytes)", NULL);
	write_bundle(text, sizeof(text) - 1);
	expect_refused(NULL, HOIST_EXIT_BAD_BUNDLE, "is not a tar or zip archive", NULL);
	{
		/* gzip'd text: the filter is recognised, the content is no archive (no "raw" format) */
		struct archive *a = archive_write_new();
		struct archive_entry *e = archive_entry_new();
		assert_int_equal(archive_write_set_format_raw(a), ARCHIVE_OK);
		assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
		assert_int_equal(archive_write_open_filename(a, F.bundle), ARCHIVE_OK);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_pathname(e, "x");
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		assert_int_equal(archive_write_data(a, text, sizeof(text) - 1), (la_ssize_t)sizeof(text) - 1);
		archive_entry_free(e);
		archive_write_close(a);
		archive_write_free(a);
		expect_refused(NULL, HOIST_EXIT_BAD_BUNDLE, "is not a tar or zip archive", NULL);
	}
}

static void test_wrapper_lifted(void **state)
{
	const struct ent wrapped[] = {{.path = "owner-repo-abc123/", .type = AE_IFDIR, .mode = 0700},
				      {.path = "owner-repo-abc123/AppSpec.yml", .data = "v"},
				      {.path = "owner-repo-abc123/owner-repo-abc123/x", .data = "nested"}};
	const struct ent two[] = {{.path = "wrap/appspec.yml", .data = "v"}, {.path = "README", .data = "r"}};
	const struct ent noapp[] = {{.path = "wrap/app.yml", .data = "v"}};
	struct herr e = {0};
	char p[256];
	(void)state;
	build(F.bundle, F_PAX_GZ, wrapped, 3);
	stage_ok(NULL);
	assert_file("AppSpec.yml", "v", 0644);
	assert_file("owner-repo-abc123/x", "nested", 0644);
	assert_mode("", 0755);
	assert_int_equal(count_dir(F.base), 3); /* bundle, outside, stage: no leftover lift dir */
	assert_int_equal(fs_rm_rf(F.stage, &e), 0);

	build(F.bundle, F_PAX_GZ, two, 2);
	stage_ok(NULL);
	assert_file("wrap/appspec.yml", "v", 0644);
	assert_int_equal(fs_rm_rf(F.stage, &e), 0);

	build(F.bundle, F_PAX_GZ, noapp, 1);
	stage_ok(NULL);
	snprintf(p, sizeof(p), "%s/wrap/app.yml", F.stage);
	assert_int_equal(access(p, F_OK), 0);
}

/* Creates base/src with a file, a nested dir, a relative and an absolute symlink. */
static void make_src_tree(char *src, size_t srcsz)
{
	char p[256];
	int fd;
	snprintf(src, srcsz, "%s/src", F.base);
	assert_int_equal(mkdir(src, 0755), 0);
	snprintf(p, sizeof(p), "%s/sub", src);
	assert_int_equal(mkdir(p, 0750), 0);
	snprintf(p, sizeof(p), "%s/sub/a.conf", src);
	fd = open(p, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "a=1\n", 4), 4);
	assert_int_equal(fchmod(fd, 0640), 0);
	{
		struct timespec ts[2] = {{1000000000, 0}, {1000000000, 0}};
		assert_int_equal(futimens(fd, ts), 0);
	}
	close(fd);
	snprintf(p, sizeof(p), "%s/abs", src);
	assert_int_equal(symlink(F.outside, p), 0);
	snprintf(p, sizeof(p), "%s/rel", src);
	assert_int_equal(symlink("sub/a.conf", p), 0);
}

static void test_directory_bundle(void **state)
{
	char src[96], p[256];
	struct herr e = {0};
	struct stat st;
	(void)state;
	make_src_tree(src, sizeof(src));
	assert_int_equal(bundle_stage(src, F.stage, NULL, &e), 0);
	assert_file("sub/a.conf", "a=1\n", 0640);
	assert_mode("sub", 0750);
	assert_link("abs", F.outside); /* copied as a link, not followed */
	assert_link("rel", "sub/a.conf");
	snprintf(p, sizeof(p), "%s/abs", F.stage);
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(count_dir(F.stage), 3);
	assert_int_equal(fs_rm_rf(F.stage, &e), 0);

	/* a FIFO in the tree is refused, by name */
	snprintf(p, sizeof(p), "%s/sub/pipe", src);
	assert_int_equal(mkfifo(p, 0644), 0);
	snprintf(F.bundle, sizeof(F.bundle), "%s", src);
	expect_refused(NULL, HOIST_EXIT_BAD_BUNDLE, "bundle entry 'sub/pipe'", "FIFO refused");
	assert_int_equal(unlink(p), 0);

	/* a socket too */
	{
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		int s = socket(AF_UNIX, SOCK_STREAM, 0);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/sock", src);
		assert_true(s >= 0);
		assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
		expect_refused(NULL, HOIST_EXIT_BAD_BUNDLE, "bundle entry 'sock'", "socket refused");
		close(s);
		assert_int_equal(unlink(sa.sun_path), 0);
	}

	/* a setuid file: refused, then allowed */
	snprintf(p, sizeof(p), "%s/sub/a.conf", src);
	assert_int_equal(chmod(p, 04755), 0);
	expect_refused(NULL, HOIST_EXIT_BAD_BUNDLE, "bundle entry 'sub/a.conf'", "set-user-ID");
	{
		struct bundle_limits lim;
		bundle_limits_default(&lim);
		lim.allow_setid = true;
		lim.max_entries = 3;
		expect_refused(&lim, HOIST_EXIT_BAD_BUNDLE, "more than max_entries (3)", NULL);
		lim.max_entries = 100;
		lim.max_total_bytes = 3;
		expect_refused(&lim, HOIST_EXIT_BAD_BUNDLE, "bundle entry 'sub/a.conf'", "max_extract_bytes");
		lim.max_total_bytes = 4;
		stage_ok(&lim);
		assert_file("sub/a.conf", "a=1\n", 04755);
	}
}

static void test_bundle_is_fifo(void **state)
{
	(void)state;
	snprintf(F.bundle, sizeof(F.bundle), "%s/fifo", F.base);
	assert_int_equal(mkfifo(F.bundle, 0644), 0);
	expect_refused(NULL, HOIST_EXIT_BAD_BUNDLE, "neither a file nor a directory", NULL);
}

/* Runs python3 -c CODE ARG (the archives real tools write: Python's tarfile
 * and zipfile, as macOS tar does, store non-ASCII names as UTF-8). */
static void python(const char *code, const char *arg)
{
	extern char **environ;
	char *argv[] = {(char *)(uintptr_t) "python3", (char *)(uintptr_t) "-c", (char *)(uintptr_t)code,
	                (char *)(uintptr_t)arg, NULL};
	pid_t pid;
	int st;
	assert_int_equal(posix_spawnp(&pid, "python3", NULL, NULL, argv, environ), 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* The file at rel (these exact bytes) holds content. */
static void assert_content(const char *rel, const char *content)
{
	char p[256], buf[256];
	ssize_t n;
	int fd;
	snprintf(p, sizeof(p), "%s/%s", F.stage, rel);
	fd = open(p, O_RDONLY | O_NOFOLLOW);
	if (fd < 0)
		fail_msg("%s: %s", rel, strerror(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = '\0';
	assert_string_equal(buf, content);
}

/* Non-ASCII names (pax tar, UTF-8-flagged zip) land byte-exact, whatever the
 * process locale (this test program never calls setlocale: it runs in "C",
 * like hoist with LANG unset). */
static void test_utf8_names(void **state)
{
	static const char *const writers[] = {
	    /* pax, as Python's default and macOS tar write it; a directory too */
	    "import sys,tarfile,io\n"
	    "t=tarfile.open(sys.argv[1],'w:gz',format=tarfile.PAX_FORMAT)\n"
	    "for n,d in (('caf\\u00e9.txt',b'cafe\\n'),('d\\u00efr/\\u65e5\\u672c.txt',b'jp\\n')):\n"
	    "  i=tarfile.TarInfo(n); i.size=len(d); t.addfile(i,io.BytesIO(d))\n"
	    "i=tarfile.TarInfo('li\\u00e9n'); i.type=tarfile.SYMTYPE; i.linkname='caf\\u00e9.txt'; t.addfile(i)\n"
	    "i=tarfile.TarInfo('dur\\u00e9'); i.type=tarfile.LNKTYPE; i.linkname='caf\\u00e9.txt'; t.addfile(i)\n"
	    "t.close()\n",
	    /* zip: zipfile sets the UTF-8 flag (bit 11) for such names */
	    "import sys,zipfile\n"
	    "z=zipfile.ZipFile(sys.argv[1],'w',zipfile.ZIP_DEFLATED)\n"
	    "z.writestr('caf\\u00e9.txt',b'cafe\\n'); z.writestr('d\\u00efr/\\u65e5\\u672c.txt',b'jp\\n')\n"
	    "z.close()\n",
	};
	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct herr e = {0};
		python(writers[i], F.bundle);
		if (bundle_stage(F.bundle, F.stage, NULL, &e) != 0)
			fail_msg("%s bundle: %s", i ? "zip" : "pax", e.msg);
		assert_content("caf\xc3\xa9.txt", "cafe\n");
		assert_content("d\xc3\xafr/\xe6\x97\xa5\xe6\x9c\xac.txt", "jp\n");
		if (i == 0) { /* link names and targets too */
			char target[64];
			char lp[256];
			ssize_t n;
			snprintf(lp, sizeof(lp), "%s/li\xc3\xa9n", F.stage);
			n = readlink(lp, target, sizeof(target) - 1);
			assert_true(n > 0);
			target[n] = '\0';
			assert_string_equal(target, "caf\xc3\xa9.txt");
			assert_content("dur\xc3\xa9", "cafe\n");
		}
		assert_int_equal(count_dir(F.stage), i == 0 ? 4 : 2); /* no other spelling of the names */
		assert_int_equal(fs_rm_rf(F.stage, &e), 0);
	}
}

/* The default bomb rule stops an archive that declares far more than it
 * could honestly hold, before writing anything: a 10 KiB tar whose header
 * claims 8 GiB - 1 (under the 8 GiB cap, so only the ratio rule stops it). */
static void test_bomb_default_rule(void **state)
{
	const struct ent ents[] = {{.path = "big", .data = "x"}};
	unsigned sum = 0;
	size_t n;
	char *p;
	(void)state;
	build(F.bundle, F_TAR, ents, 1);
	p = read_bundle(&n);
	/* ustar header: size at 124 (12 bytes octal), checksum at 148 (8 bytes) */
	memcpy(p + 124, "77777777777", 12);
	memset(p + 148, ' ', 8);
	for (size_t i = 0; i < 512; i++)
		sum += (unsigned char)p[i];
	snprintf(p + 148, 8, "%06o", sum);
	write_bundle(p, n);
	free(p);
	expect_refused(NULL, HOIST_EXIT_BAD_BUNDLE, "bundle entry 'big'", "decompression limit");
}

/* The streamed count obeys the ratio too (a zip whose sizes are only known
 * after the data), with a floor small enough for a test. */
static void test_bomb_ratio_streamed(void **state)
{
	struct bundle_limits lim;
	const struct ent bomb[] = {{.path = "zeros", .zeros = INT64_C(16) << 20}};
	(void)state;
	build(F.bundle, F_ZIP, bomb, 1);
	bundle_limits_default(&lim);
	lim.ratio_floor = 1024 * 1024;
	expect_refused(&lim, HOIST_EXIT_BAD_BUNDLE, "bundle entry 'zeros'", "max_extract_ratio 100");
	lim.max_ratio = 0; /* no ratio rule: max_extract_bytes (8 GiB) alone */
	stage_ok(&lim);
}

/* Honest bundles: incompressible data extracts whole with the defaults; the
 * cap of a multi-GiB archive is the absolute one (vectors, no GiB on disk). */
static void test_bomb_rule_lets_honest_through(void **state)
{
	static char noise[1 << 20];
	struct bundle_limits lim;
	uint64_t x = 88172645463325252u;
	const uint64_t GiB = UINT64_C(1) << 30, MiB = UINT64_C(1) << 20;
	(void)state;
	for (size_t i = 0; i + 1 < sizeof(noise); i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		noise[i] = (char)('!' + x % 90);
	}
	{
		const struct ent ents[] = {{.path = "noise", .data = noise}};
		build(F.bundle, F_PAX_GZ, ents, 1);
		stage_ok(NULL);
	}
	bundle_limits_default(&lim);
	assert_true(bundle_extract_cap(&lim, 42 * 1024) == 128 * MiB);   /* the 42 KB zip of issue 9 */
	assert_true(bundle_extract_cap(&lim, 10 * MiB) == 1000 * MiB);   /* 100 x */
	assert_true(bundle_extract_cap(&lim, 3 * GiB) == 8 * GiB);       /* honest multi-GiB: the cap */
	assert_true(bundle_extract_cap(&lim, 0) == 8 * GiB);             /* a directory bundle */
	assert_true(bundle_extract_cap(&lim, UINT64_MAX / 2) == 8 * GiB); /* no overflow */
	lim.max_ratio = 0;
	assert_true(bundle_extract_cap(&lim, 1) == 8 * GiB);
}

/* A file of zeros, in each format: its blocks are left unwritten (holes, when the file
 * system keeps them), its size is still whole, and the entries after it are intact. */
static void test_zero_blocks_are_holes(void **state)
{
	static const enum fmt fmts[] = {F_TAR, F_PAX_GZ, F_ZIP};
	const int64_t size = 8 << 20;
	const struct ent ents[] = {
	    {.path = "appspec.yml", .data = "version: 0.0\nos: linux\n"},
	    {.path = "z.img", .zeros = size},
	    {.path = "after.txt", .data = "after\n"},
	};
	char p[256], probe[256];
	struct stat st;
	struct herr e = {0};
	unsigned char c = 1;
	int fd;
	(void)state;
	snprintf(probe, sizeof(probe), "%s/probe", F.base);
	fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0 && ftruncate(fd, size) == 0 && fstat(fd, &st) == 0);
	close(fd);
	if ((int64_t)st.st_blocks * 512 >= size)
		skip(); /* the file system keeps no holes */
	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		build(F.bundle, fmts[i], ents, sizeof(ents) / sizeof(ents[0]));
		stage_ok(NULL);
		snprintf(p, sizeof(p), "%s/z.img", F.stage);
		assert_int_equal(stat(p, &st), 0);
		assert_int_equal(st.st_size, size);
		if ((int64_t)st.st_blocks * 512 >= size / 8)
			fail_msg("format %zu: %lld bytes on disk for %lld of zeros", i,
				 (long long)st.st_blocks * 512, (long long)size);
		fd = open(p, O_RDONLY);
		assert_true(fd >= 0);
		assert_int_equal(pread(fd, &c, 1, size - 1), 1);
		close(fd);
		assert_int_equal(c, 0);
		assert_file("after.txt", "after\n", 0644);
		assert_int_equal(fs_rm_rf(F.stage, &e), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good_targz, setup, teardown),
		cmocka_unit_test_setup_teardown(test_good_zip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_good_plain_tar_and_xz, setup, teardown),
		cmocka_unit_test_setup_teardown(test_staging_must_not_exist, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_setuid_allowed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_entry_count_bomb, setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_bomb, setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_limit_across_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zip_bomb, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zip_lying_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_path_too_long, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_and_corrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_and_not_archive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrapper_lifted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_directory_bundle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bundle_is_fifo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_utf8_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bomb_default_rule, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bomb_ratio_streamed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bomb_rule_lets_honest_through, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zero_blocks_are_holes, setup, teardown),
	};
	log_init("test_bundle", LOG_LEVEL_ERROR);
	log_set_stderr(0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
