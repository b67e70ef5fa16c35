/* download.c - streamed, verified, resumable bundle download (see download.h). */
#include "download.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "digest.h"
#include "exitcodes.h"
#include "fsutil.h"
#include "log.h"
#include "partial.h"
#include "progress.h"
#include "retry.h"
#include "s3.h"

#define SIDECAR_MAX 4096
#define META_TIMEOUT_MS 30000
#define BACKOFF_BASE_MS 200
#define BACKOFF_CAP_MS 5000
#define WRITEBACK_CHUNK (8u << 20)
#define MIN_REQUEST_MS 200 /* no attempt starts with less of the deadline left */

/* State of one download, seen by the body sink. */
struct dl {
	const struct download_opts *o;
	const char *bucket, *key;
	struct http_response *resp;
	struct sha256_ctx *sha;
	struct progress prog;
	int fd;
	char tmp[PATH_MAX];
	uint64_t bytes;   /* verified-contiguous bytes in the temp file */
	uint64_t total;   /* object size when known */
	uint64_t flushed; /* bytes handed to writeback */
	char etag[256];
	bool resuming; /* this request asked for a Range */
	bool started;  /* the sink has seen this response */
	bool has_s3sum;
	uint8_t s3sum[32];
	char s3sum_hdr[128];        /* the header as sent, for the partial's meta */
	const struct partial *part; /* the kept-download names; NULL: not kept */
	bool kept;                  /* resumed from bytes an earlier run kept */
	uint64_t deadline_ms;       /* the whole download; 0 = none */
};

/* Empties the temp file and the hash: the object is fetched from byte 0. */
static int restart(struct dl *d, struct herr *err)
{
	if (ftruncate(d->fd, 0) != 0 || lseek(d->fd, 0, SEEK_SET) != 0)
		return herr_errno(err, HOIST_EXIT_IO, errno, "cannot truncate %s", d->tmp);
	if (sha256_reset(d->sha) != 0)
		return herr_set(err, HOIST_EXIT_INTERNAL, "sha256 reset failed");
	d->bytes = 0;
	d->flushed = 0;
	d->kept = false;
	return 0;
}

/* Reads the checksum header of a full-object response or HEAD. */
static void take_checksum(struct dl *d, const struct buf *hdrs)
{
	char v[128];
	int r;
	if (http_header_get(hdrs->data, hdrs->len, "x-amz-checksum-sha256", v, sizeof(v)) != 1)
		return;
	r = s3_checksum_header(v, d->s3sum);
	if (r == 1) {
		d->has_s3sum = true;
		(void)snprintf(d->s3sum_hdr, sizeof(d->s3sum_hdr), "%s", v);
	} else if (r == 0)
		log_info("s3 checksum of s3://%s/%s is a multipart composite (%s), not used", d->bucket,
		         d->key, v);
	else
		log_warnx("ignoring malformed x-amz-checksum-sha256 of s3://%s/%s", d->bucket, d->key);
}

/* Records what the first response said, so that a run killed or failing
 * from here on leaves a download the next run can resume. Without an ETag
 * a resume cannot be made safe (If-Match), so nothing is kept then. */
static void keep_facts(struct dl *d)
{
	struct partial_meta m;
	struct herr e = {0, ""};
	if (d->part == NULL)
		return;
	if (d->etag[0] == '\0' || strlen(d->etag) >= sizeof(m.etag)) {
		(void)unlink(d->part->meta);
		return;
	}
	memset(&m, 0, sizeof(m));
	memcpy(m.etag, d->etag, strlen(d->etag) + 1);
	m.total = d->total;
	memcpy(m.checksum, d->s3sum_hdr, sizeof(m.checksum));
	if (partial_save(d->part, d->bucket, d->key, &m, &e) != 0) {
		log_warnx("cannot record the download for a later resume: %s", e.msg);
		(void)unlink(d->part->meta);
	}
}

/* First body bytes of a response: checks size, resume position and ETag. */
static int on_start(struct dl *d, struct herr *err)
{
	const struct buf *h = &d->resp->headers;
	char v[256];
	uint64_t len = 0;
	const char *p;

	d->started = true;
	if (http_header_get(h->data, h->len, "Content-Length", v, sizeof(v)) == 1) {
		p = v;
		len = strtoull(p, NULL, 10);
	}
	if (d->resp->status == 206 && d->resuming) {
		uint64_t s, e, t;
		if (http_header_get(h->data, h->len, "Content-Range", v, sizeof(v)) != 1 ||
		    s3_parse_content_range(v, &s, &e, &t) != 0 || s != d->bytes)
			return herr_set(err, HOIST_EXIT_TEMPFAIL,
			                "resumed GET s3://%s/%s: Content-Range does not start at byte %llu",
			                d->bucket, d->key, (unsigned long long)d->bytes);
		if (http_header_get(h->data, h->len, "ETag", v, sizeof(v)) == 1 && strcmp(v, d->etag) != 0) {
			/* another object now: the next attempt starts from byte 0 */
			d->etag[0] = '\0';
			if (d->part != NULL)
				(void)unlink(d->part->meta);
			return herr_set(err, HOIST_EXIT_TEMPFAIL,
			                "s3://%s/%s changed during the download (ETag)", d->bucket, d->key);
		}
		log_info("resuming at byte %llu", (unsigned long long)d->bytes);
		return 0;
	}
	if (d->resp->status != 200)
		return herr_set(err, HOIST_EXIT_TEMPFAIL, "GET s3://%s/%s: unexpected HTTP %ld", d->bucket,
		                d->key, d->resp->status);
	/* a full body: start over (the server may have ignored Range) */
	if (d->bytes > 0 && restart(d, err) != 0)
		return -1;
	if (len > d->o->max_bytes)
		return herr_set(err, HOIST_EXIT_TOO_LARGE,
		                "s3://%s/%s is %llu bytes, more than max_bundle_bytes %llu", d->bucket,
		                d->key, (unsigned long long)len, (unsigned long long)d->o->max_bytes);
	d->total = len;
	d->etag[0] = '\0';
	if (http_header_get(h->data, h->len, "ETag", v, sizeof(v)) == 1)
		memcpy(d->etag, v, strlen(v) + 1);
	d->has_s3sum = false;
	d->s3sum_hdr[0] = '\0';
	take_checksum(d, h);
	keep_facts(d);
	progress_start(&d->prog, len, d->o->progress_tty, d->o->progress);
	return 0;
}

/* Starts writeback of each completed WRITEBACK_CHUNK in the background, so
 * the disk works while the network does and the final fsync has little
 * left to do; it also keeps dirty page cache small on small instances. */
static void writeback(struct dl *d)
{
	uint64_t done = d->bytes / WRITEBACK_CHUNK * WRITEBACK_CHUNK;
	if (done > d->flushed) {
		(void)sync_file_range(d->fd, (off_t)d->flushed, (off_t)(done - d->flushed),
		                      SYNC_FILE_RANGE_WRITE);
		d->flushed = done;
	}
}

/* The body sink: size check, hash, write. */
static int on_data(void *ud, const char *data, size_t n, struct herr *err)
{
	struct dl *d = ud;
	if (!d->started && on_start(d, err) != 0)
		return -1;
	if (n > d->o->max_bytes - d->bytes || d->bytes + n > d->o->max_bytes)
		return herr_set(err, HOIST_EXIT_TOO_LARGE, "s3://%s/%s is larger than max_bundle_bytes %llu",
		                d->bucket, d->key, (unsigned long long)d->o->max_bytes);
	if (sha256_update(d->sha, data, n) != 0)
		return herr_set(err, HOIST_EXIT_INTERNAL, "sha256 update failed");
	/* zeros become a hole (the size is set before the fsync): a bundle's
	 * long zero runs (disk images) cost no disk; a resume starts at the
	 * file's size, so one killed after a hole fetches the hole again */
	if (n > 0 && data[0] == '\0' && memcmp(data, data + 1, n - 1) == 0) {
		if (lseek(d->fd, (off_t)n, SEEK_CUR) < 0)
			return herr_errno(err, HOIST_EXIT_IO, errno, "cannot seek %s", d->tmp);
	} else if (fs_write_all(d->fd, data, n) != 0) {
		return herr_errno(err, HOIST_EXIT_IO, errno, "cannot write %s", d->tmp);
	}
	d->bytes += n;
	writeback(d);
	progress_update(&d->prog, d->bytes);
	return 0;
}

/* Time left of the download's deadline in ms: UINT64_MAX without one. */
static uint64_t time_left(uint64_t deadline_ms)
{
	return deadline_ms == 0 ? UINT64_MAX : retry_remaining_ms(retry_now_ms(), deadline_ms);
}

/* The timeout of one request: at most cap_ms (0 = none), never past the deadline. */
static unsigned request_timeout(unsigned cap_ms, uint64_t deadline_ms)
{
	uint64_t left = time_left(deadline_ms);
	if (left == UINT64_MAX)
		return cap_ms;
	if (cap_ms == 0 || left < cap_ms)
		return left > 0 ? (unsigned)(left < UINT32_MAX ? left : UINT32_MAX) : 1;
	return cap_ms;
}

/* Sleeps before another attempt; 0 = go on, -1 = attempts exhausted or
 * no time left before the deadline (*late set). */
static int backoff(unsigned *attempt, unsigned retries, uint64_t deadline_ms, bool *late,
                   const struct herr *err)
{
	unsigned delay = retry_backoff_ms(*attempt, BACKOFF_BASE_MS, BACKOFF_CAP_MS, retry_random());
	uint64_t left = time_left(deadline_ms);
	(*attempt)++;
	if (*attempt > retries)
		return -1;
	if (left != UINT64_MAX && left < (uint64_t)delay + MIN_REQUEST_MS) {
		*late = true;
		return -1;
	}
	log_warnx("%s; retry %u of %u in %u ms", err->msg, *attempt, retries, delay);
	retry_sleep_ms(delay);
	return 0;
}

/* A small signed GET or HEAD with retries on temporary failures. Returns
 * 0 (2xx in resp), 1 (404 when missing_ok), -1. */
static int small_request(struct s3client *c, const char *method, const char *bucket, const char *key,
                         const struct download_opts *o, uint64_t deadline_ms, int missing_ok,
                         struct http_response *resp, struct herr *err)
{
	unsigned attempt = 0;
	bool late = false;
	for (;;) {
		if (time_left(deadline_ms) == 0)
			return herr_set(err, HOIST_EXIT_TEMPFAIL,
			                "%s s3://%s/%s: not done within download_deadline_s=%u", method,
			                bucket, key, o->deadline_s);
		unsigned sent = c->requests;
		if (s3_request(c, method, bucket, key, NULL, 0, request_timeout(META_TIMEOUT_MS, deadline_ms),
		               NULL, NULL, resp, err) == 0) {
			if (resp->status >= 200 && resp->status < 300)
				return 0;
			if (resp->status == 404 && missing_ok)
				return 1;
			s3_status_error(resp, method, bucket, key, err);
		}
		/* never sent: the credentials were already retried within the metadata deadline */
		if (c->requests == sent || err->code != HOIST_EXIT_TEMPFAIL ||
		    backoff(&attempt, o->retries, deadline_ms, &late, err) != 0) {
			if (late)
				herr_prefix(err, "%s s3://%s/%s: not done within download_deadline_s=%u",
				            method, bucket, key, o->deadline_s);
			return -1;
		}
	}
}

/* Fetches "<key>.sha256"; 1 = found (out filled), 0 = none, -1 = error. */
static int fetch_sidecar(struct s3client *c, const struct download_opts *o, uint64_t deadline_ms,
                         const char *bucket, const char *key, uint8_t out[32], struct herr *err)
{
	char skey[S3_URL_MAX];
	struct http_response resp;
	int n = snprintf(skey, sizeof(skey), "%s.sha256", key);
	int r, rc = -1;
	if (n < 0 || (size_t)n >= sizeof(skey))
		return herr_set(err, HOIST_EXIT_DIRECTIVE, "object key too long");
	http_response_init(&resp);
	resp.body.max = SIDECAR_MAX;
	r = small_request(c, "GET", bucket, skey, o, deadline_ms, 1, &resp, err);
	if (r < 0) {
		if (err->code == HOIST_EXIT_DENIED)
			rc = 0; /* no s3:GetObject on the sidecar reads as "no sidecar" */
		goto out;
	}
	if (r == 1) {
		rc = 0;
		goto out;
	}
	if (s3_parse_sidecar(resp.body.data != NULL ? resp.body.data : "", resp.body.len, out) != 0) {
		herr_set(err, HOIST_EXIT_INTEGRITY, "sidecar s3://%s/%s is not a sha256 hex digest", bucket,
		         skey);
		goto out;
	}
	rc = 1;
out:
	http_response_free(&resp);
	return rc;
}

/* 1 if cache_dir/<hex>.bundle exists and hashes to want (a damaged copy is removed). */
static int cache_lookup(const struct download_opts *o, const uint8_t want[32], char *path, size_t pathsz,
                        struct herr *err)
{
	char hex[SHA256_HEX_LEN + 1], name[SHA256_HEX_LEN + 16];
	uint8_t got[32];
	struct herr e2 = {0, ""};
	hex_encode(want, 32, hex);
	(void)snprintf(name, sizeof(name), "%s.bundle", hex);
	if (fs_path_join(path, pathsz, o->cache_dir, name) != 0)
		return herr_set(err, HOIST_EXIT_CONFIG, "cache_dir too long");
	if (fs_exists(path) != 1)
		return 0;
	if (sha256_file(path, got, &e2) == 0 && digest_equal(got, want, 32))
		return 1;
	log_warnx("cached %s is damaged, removing it", path);
	(void)unlink(path);
	return 0;
}

/* 1 when cache_dir holds at least one "*.bundle" (a HEAD can only pay off then). */
static int cache_nonempty(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int found = 0;
	if (d == NULL)
		return 0;
	while (!found && (e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		found = n > 7 && strcmp(e->d_name + n - 7, ".bundle") == 0;
	}
	closedir(d);
	return found;
}

/* Removes cached bundles no kept revision uses any more. The agent keeps a
 * revision's bundle as a hard link to the cache file, so a cache file with a
 * single link belongs to no kept revision (the agent's retention removed it,
 * or it was never deployed). keep is the bundle being handed over; files
 * younger than CACHE_GRACE_S are left, as another run may be about to hand
 * them over. Best effort: a failure here only leaves a file behind. */
#define CACHE_GRACE_S 3600
static void cache_prune(const char *dir, const char *keep)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct stat st;
	const char *keep_name = strrchr(keep, '/');
	time_t now = time(NULL);
	uint64_t freed = 0;
	unsigned removed = 0;
	char sz[32];

	keep_name = keep_name != NULL ? keep_name + 1 : keep;
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		if (n <= 7 || strcmp(e->d_name + n - 7, ".bundle") != 0 || strcmp(e->d_name, keep_name) == 0)
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) ||
		    st.st_nlink != 1 || now - st.st_mtime < CACHE_GRACE_S)
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) == 0) {
			removed++;
			freed += (uint64_t)st.st_size;
		}
	}
	closedir(d);
	if (removed > 0) {
		progress_bytes(freed, sz, sizeof(sz));
		log_info("cache: removed %u bundle%s no kept revision uses (%s)", removed,
		         removed == 1 ? "" : "s", sz);
	}
}

/* Appends a source name to the result's list. */
static void add_source(struct download_result *r, const char *s)
{
	size_t l = strlen(r->sources);
	(void)snprintf(r->sources + l, sizeof(r->sources) - l, "%s%s", l ? ", " : "", s);
}

/* Compares the computed digest with one source; INTEGRITY error naming both. */
static int check_source(const struct dl *d, const uint8_t got[32], const uint8_t want[32], const char *source,
                        struct download_result *r, struct herr *err)
{
	char gh[SHA256_HEX_LEN + 1], wh[SHA256_HEX_LEN + 1];
	if (digest_equal(got, want, 32)) {
		add_source(r, source);
		return 0;
	}
	hex_encode(got, 32, gh);
	hex_encode(want, 32, wh);
	return herr_set(err, HOIST_EXIT_INTEGRITY,
	                "sha256 mismatch for s3://%s/%s: downloaded %s, %s says %s", d->bucket, d->key, gh,
	                source, wh);
}

/* Opens the file the body goes to. Normally the object's partial file (kept
 * after a failure for the next run); when its facts are known and still
 * hold, the bytes it has are hashed again and the download resumes after
 * them. When another run holds that file, a private temp file is used and
 * nothing is kept. */
static int open_target(struct dl *d, struct partial *part, struct herr *err)
{
	const struct download_opts *o = d->o;
	struct partial_meta m;
	struct stat st;
	char sz[32], tsz[32];

	if (partial_names(o->tmp_dir, d->bucket, d->key, part) == 0) {
		partial_prune(o->tmp_dir, part, PARTIAL_MAX_AGE_S);
		d->fd = open(part->data, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (d->fd >= 0 && flock(d->fd, LOCK_EX | LOCK_NB) != 0) {
			close(d->fd); /* another run is fetching the same object */
			d->fd = -1;
		} else if (d->fd >= 0) {
			(void)snprintf(d->tmp, sizeof(d->tmp), "%s", part->data);
			d->part = part;
		}
	} else {
		partial_prune(o->tmp_dir, NULL, 0);
	}
	if (d->fd < 0) {
		if (fs_path_join(d->tmp, sizeof(d->tmp), o->tmp_dir, "bundle-XXXXXX") != 0)
			return herr_set(err, HOIST_EXIT_CONFIG, "tmp dir path too long");
		d->fd = mkostemp(d->tmp, O_CLOEXEC);
		if (d->fd < 0) {
			d->tmp[0] = '\0';
			return herr_errno(err, HOIST_EXIT_IO, errno, "cannot create a temp file in %s",
			                  o->tmp_dir);
		}
		return 0;
	}
	if (fstat(d->fd, &st) != 0)
		return herr_errno(err, HOIST_EXIT_IO, errno, "cannot stat %s", d->tmp);
	if (st.st_size > 0 && partial_load(part, d->bucket, d->key, &m) == 0 &&
	    (uint64_t)st.st_size <= o->max_bytes && (m.total == 0 || (uint64_t)st.st_size < m.total)) {
		uint8_t buf[64 * 1024];
		uint64_t done = 0;
		while (done < (uint64_t)st.st_size) {
			ssize_t n = pread(d->fd, buf, sizeof(buf), (off_t)done);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return herr_errno(err, HOIST_EXIT_IO, n < 0 ? errno : EIO, "cannot read %s",
				                  d->tmp);
			if (sha256_update(d->sha, buf, (size_t)n) != 0)
				return herr_set(err, HOIST_EXIT_INTERNAL, "sha256 update failed");
			done += (uint64_t)n;
		}
		if (lseek(d->fd, (off_t)done, SEEK_SET) < 0)
			return herr_errno(err, HOIST_EXIT_IO, errno, "cannot seek %s", d->tmp);
		d->bytes = done;
		d->total = m.total;
		memcpy(d->etag, m.etag, sizeof(d->etag));
		if (m.checksum[0] != '\0' && s3_checksum_header(m.checksum, d->s3sum) == 1) {
			d->has_s3sum = true;
			memcpy(d->s3sum_hdr, m.checksum, sizeof(d->s3sum_hdr));
		}
		d->kept = true;
		progress_bytes(done, sz, sizeof(sz));
		progress_bytes(m.total, tsz, sizeof(tsz));
		log_info("an earlier run kept %s of %s of s3://%s/%s: resuming it", sz, m.total ? tsz : "?",
		         d->bucket, d->key);
		progress_start(&d->prog, m.total, o->progress_tty, o->progress);
		return 0;
	}
	/* nothing usable: start from byte 0 */
	(void)unlink(part->meta);
	if (ftruncate(d->fd, 0) != 0)
		return herr_errno(err, HOIST_EXIT_IO, errno, "cannot truncate %s", d->tmp);
	return 0;
}

/* The GET with its retries: resumes after a broken connection (Range +
 * If-Match), all within the download's deadline. */
static int fetch(struct dl *d, struct s3client *c, unsigned *attempt, struct download_result *r,
                 struct herr *err)
{
	const struct download_opts *o = d->o;
	bool late = false;
	for (;;) {
		char range[64], ifm[300];
		const char *extra[2];
		size_t ne = 0;
		uint64_t left = time_left(d->deadline_ms);
		d->resuming = d->bytes > 0 && d->etag[0] != '\0';
		d->started = false;
		if (left == 0) {
			late = true;
			break;
		}
		if (d->resuming) {
			(void)snprintf(range, sizeof(range), "Range: bytes=%llu-",
			               (unsigned long long)d->bytes);
			(void)snprintf(ifm, sizeof(ifm), "If-Match: %s", d->etag);
			extra[ne++] = range;
			extra[ne++] = ifm;
			r->resumes++;
		} else if (d->bytes > 0 && restart(d, err) != 0) {
			return -1;
		}
		unsigned sent = c->requests;
		if (s3_request(c, "GET", d->bucket, d->key, extra, ne, request_timeout(0, d->deadline_ms),
		               on_data, d, d->resp, err) == 0) {
			if (d->resp->status == 200 || d->resp->status == 206) {
				if (!d->started && on_start(d, err) != 0) /* empty body */
					return -1;
				progress_end(&d->prog);
				return 0;
			}
			if (d->resp->status == 412 || d->resp->status == 416) {
				/* the object changed since the first response: start over */
				herr_set(err, HOIST_EXIT_TEMPFAIL, "s3://%s/%s changed during the download",
				         d->bucket, d->key);
				d->etag[0] = '\0';
				if (d->part != NULL)
					(void)unlink(d->part->meta);
			} else {
				s3_status_error(d->resp, "GET", d->bucket, d->key, err);
			}
		} else if (c->requests == sent) {
			/* never sent: the credentials were already retried within the metadata deadline */
			return -1;
		} else if (d->resp->sink_failed && err->code != HOIST_EXIT_TEMPFAIL) {
			return -1; /* too large, disk error: permanent */
		}
		progress_end(&d->prog);
		if (err->code != HOIST_EXIT_TEMPFAIL ||
		    backoff(attempt, o->retries, d->deadline_ms, &late, err) != 0)
			break;
	}
	progress_end(&d->prog);
	if (late) {
		char got[32], tot[32];
		progress_bytes(d->bytes, got, sizeof(got));
		progress_bytes(d->total, tot, sizeof(tot));
		if (err->code != HOIST_EXIT_TEMPFAIL)
			herr_set(err, HOIST_EXIT_TEMPFAIL, "deadline");
		herr_prefix(err, "GET s3://%s/%s: not done within download_deadline_s=%u (%s of %s so far)",
		            d->bucket, d->key, o->deadline_s, got, d->total ? tot : "?");
	}
	return -1;
}

/* Every digest source given must agree with got, and at least one must
 * exist; fetches the sidecar when nothing else gives a digest. */
static int verify(struct dl *d, struct s3client *c, const uint8_t got[32], bool *has_side, uint8_t side[32],
                  struct download_result *r, struct herr *err)
{
	const struct download_opts *o = d->o;
	int k;
	r->sources[0] = '\0';
	if (o->has_expected && check_source(d, got, o->expected, "directive", r, err) != 0)
		return -1;
	if (d->has_s3sum && check_source(d, got, d->s3sum, "s3-checksum", r, err) != 0)
		return -1;
	if (!o->has_expected && !d->has_s3sum && !*has_side) {
		k = fetch_sidecar(c, o, d->deadline_ms, d->bucket, d->key, side, err);
		if (k < 0)
			return -1;
		*has_side = k == 1;
	}
	if (*has_side && check_source(d, got, side, "sidecar", r, err) != 0)
		return -1;
	if (r->sources[0] == '\0')
		return herr_set(
		    err, HOIST_EXIT_INTEGRITY,
		    "no sha256 known for s3://%s/%s: none in the directive, no x-amz-checksum-sha256, "
		    "no %s.sha256 sidecar; refusing an unverifiable bundle",
		    d->bucket, d->key, d->key);
	return 0;
}

int download_bundle(struct s3client *c, const struct download_opts *o, const char *bucket, const char *key,
                    struct download_result *r, struct herr *err)
{
	struct dl d;
	struct partial part;
	struct http_response resp;
	uint8_t side[32], got[32];
	bool has_side = false;
	unsigned attempt = 0;
	uint64_t t0 = retry_now_ms();
	int rc = -1, k;

	memset(&d, 0, sizeof(d));
	memset(r, 0, sizeof(*r));
	d.o = o;
	d.bucket = bucket;
	d.key = key;
	d.fd = -1;
	d.resp = &resp;
	d.deadline_ms = o->deadline_s > 0 ? t0 + (uint64_t)o->deadline_s * 1000u : 0;
	http_response_init(&resp);

	if (fs_mkdir_p(o->cache_dir, 0700, err) != 0 || fs_mkdir_p(o->tmp_dir, 0700, err) != 0)
		goto out;
	/* The cache first: with a known digest, zero S3 requests on a hit. */
	if (o->has_expected) {
		k = cache_lookup(o, o->expected, r->path, sizeof(r->path), err);
		if (k < 0)
			goto out;
		if (k == 1) {
			memcpy(r->sha256, o->expected, 32);
			add_source(r, "directive");
			r->cached = 1;
			goto cached;
		}
	} else if (cache_nonempty(o->cache_dir)) {
		/* no directive digest: HEAD once to learn the S3 checksum (skipped
		 * on an empty cache, where the GET brings the checksum anyway) */
		if (small_request(c, "HEAD", bucket, key, o, d.deadline_ms, 0, &resp, err) != 0)
			goto out;
		take_checksum(&d, &resp.headers);
		if (!d.has_s3sum) {
			k = fetch_sidecar(c, o, d.deadline_ms, bucket, key, side, err);
			if (k < 0)
				goto out;
			has_side = k == 1;
		}
		if (d.has_s3sum || has_side) {
			const uint8_t *want = d.has_s3sum ? d.s3sum : side;
			k = cache_lookup(o, want, r->path, sizeof(r->path), err);
			if (k < 0)
				goto out;
			if (k == 1) {
				memcpy(r->sha256, want, 32);
				add_source(r, d.has_s3sum ? "s3-checksum" : "sidecar");
				r->cached = 1;
				goto cached;
			}
		}
	}

	if ((d.sha = sha256_new()) == NULL) {
		herr_set(err, HOIST_EXIT_INTERNAL, "out of memory");
		goto out;
	}
	if (open_target(&d, &part, err) != 0)
		goto out;
	for (;;) {
		if (fetch(&d, c, &attempt, r, err) != 0)
			goto out;
		if (d.total > 0 && d.bytes != d.total) {
			herr_set(err, HOIST_EXIT_TEMPFAIL, "GET s3://%s/%s: got %llu of %llu bytes", bucket,
			         key, (unsigned long long)d.bytes, (unsigned long long)d.total);
			goto out;
		}
		if (sha256_final(d.sha, got) != 0) {
			herr_set(err, HOIST_EXIT_INTERNAL, "sha256 final failed");
			goto out;
		}
		if (verify(&d, c, got, &has_side, side, r, err) == 0)
			break;
		if (!d.kept || err->code != HOIST_EXIT_INTEGRITY)
			goto out;
		/* bytes an earlier run kept may not have reached the disk intact
		 * (a power loss): this run fetches the whole object once more */
		log_warnx("%s; the bytes an earlier run kept may be damaged: fetching s3://%s/%s again from "
		          "byte 0",
		          err->msg, bucket, key);
		d.kept = false;
		d.etag[0] = '\0';
		d.has_s3sum = false;
		has_side = false;
		if (restart(&d, err) != 0)
			goto out;
	}
	{
		char hex[SHA256_HEX_LEN + 1], name[SHA256_HEX_LEN + 16];
		hex_encode(got, 32, hex);
		(void)snprintf(name, sizeof(name), "%s.bundle", hex);
		if (fs_path_join(r->path, sizeof(r->path), o->cache_dir, name) != 0) {
			herr_set(err, HOIST_EXIT_CONFIG, "cache_dir too long");
			goto out;
		}
	}
	/* durable before visible: fsync the data, rename, fsync the directory */
	if (ftruncate(d.fd, (off_t)d.bytes) != 0 || fchmod(d.fd, 0644) != 0 || fsync(d.fd) != 0) {
		herr_errno(err, HOIST_EXIT_IO, errno, "cannot sync %s", d.tmp);
		goto out;
	}
	if (rename(d.tmp, r->path) != 0) {
		herr_errno(err, HOIST_EXIT_IO, errno, "cannot rename %s to %s", d.tmp, r->path);
		goto out;
	}
	d.tmp[0] = '\0';
	if (d.part != NULL)
		(void)unlink(d.part->meta);
	d.part = NULL;
	if (close(d.fd) != 0) {
		d.fd = -1;
		herr_errno(err, HOIST_EXIT_IO, errno, "cannot close %s", r->path);
		goto out;
	}
	d.fd = -1;
	if (fs_fsync_dir(o->cache_dir, err) != 0)
		goto out;
	memcpy(r->sha256, got, 32);
	r->bytes = d.bytes;
	memcpy(r->etag, d.etag, sizeof(r->etag));
	goto done;
cached : {
	struct stat st;
	if (stat(r->path, &st) == 0)
		r->bytes = (uint64_t)st.st_size;
}
done:
	r->seconds = (double)(retry_now_ms() - t0) / 1000.0;
	cache_prune(o->cache_dir, r->path);
	rc = 0;
out:
	if (rc != 0 && d.tmp[0] != '\0') {
		/* a temporary failure keeps what arrived, for the next run to resume;
		 * anything else (or an unsafe resume: no ETag) starts over next time */
		if (d.part != NULL && err->code == HOIST_EXIT_TEMPFAIL && d.bytes > 0 && d.etag[0] != '\0' &&
		    ftruncate(d.fd, (off_t)d.bytes) == 0 && fs_exists(d.part->meta) == 1) {
			char sz[32];
			progress_bytes(d.bytes, sz, sizeof(sz));
			log_info("keeping the %s received so far in %s; the next run resumes there", sz,
			         d.tmp);
		} else if (d.part != NULL) {
			partial_remove(d.part);
		} else {
			(void)unlink(d.tmp);
		}
	}
	if (d.fd >= 0)
		close(d.fd);
	sha256_free(d.sha);
	http_response_free(&resp);
	return rc;
}
