/* bundle.c - a bundle (tar, compressed tar, zip or directory) into a fresh staging tree, safely. */
#include "bundle.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exitcodes.h"
#include "fsutil.h"
#include "log.h"
#include "relpath.h"

#define NAME_SHOW 256      /* escaped entry name in messages */
#define MAX_DIR_DEPTH 200  /* directory bundles: bounds fds held open while copying */
#define COPY_CHUNK 65536

/* State of one staging run. */
struct stage {
	const struct bundle_limits *lim;
	int fd;              /* the staging directory */
	uint64_t entries;
	uint64_t bytes;      /* bytes written so far, all entries */
	uint64_t cap;        /* bundle_extract_cap of this bundle */
	uint64_t archive_bytes; /* the archive's size (0: a directory) */
	struct herr *err;
};

void bundle_limits_default(struct bundle_limits *l)
{
	l->max_entries = 100000;
	l->max_total_bytes = UINT64_C(8) * 1024 * 1024 * 1024;
	l->max_path_len = 1024;
	l->allow_setid = false;
	l->max_ratio = 100;
	l->ratio_floor = UINT64_C(128) * 1024 * 1024;
}

uint64_t bundle_extract_cap(const struct bundle_limits *l, uint64_t archive_bytes)
{
	uint64_t by_ratio;
	if (archive_bytes == 0 || l->max_ratio == 0)
		return l->max_total_bytes;
	by_ratio = archive_bytes > UINT64_MAX / l->max_ratio ? UINT64_MAX : archive_bytes * l->max_ratio;
	if (by_ratio < l->ratio_floor)
		by_ratio = l->ratio_floor;
	return by_ratio < l->max_total_bytes ? by_ratio : l->max_total_bytes;
}

/* Sets err to "bundle entry 'NAME': REASON" with NAME printable-escaped. */
static int fail_entry(struct herr *err, int code, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail_entry(struct herr *err, int code, const char *name, const char *fmt, ...)
{
	char esc[NAME_SHOW];
	char reason[HERR_MSG_MAX];
	va_list ap;
	int n;
	relpath_escape(name, esc, sizeof(esc));
	va_start(ap, fmt);
	n = vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (n < 0)
		reason[0] = '\0';
	return herr_set(err, code, "bundle entry '%s': %s", esc, reason);
}

/* errno values that mean "this machine's problem", not "this bundle's". */
static int is_io_errno(int e)
{
	switch (e) {
	case ENOSPC: case EDQUOT: case EIO: case EROFS: case EMFILE: case ENFILE: case ENOMEM:
	case EACCES: case EPERM:
		return 1;
	default:
		return 0;
	}
}

/* Lexical checks of an archive path: not absolute, no "..", within max_path_len.
 * Fills rel with the normalised form ("" for the root). */
static int check_name(struct stage *s, const char *shown, const char *path, const char *what,
		      char *rel, size_t relsz)
{
	size_t len = strlen(path);
	if (len == 0)
		return fail_entry(s->err, HOIST_EXIT_BAD_BUNDLE, shown, "empty %s", what);
	if (len > s->lim->max_path_len || len >= relsz)
		return fail_entry(s->err, HOIST_EXIT_BAD_BUNDLE, shown,
				  "%s is %zu bytes long, more than max_path_len (%u)", what, len,
				  s->lim->max_path_len);
	if (path[0] == '/')
		return fail_entry(s->err, HOIST_EXIT_BAD_BUNDLE, shown, "absolute %s refused", what);
	if (relpath_has_dotdot(path))
		return fail_entry(s->err, HOIST_EXIT_BAD_BUNDLE, shown, "%s contains a '..' component",
				  what);
	if (relpath_normalise(path, rel, relsz) != RELPATH_NORM_OK)
		return fail_entry(s->err, HOIST_EXIT_BAD_BUNDLE, shown, "%s cannot be normalised", what);
	return 0;
}

/* Checks where an entry lands in the staging tree: no parent may be a symlink
 * or a non-directory (so nothing is written through a link an earlier entry
 * planted), and nothing extracted earlier may be replaced (so a directory
 * cannot become a link, and a link cannot be swapped for a file), except that
 * a directory entry may name an existing directory. */
static int check_target(struct stage *s, const char *shown, const char *rel, int is_dir)
{
	char bad[PATH_MAX];
	char esc[NAME_SHOW];
	struct stat st;
	enum relpath_walk w = relpath_lookup(s->fd, rel, &st, bad, sizeof(bad));
	relpath_escape(bad, esc, sizeof(esc));
	switch (w) {
	case RELPATH_MISSING:
		return 0;
	case RELPATH_THROUGH_LINK:
		return fail_entry(s->err, HOIST_EXIT_BAD_BUNDLE, shown,
				  "its parent '%s' is a symbolic link; writing through links is refused",
				  esc);
	case RELPATH_NOT_DIR:
		return fail_entry(s->err, HOIST_EXIT_BAD_BUNDLE, shown,
				  "its parent '%s' is not a directory", esc);
	case RELPATH_ERROR:
		return fail_entry(s->err, is_io_errno(errno) ? HOIST_EXIT_IO : HOIST_EXIT_BAD_BUNDLE,
				  shown, "cannot look up '%s' in staging: %s", esc, strerror(errno));
	case RELPATH_FOUND:
		if (is_dir && S_ISDIR(st.st_mode))
			return 0;
		return fail_entry(s->err, HOIST_EXIT_BAD_BUNDLE, shown,
				  "duplicate entry: the path was already extracted (a later entry may not "
				  "replace an earlier one)");
	}
	return fail_entry(s->err, HOIST_EXIT_INTERNAL, shown, "unexpected lookup result");
}

/* Counts one entry against max_entries. */
static int count_entry(struct stage *s, const char *shown)
{
	if (++s->entries > s->lim->max_entries)
		return fail_entry(s->err, HOIST_EXIT_BAD_BUNDLE, shown,
				  "more than max_entries (%llu) entries in the bundle",
				  (unsigned long long)s->lim->max_entries);
	return 0;
}

/* Refuses set-user-ID / set-group-ID bits unless allowed. */
static int check_setid(struct stage *s, const char *shown, mode_t mode)
{
	if ((mode & (S_ISUID | S_ISGID)) != 0 && !s->lim->allow_setid)
		return fail_entry(s->err, HOIST_EXIT_BAD_BUNDLE, shown,
				  "set-user-ID or set-group-ID bit (mode %04o) refused; set allow_setid "
				  "to permit",
				  (unsigned)(mode & 07777));
	return 0;
}

/* Refuses an entry whose bytes pass the cap, naming the rule that set it. */
static int fail_cap(struct stage *s, const char *shown, uint64_t more)
{
	if (s->cap < s->lim->max_total_bytes)
		return fail_entry(s->err, HOIST_EXIT_BAD_BUNDLE, shown,
				  "%llu more bytes would pass the decompression limit: an archive of %llu bytes "
				  "may extract to at most %llu bytes (max_extract_ratio %u x its size, at least "
				  "extract_floor_bytes %llu; policy.conf); a decompression bomb?",
				  (unsigned long long)more, (unsigned long long)s->archive_bytes,
				  (unsigned long long)s->cap, s->lim->max_ratio,
				  (unsigned long long)s->lim->ratio_floor);
	return fail_entry(s->err, HOIST_EXIT_BAD_BUNDLE, shown,
			  "%llu more bytes would pass max_extract_bytes (%llu bytes)", (unsigned long long)more,
			  (unsigned long long)s->lim->max_total_bytes);
}

/* Adds n bytes at entry offset [off, off+n) to the total, refusing BEFORE the
 * bytes are written when the total would pass max_total_bytes. hwm is the
 * entry's high-water mark, so sparse holes count as the bytes they become. */
static int count_bytes(struct stage *s, const char *shown, int64_t off, size_t n, uint64_t *hwm)
{
	uint64_t end;
	if (off < 0 || (uint64_t)off > UINT64_MAX - n)
		return fail_entry(s->err, HOIST_EXIT_BAD_BUNDLE, shown, "bad data offset");
	end = (uint64_t)off + n;
	if (end <= *hwm)
		return 0;
	if (end - *hwm > s->cap - s->bytes)
		return fail_cap(s, shown, end - *hwm);
	s->bytes += end - *hwm;
	*hwm = end;
	return 0;
}

/* Checks one archive entry and rewrites its names to the checked, normalised
 * forms. Returns 0 to extract, 1 to skip (the root directory), -1 refused. */
static int vet_archive_entry(struct stage *s, struct archive_entry *e, const char *shown)
{
	char rel[PATH_MAX];
	char hrel[PATH_MAX];
	const char *path = archive_entry_pathname(e);
	const char *hl = archive_entry_hardlink(e);
	mode_t type = archive_entry_filetype(e);
	mode_t mode = archive_entry_mode(e);

	if (count_entry(s, shown) != 0)
		return -1;
	if (path == NULL)
		return fail_entry(s->err, HOIST_EXIT_BAD_BUNDLE, shown, "name cannot be decoded");
	if (check_name(s, shown, path, "path", rel, sizeof(rel)) != 0)
		return -1;
	if (hl == NULL) {
		switch (type) {
		case AE_IFREG: case AE_IFDIR: case AE_IFLNK:
			break;
		case AE_IFCHR: case AE_IFBLK:
			return fail_entry(s->err, HOIST_EXIT_BAD_BUNDLE, shown, "device node refused");
		case AE_IFIFO:
			return fail_entry(s->err, HOIST_EXIT_BAD_BUNDLE, shown, "FIFO refused");
		case AE_IFSOCK:
			return fail_entry(s->err, HOIST_EXIT_BAD_BUNDLE, shown, "socket refused");
		default:
			return fail_entry(s->err, HOIST_EXIT_BAD_BUNDLE, shown,
					  "unsupported entry type 0%o", (unsigned)type);
		}
	}
	if (rel[0] == '\0') {
		/* "./": the staging directory itself; keep its own mode */
		if (hl == NULL && type == AE_IFDIR)
			return 1;
		return fail_entry(s->err, HOIST_EXIT_BAD_BUNDLE, shown, "names the bundle root");
	}
	if (type != AE_IFLNK && check_setid(s, shown, mode) != 0)
		return -1;
	if (type == AE_IFLNK && hl == NULL) {
		/* created as a link only; SECURE_SYMLINKS and check_target stop writes through it */
		const char *t = archive_entry_symlink(e);
		if (t == NULL || t[0] == '\0')
			return fail_entry(s->err, HOIST_EXIT_BAD_BUNDLE, shown, "symbolic link without target");
		if (strlen(t) > s->lim->max_path_len)
			return fail_entry(s->err, HOIST_EXIT_BAD_BUNDLE, shown,
					  "link target longer than max_path_len (%u)", s->lim->max_path_len);
	}
	if (archive_entry_size_is_set(e) && archive_entry_size(e) > 0) {
		/* refuse early on the declared size: a bomb stops before its first byte */
		uint64_t declared = (uint64_t)archive_entry_size(e);
		if (declared > s->cap - s->bytes)
			return fail_cap(s, shown, declared);
	}
	if (check_target(s, shown, rel, hl == NULL && type == AE_IFDIR) != 0)
		return -1;
	if (hl != NULL) {
		struct stat st;
		if (check_name(s, shown, hl, "hard link target", hrel, sizeof(hrel)) != 0)
			return -1;
		if (relpath_lookup(s->fd, hrel, &st, NULL, 0) != RELPATH_FOUND || !S_ISREG(st.st_mode))
			return fail_entry(s->err, HOIST_EXIT_BAD_BUNDLE, shown,
					  "hard link target is not a regular file extracted earlier");
		archive_entry_set_hardlink(e, hrel);
	}
	archive_entry_set_pathname(e, rel);
	/* Owners are not restored (see bundle.h); making the entry ours keeps
	 * libarchive's set-id rule (bits kept only when the owner matches)
	 * deterministic when allow_setid is on. */
	archive_entry_set_uid(e, geteuid());
	archive_entry_set_gid(e, getegid());
	return 0;
}

/* Error from libarchive on entry `shown`, classified by errno. */
static int fail_archive(struct stage *s, struct archive *a, const char *shown, const char *what)
{
	const char *m = archive_error_string(a);
	int en = archive_errno(a);
	int code = is_io_errno(en) ? HOIST_EXIT_IO : HOIST_EXIT_BAD_BUNDLE;
	/* libarchive's "Write failed" keeps the reason in its errno (ENOSPC, EDQUOT...) */
	if (en > 0 && m != NULL && strstr(m, strerror(en)) == NULL)
		return fail_entry(s->err, code, shown, "%s: %s: %s", what, m, strerror(en));
	return fail_entry(s->err, code, shown, "%s: %s", what, m != NULL ? m : "unknown error");
}

/* Copies one entry's data block by block, counting before each write. */
static int copy_data(struct stage *s, struct archive *in, struct archive *out, const char *shown)
{
	uint64_t hwm = 0;
	for (;;) {
		const void *blk = NULL;
		size_t n = 0;
		la_int64_t off = 0;
		int r = archive_read_data_block(in, &blk, &n, &off);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r != ARCHIVE_OK)
			return fail_archive(s, in, shown, r == ARCHIVE_WARN ? "damaged data" : "cannot read data");
		if (count_bytes(s, shown, off, n, &hwm) != 0)
			return -1;
		if (archive_write_data_block(out, blk, n, off) != ARCHIVE_OK)
			return fail_archive(s, out, shown, "cannot write");
	}
}

/* Starts writing an extracted file's data to disk without waiting for it.
 * Install makes that data durable later (an fsync per file, or a syncfs); the
 * writes then overlap the decompression of the entries that follow instead of
 * all waiting at that sync (dpkg does the same). Advisory: an error here is
 * ignored, the sync that follows reports any. */
static void start_writeback(int dirfd, const char *rel)
{
	int fd = openat(dirfd, rel, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return;
	(void)sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	close(fd);
}

/* Reader for the real archive formats only (no raw, no empty), and the
 * in-process decompressors only: filters that would run an external
 * program (lrzip, lzop, grzip, uu) are not registered. */
static struct archive *new_reader(void)
{
	struct archive *in = archive_read_new();
	if (in == NULL)
		return NULL;
	(void)archive_read_support_filter_gzip(in);
	(void)archive_read_support_filter_bzip2(in);
	(void)archive_read_support_filter_xz(in);
	(void)archive_read_support_filter_lzma(in);
	(void)archive_read_support_filter_zstd(in);
	(void)archive_read_support_filter_lz4(in);
	(void)archive_read_support_filter_compress(in);
	if (archive_read_support_format_tar(in) != ARCHIVE_OK ||
	    archive_read_support_format_zip(in) != ARCHIVE_OK) {
		archive_read_free(in);
		return NULL;
	}
	return in;
}

/* A UTF-8 LC_CTYPE for libarchive's name conversions (created once, kept),
 * or (locale_t)0 when the C library has none. */
static locale_t utf8_ctype(void)
{
	static locale_t loc = (locale_t)0;
	static const char *const names[] = {"C.UTF-8", "C.utf8", "en_US.UTF-8"};
	for (size_t i = 0; loc == (locale_t)0 && i < sizeof(names) / sizeof(names[0]); i++)
		loc = newlocale(LC_CTYPE_MASK, names[i], (locale_t)0);
	return loc;
}

/* Extracts an archive (already open as fd) into the staging directory, which
 * must be the current directory: archive_write_disk works relative to it. */
static int extract_archive(struct stage *s, int bundle_fd, const char *bundle_path)
{
	char name[NAME_SHOW];      /* raw entry name (truncated), escaped when shown */
	char prev[NAME_SHOW] = ""; /* the previous entry's, for damaged-header messages */
	struct archive *in = NULL;
	struct archive *out = NULL;
	struct archive_entry *e = NULL;
	int flags = ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
		    ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME;
	locale_t utf8 = utf8_ctype();
	locale_t saved = (locale_t)0;
	int rc = -1;
	int r;

	/* before the archive objects exist: libarchive learns the charset once per object */
	if (utf8 != (locale_t)0)
		saved = uselocale(utf8);
	else
		log_warnx("no UTF-8 locale (C.UTF-8) in the C library: names that are not ASCII may be refused");
	in = new_reader();
	out = archive_write_disk_new();
	if (in == NULL || out == NULL || archive_write_disk_set_options(out, flags) != ARCHIVE_OK) {
		herr_set(s->err, HOIST_EXIT_INTERNAL, "cannot set up libarchive");
		goto out;
	}
	if (archive_read_open_fd(in, bundle_fd, 65536) != ARCHIVE_OK) {
		const char *m = archive_error_string(in);
		herr_set(s->err, is_io_errno(archive_errno(in)) ? HOIST_EXIT_IO : HOIST_EXIT_BAD_BUNDLE,
			 "bundle %s is not a tar or zip archive (content checked, not the name): %s",
			 bundle_path, m != NULL ? m : "unknown error");
		goto out;
	}
	for (;;) {
		r = archive_read_next_header(in, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK) {
			/* WARN and RETRY too: a damaged header must not let later entries through */
			const char *m = archive_error_string(in);
			char esc[NAME_SHOW];
			relpath_escape(prev, esc, sizeof(esc));
			herr_set(s->err,
				 is_io_errno(archive_errno(in)) ? HOIST_EXIT_IO : HOIST_EXIT_BAD_BUNDLE,
				 "bundle %s: damaged archive at entry #%llu (after '%s'): %s", bundle_path,
				 (unsigned long long)s->entries + 1, esc, m != NULL ? m : "unknown error");
			goto out;
		}
		snprintf(name, sizeof(name), "%s",
			 archive_entry_pathname(e) != NULL ? archive_entry_pathname(e) : "?");
		r = vet_archive_entry(s, e, name);
		if (r < 0)
			goto out;
		if (r == 0) {
			if (archive_write_header(out, e) != ARCHIVE_OK) {
				fail_archive(s, out, name, "cannot create");
				goto out;
			}
			if (copy_data(s, in, out, name) != 0)
				goto out;
			if (archive_write_finish_entry(out) != ARCHIVE_OK) {
				fail_archive(s, out, name, "cannot finish");
				goto out;
			}
			if (archive_entry_filetype(e) == AE_IFREG && archive_entry_hardlink(e) == NULL &&
			    archive_entry_size(e) > 0)
				start_writeback(s->fd, archive_entry_pathname(e));
		}
		memcpy(prev, name, sizeof(prev));
	}
	/* close applies the deferred directory modes and times, relative to cwd */
	if (archive_write_close(out) != ARCHIVE_OK) {
		fail_archive(s, out, prev, "cannot finish directories");
		goto out;
	}
	rc = 0;
out:
	if (out != NULL)
		archive_write_free(out);
	if (in != NULL)
		archive_read_free(in);
	if (saved != (locale_t)0)
		(void)uselocale(saved);
	return rc;
}

/* Copies one regular file, counting bytes before each write. */
static int copy_file(struct stage *s, int srcdir, int dstdir, const char *name, const char *rel,
		     const struct stat *st)
{
	char chunk[COPY_CHUNK];
	struct stat st2;
	struct timespec ts[2];
	uint64_t hwm = 0;
	int in = -1;
	int out = -1;
	int rc = -1;

	in = openat(srcdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (in < 0 || fstat(in, &st2) != 0) {
		fail_entry(s->err, HOIST_EXIT_IO, rel, "cannot open: %s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st2.st_mode) || st2.st_ino != st->st_ino || st2.st_dev != st->st_dev) {
		fail_entry(s->err, HOIST_EXIT_BAD_BUNDLE, rel, "changed while being copied");
		goto out;
	}
	out = openat(dstdir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0) {
		fail_entry(s->err, is_io_errno(errno) ? HOIST_EXIT_IO : HOIST_EXIT_BAD_BUNDLE, rel,
			   "cannot create in staging: %s", strerror(errno));
		goto out;
	}
	for (;;) {
		ssize_t n = read(in, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fail_entry(s->err, HOIST_EXIT_IO, rel, "cannot read: %s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (count_bytes(s, rel, (int64_t)hwm, (size_t)n, &hwm) != 0)
			goto out;
		if (fs_write_all(out, chunk, (size_t)n) != 0) {
			fail_entry(s->err, HOIST_EXIT_IO, rel, "cannot write: %s", strerror(errno));
			goto out;
		}
	}
	ts[0] = st->st_atim;
	ts[1] = st->st_mtim;
	if (fchmod(out, st->st_mode & 07777) != 0 || futimens(out, ts) != 0) {
		fail_entry(s->err, HOIST_EXIT_IO, rel, "cannot set mode or times: %s", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return rc;
}

/* Recreates a symbolic link with the same target text (never followed). */
static int copy_link(struct stage *s, int srcdir, int dstdir, const char *name, const char *rel)
{
	char target[PATH_MAX];
	ssize_t n = readlinkat(srcdir, name, target, sizeof(target));
	if (n < 0)
		return fail_entry(s->err, HOIST_EXIT_IO, rel, "cannot read link: %s", strerror(errno));
	if ((size_t)n >= sizeof(target) || (size_t)n > s->lim->max_path_len)
		return fail_entry(s->err, HOIST_EXIT_BAD_BUNDLE, rel,
				  "link target longer than max_path_len (%u)", s->lim->max_path_len);
	target[n] = '\0';
	if (symlinkat(target, dstdir, name) != 0)
		return fail_entry(s->err, HOIST_EXIT_IO, rel, "cannot create link: %s", strerror(errno));
	return 0;
}

static int copy_dir(struct stage *s, int srcdir, int dstdir, char *rel, size_t rellen, unsigned depth);

/* Copies one directory entry `name` of srcdir; rel holds its parent's path. */
static int copy_one(struct stage *s, int srcdir, int dstdir, const char *name, char *rel, size_t rellen,
		    unsigned depth)
{
	struct stat st;
	size_t nlen = strlen(name);
	size_t len = rellen + (rellen > 0 ? 1 : 0) + nlen;

	if (len >= PATH_MAX || len > s->lim->max_path_len) {
		rel[rellen] = '\0';
		return fail_entry(s->err, HOIST_EXIT_BAD_BUNDLE, rel,
				  "a child path is longer than max_path_len (%u)", s->lim->max_path_len);
	}
	if (rellen > 0)
		rel[rellen] = '/';
	memcpy(rel + rellen + (rellen > 0 ? 1 : 0), name, nlen + 1);
	if (count_entry(s, rel) != 0)
		return -1;
	if (fstatat(srcdir, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return fail_entry(s->err, HOIST_EXIT_IO, rel, "cannot stat: %s", strerror(errno));
	if (S_ISLNK(st.st_mode))
		return copy_link(s, srcdir, dstdir, name, rel);
	if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
		return fail_entry(s->err, HOIST_EXIT_BAD_BUNDLE, rel, "device node refused");
	if (S_ISFIFO(st.st_mode))
		return fail_entry(s->err, HOIST_EXIT_BAD_BUNDLE, rel, "FIFO refused");
	if (S_ISSOCK(st.st_mode))
		return fail_entry(s->err, HOIST_EXIT_BAD_BUNDLE, rel, "socket refused");
	if (check_setid(s, rel, st.st_mode) != 0)
		return -1;
	if (S_ISREG(st.st_mode))
		return copy_file(s, srcdir, dstdir, name, rel, &st);
	if (!S_ISDIR(st.st_mode))
		return fail_entry(s->err, HOIST_EXIT_BAD_BUNDLE, rel, "unsupported file type");
	if (depth >= MAX_DIR_DEPTH)
		return fail_entry(s->err, HOIST_EXIT_BAD_BUNDLE, rel, "nested deeper than %d directories",
				  MAX_DIR_DEPTH);
	{
		struct timespec ts[2] = {st.st_atim, st.st_mtim};
		int sub = -1;
		int dsub = -1;
		int rc = -1;
		sub = openat(srcdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0) {
			fail_entry(s->err, HOIST_EXIT_IO, rel, "cannot open directory: %s", strerror(errno));
			goto dout;
		}
		if (mkdirat(dstdir, name, 0700) != 0 ||
		    (dsub = openat(dstdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
			fail_entry(s->err, HOIST_EXIT_IO, rel, "cannot create directory: %s", strerror(errno));
			goto dout;
		}
		if (copy_dir(s, sub, dsub, rel, len, depth + 1) != 0)
			goto dout;
		/* mode and times last: a read-only directory must not stop its own copy */
		if (fchmod(dsub, st.st_mode & 07777) != 0 || futimens(dsub, ts) != 0) {
			fail_entry(s->err, HOIST_EXIT_IO, rel, "cannot set mode or times: %s", strerror(errno));
			goto dout;
		}
		rc = 0;
dout:
		if (sub >= 0)
			close(sub);
		if (dsub >= 0)
			close(dsub);
		return rc;
	}
}

/* Copies the contents of srcdir into dstdir (both open directories). */
static int copy_dir(struct stage *s, int srcdir, int dstdir, char *rel, size_t rellen, unsigned depth)
{
	DIR *d = NULL;
	struct dirent *de;
	int fd = dup(srcdir);
	int rc = -1;

	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		rel[rellen] = '\0';
		return fail_entry(s->err, HOIST_EXIT_IO, rellen ? rel : ".", "cannot read directory: %s",
				  strerror(errno));
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (de == NULL) {
			if (errno != 0) {
				rel[rellen] = '\0';
				fail_entry(s->err, HOIST_EXIT_IO, rellen ? rel : ".",
					   "cannot read directory: %s", strerror(errno));
				goto out;
			}
			break;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (copy_one(s, srcdir, dstdir, de->d_name, rel, rellen, depth) != 0)
			goto out;
	}
	rc = 0;
out:
	closedir(d);
	return rc;
}

/* The reference's wrapper rule: when the root holds exactly one entry, a
 * directory, and one of its children's names contains "appspec" (any case),
 * that directory becomes the root (GitHub tarballs: owner-repo-sha/). */
static int lift_wrapper(const char *staging, char *tmp, size_t tmpsz, struct herr *err)
{
	char only[NAME_MAX + 1] = "";
	char path[PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *d = NULL;
	int n = 0;
	int found = 0;
	int rc = -1;

	if ((d = opendir(staging)) == NULL)
		return herr_errno(err, HOIST_EXIT_IO, errno, "cannot read %s", staging);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (++n > 1)
			break;
		snprintf(only, sizeof(only), "%s", de->d_name);
	}
	closedir(d);
	d = NULL;
	if (n != 1 || fs_path_join(path, sizeof(path), staging, only) != 0)
		return 0;
	if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		return 0;
	if ((d = opendir(path)) == NULL)
		return herr_errno(err, HOIST_EXIT_IO, errno, "cannot read %s", relpath_show(path));
	while ((de = readdir(d)) != NULL)
		if (strcasestr(de->d_name, "appspec") != NULL)
			found = 1;
	closedir(d);
	if (!found)
		return 0;
	n = snprintf(tmp, tmpsz, "%s.lift-%ld", staging, (long)getpid());
	if (n < 0 || (size_t)n >= tmpsz)
		return herr_set(err, HOIST_EXIT_IO, "staging path too long: %s", staging);
	/* move the wrapper beside staging, then put it in staging's place */
	if (rename(path, tmp) != 0) {
		herr_errno(err, HOIST_EXIT_IO, errno, "cannot lift wrapper directory %s", relpath_show(path));
		tmp[0] = '\0';
		goto out;
	}
	if (rmdir(staging) != 0 || rename(tmp, staging) != 0) {
		herr_errno(err, HOIST_EXIT_IO, errno, "cannot lift wrapper directory %s", relpath_show(path));
		goto out;
	}
	tmp[0] = '\0';
	log_info("bundle: lifted wrapper directory '%s' to the bundle root", relpath_show(only));
	rc = 0;
out:
	return rc;
}

int bundle_stage(const char *bundle_path, const char *staging, const struct bundle_limits *lim,
		 struct herr *err)
{
	struct bundle_limits defl;
	struct stage s;
	struct stat st;
	char lift_tmp[PATH_MAX] = "";
	char rel[PATH_MAX] = "";
	int bfd = -1;
	int cwd = -1;
	int created = 0;
	int rc = -1;

	if (lim == NULL) {
		bundle_limits_default(&defl);
		lim = &defl;
	}
	memset(&s, 0, sizeof(s));
	s.lim = lim;
	s.fd = -1;
	s.err = err;
	/* O_NONBLOCK: a FIFO named as the bundle must not hang the open */
	bfd = open(bundle_path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (bfd < 0 || fstat(bfd, &st) != 0) {
		herr_errno(err, HOIST_EXIT_IO, errno, "cannot open bundle %s", bundle_path);
		goto out;
	}
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		herr_set(err, HOIST_EXIT_BAD_BUNDLE, "bundle %s is neither a file nor a directory",
			 bundle_path);
		goto out;
	}
	if (S_ISREG(st.st_mode) && st.st_size == 0) {
		herr_set(err, HOIST_EXIT_BAD_BUNDLE, "bundle %s is empty (0 bytes)", bundle_path);
		goto out;
	}
	s.archive_bytes = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
	s.cap = bundle_extract_cap(lim, s.archive_bytes);
	/* 0700 while filling: nobody else walks a half-made tree */
	if (mkdir(staging, 0700) != 0) {
		herr_errno(err, HOIST_EXIT_IO, errno, "cannot create staging directory %s", staging);
		goto out;
	}
	created = 1;
	s.fd = open(staging, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (s.fd < 0) {
		herr_errno(err, HOIST_EXIT_IO, errno, "cannot open staging directory %s", staging);
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		if (copy_dir(&s, bfd, s.fd, rel, 0, 0) != 0)
			goto out;
	} else {
		cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cwd < 0 || fchdir(s.fd) != 0) {
			herr_errno(err, HOIST_EXIT_IO, errno, "cannot enter staging directory %s", staging);
			goto out;
		}
		if (extract_archive(&s, bfd, bundle_path) != 0)
			goto out;
		if (fchdir(cwd) != 0) {
			herr_errno(err, HOIST_EXIT_IO, errno, "cannot return to the working directory");
			goto out;
		}
	}
	close(s.fd);
	s.fd = -1;
	if (lift_wrapper(staging, lift_tmp, sizeof(lift_tmp), err) != 0)
		goto out;
	if (chmod(staging, 0755) != 0) {
		herr_errno(err, HOIST_EXIT_IO, errno, "cannot chmod %s", staging);
		goto out;
	}
	log_debug("bundle: staged %llu entries, %llu bytes into %s", (unsigned long long)s.entries,
		  (unsigned long long)s.bytes, staging);
	rc = 0;
out:
	if (cwd >= 0) {
		if (fchdir(cwd) != 0)
			log_warn("cannot return to the working directory");
		close(cwd);
	}
	if (s.fd >= 0)
		close(s.fd);
	if (bfd >= 0)
		close(bfd);
	if (rc != 0 && created) {
		struct herr e2 = {0};
		if (fs_rm_rf(staging, &e2) != 0 || (lift_tmp[0] && fs_rm_rf(lift_tmp, &e2) != 0))
			log_warnx("cannot remove staging after a failure: %s", e2.msg);
	}
	return rc;
}
