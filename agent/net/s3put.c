/* s3put.c - S3 writes (see s3put.h). */
#include "s3put.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "digest.h"
#include "exitcodes.h"
#include "log.h"
#include "s3.h"

#define PUT_TIMEOUT_MS 0 /* bodies may be large: the stall limit applies instead */
#define SMALL_TIMEOUT_MS 60000
/* S3 may take minutes to assemble a large object; it keeps the connection
 * alive with whitespace meanwhile, an emulator may send nothing at all */
#define COMPLETE_TIMEOUT_MS (30u * 60 * 1000)
#define UPLOAD_ID_MAX 1024
#define HDR 256

/* hex and "x-amz-checksum-sha256: BASE64" of a digest. */
static void digest_headers(const uint8_t d[32], char hex[65], char *cks_h, size_t cks_sz)
{
	unsigned char b64[48];
	hex_encode(d, 32, hex);
	(void)EVP_EncodeBlock(b64, d, 32);
	(void)snprintf(cks_h, cks_sz, "x-amz-checksum-sha256: %s", (const char *)b64);
}

static void copy_etag(const struct http_response *resp, char *out, size_t outsz)
{
	if (http_header_get(resp->headers.data != NULL ? resp->headers.data : "", resp->headers.len, "ETag",
	                    out, outsz) != 1)
		out[0] = '\0';
}

/* The error of a failed write: conditions apart, then s3_status_error. */
static int put_error(const struct http_response *resp, const char *what, const char *bucket, const char *key,
                     struct herr *err)
{
	if (resp->status == 412 || resp->status == 409)
		return herr_set(err, HOIST_EXIT_BUSY,
		                "%s s3://%s/%s: the object changed since it was read (another writer won: "
		                "HTTP %ld); read it again and retry",
		                what, bucket, key, resp->status);
	(void)s3_status_error(resp, what, bucket, key, err);
	if (resp->status == 403 && err->code == HOIST_EXIT_DENIED && strstr(err->msg, "GetObject") != NULL)
		(void)herr_set(err, HOIST_EXIT_DENIED,
		               "%s s3://%s/%s: access denied (does the build role allow s3:PutObject on it?)",
		               what, bucket, key);
	return -1;
}

int s3_put_buffer(struct s3client *c, const char *bucket, const char *key, const void *data, size_t len,
                  const struct s3_put_opts *o, struct s3_put_result *out, struct herr *err)
{
	uint8_t d[32];
	char hex[65], cks_h[HDR], ct_h[HDR], im_h[HDR + 16];
	const char *extra[6];
	size_t ne = 0;
	struct http_response resp;
	struct s3_call call = {0};
	int rc = -1, n;

	http_response_init(&resp);
	out->status = 0;
	out->etag[0] = '\0';
	if (sha256_buf(data, len, d) != 0) {
		herr_set(err, HOIST_EXIT_INTERNAL, "cannot hash the object");
		goto out;
	}
	digest_headers(d, hex, cks_h, sizeof(cks_h));
	n = snprintf(ct_h, sizeof(ct_h), "Content-Type: %s",
	             o != NULL && o->content_type != NULL ? o->content_type : "application/octet-stream");
	if (n < 0 || (size_t)n >= sizeof(ct_h)) {
		herr_set(err, HOIST_EXIT_INTERNAL, "content type too long");
		goto out;
	}
	extra[ne++] = ct_h;
	extra[ne++] = "x-amz-sdk-checksum-algorithm: SHA256";
	extra[ne++] = cks_h;
	if (o != NULL && o->if_match != NULL) {
		n = snprintf(im_h, sizeof(im_h), "If-Match: %s", o->if_match);
		if (n < 0 || (size_t)n >= sizeof(im_h) || strpbrk(o->if_match, "\r\n") != NULL) {
			herr_set(err, HOIST_EXIT_INTERNAL, "invalid ETag for If-Match");
			goto out;
		}
		extra[ne++] = im_h;
	} else if (o != NULL && o->if_none_match) {
		extra[ne++] = "If-None-Match: *";
	}
	call.method = "PUT";
	call.bucket = bucket;
	call.key = key;
	call.extra = extra;
	call.n_extra = ne;
	call.payload_sha256_hex = hex;
	call.has_body = 1;
	call.body = data;
	call.body_len = len;
	call.timeout_ms = PUT_TIMEOUT_MS;
	if (s3_call(c, &call, &resp, err) != 0)
		goto out;
	out->status = resp.status;
	if (resp.status < 200 || resp.status >= 300) {
		put_error(&resp, "PUT", bucket, key, err);
		goto out;
	}
	copy_etag(&resp, out->etag, sizeof(out->etag));
	rc = 0;
out:
	http_response_free(&resp);
	return rc;
}

uint64_t s3_part_size(uint64_t size, uint64_t want)
{
	const uint64_t mib = 1024 * 1024;
	uint64_t p = want != 0 ? want : S3_PUT_DEFAULT_PART;
	if (p < S3_PUT_MIN_PART)
		p = S3_PUT_MIN_PART;
	if (size / p >= S3_PUT_MAX_PARTS) {
		/* smallest whole-MiB size that fits 10000 parts */
		p = size / S3_PUT_MAX_PARTS + 1;
		p = (p + mib - 1) / mib * mib;
	}
	return p;
}

static int upload_id_char(int ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       strchr("._~-/+=", ch) != NULL;
}

int s3_parse_upload_id(const char *xml, size_t len, char *out, size_t outsz)
{
	static const char open[] = "<UploadId>", close[] = "</UploadId>";
	const char *p, *e, *end = xml + len;
	size_t n;
	if (xml == NULL)
		return -1;
	for (p = xml; p + sizeof(open) - 1 <= end; p++)
		if (memcmp(p, open, sizeof(open) - 1) == 0)
			break;
	if (p + sizeof(open) - 1 > end)
		return -1;
	p += sizeof(open) - 1;
	for (e = p; e < end && upload_id_char((unsigned char)*e); e++)
		;
	n = (size_t)(e - p);
	if (n == 0 || n >= outsz || (size_t)(end - e) < sizeof(close) - 1 ||
	    memcmp(e, close, sizeof(close) - 1) != 0)
		return -1;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

/* Reads a range of the file with pread (no shared offset). */
struct file_src {
	int fd;
	uint64_t off; /* next byte of the file */
	uint64_t end;
	struct sha256_ctx *h; /* hashes the bytes as they go out (first pass) */
};

static int pread_full(int fd, void *buf, size_t n, uint64_t off, struct herr *err)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = pread(fd, (char *)buf + got, n - got, (off_t)(off + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return herr_errno(err, HOIST_EXIT_IO, errno,
			                  "cannot read the file at offset %" PRIu64, off + got);
		if (r == 0)
			return herr_set(err, HOIST_EXIT_IO,
			                "the file shrank while it was uploaded (end at offset %" PRIu64 ")",
			                off + got);
		got += (size_t)r;
	}
	return 0;
}

static long file_read(void *ud, char *out, size_t n, struct herr *err)
{
	struct file_src *s = ud;
	uint64_t left = s->end - s->off;
	if (n > left)
		n = (size_t)left;
	if (n > 1024 * 1024)
		n = 1024 * 1024;
	if (n == 0)
		return 0;
	if (pread_full(s->fd, out, n, s->off, err) != 0)
		return -1;
	s->off += n;
	return (long)n;
}

/* The SHA-256 of bytes [off, off+len) of fd; also feeds whole when non-NULL. */
static int hash_range(int fd, uint64_t off, uint64_t len, struct sha256_ctx *whole, uint8_t out[32],
                      struct herr *err)
{
	enum { CHUNK = 1024 * 1024 };
	char *b = malloc(CHUNK);
	struct sha256_ctx *h = sha256_new();
	int rc = -1;
	if (b == NULL || h == NULL) {
		herr_set(err, HOIST_EXIT_INTERNAL, "out of memory hashing the file");
		goto out;
	}
	while (len > 0) {
		size_t n = len > CHUNK ? CHUNK : (size_t)len;
		if (pread_full(fd, b, n, off, err) != 0)
			goto out;
		if (sha256_update(h, b, n) != 0 || (whole != NULL && sha256_update(whole, b, n) != 0)) {
			herr_set(err, HOIST_EXIT_INTERNAL, "cannot hash the file");
			goto out;
		}
		off += n;
		len -= n;
	}
	if (sha256_final(h, out) != 0) {
		herr_set(err, HOIST_EXIT_INTERNAL, "cannot hash the file");
		goto out;
	}
	rc = 0;
out:
	free(b);
	sha256_free(h);
	return rc;
}

/* Sends bytes [off, off+len) of fd with the given query (single PUT or one
 * part); retried on temporary errors. Fills etag. */
static int send_range(struct s3client *c, const char *bucket, const char *key, const char *query, int fd,
                      uint64_t off, uint64_t len, const uint8_t d[32], const char *content_type,
                      unsigned retries, unsigned *resent, char *etag, size_t etagsz, long *status,
                      struct herr *err)
{
	char hex[65], cks_h[HDR], ct_h[HDR];
	const char *extra[3];
	size_t ne = 0;
	struct http_response resp;
	int rc = -1;

	http_response_init(&resp);
	digest_headers(d, hex, cks_h, sizeof(cks_h));
	if (content_type != NULL) {
		(void)snprintf(ct_h, sizeof(ct_h), "Content-Type: %s", content_type);
		extra[ne++] = ct_h;
		extra[ne++] = "x-amz-sdk-checksum-algorithm: SHA256";
	}
	extra[ne++] = cks_h;
	for (unsigned attempt = 0;; attempt++) {
		struct file_src src = {fd, off, off + len, NULL};
		struct s3_call call = {0};
		call.method = "PUT";
		call.bucket = bucket;
		call.key = key;
		call.query = query;
		call.extra = extra;
		call.n_extra = ne;
		call.payload_sha256_hex = hex;
		call.has_body = 1;
		call.body_len = len;
		call.source = file_read;
		call.source_ud = &src;
		call.timeout_ms = PUT_TIMEOUT_MS;
		herr_clear(err);
		if (s3_call(c, &call, &resp, err) == 0) {
			*status = resp.status;
			if (resp.status >= 200 && resp.status < 300) {
				copy_etag(&resp, etag, etagsz);
				break;
			}
			put_error(&resp, "PUT", bucket, key, err);
		}
		if (err->code != HOIST_EXIT_TEMPFAIL || attempt >= retries)
			goto out;
		log_warnx("PUT s3://%s/%s%s%s: %s; sending it again", bucket, key, query[0] ? "?" : "", query,
		          err->msg);
		if (attempt == 0 && resent != NULL)
			(*resent)++;
		sleep(attempt < 3 ? 1U << attempt : 8);
	}
	rc = 0;
out:
	http_response_free(&resp);
	return rc;
}

/* A small signed POST/DELETE with an optional XML body; answer in resp. */
static int small_call(struct s3client *c, const char *method, const char *bucket, const char *key,
                      const char *query, const char *const *extra, size_t ne, const char *body, int slow,
                      struct http_response *resp, struct herr *err)
{
	uint8_t d[32];
	char hex[65];
	struct s3_call call = {0};
	size_t len = body != NULL ? strlen(body) : 0;
	if (sha256_buf(body != NULL ? body : "", len, d) != 0)
		return herr_set(err, HOIST_EXIT_INTERNAL, "cannot hash the request");
	hex_encode(d, 32, hex);
	call.method = method;
	call.bucket = bucket;
	call.key = key;
	call.query = query;
	call.extra = extra;
	call.n_extra = ne;
	call.payload_sha256_hex = hex;
	call.has_body = body != NULL;
	call.body = body;
	call.body_len = len;
	call.timeout_ms = slow ? COMPLETE_TIMEOUT_MS : SMALL_TIMEOUT_MS;
	call.no_stall_limit = slow;
	call.body_max = 64 * 1024;
	if (s3_call(c, &call, resp, err) != 0)
		return -1;
	if (resp->status < 200 || resp->status >= 300)
		return put_error(resp, method, bucket, key, err);
	return 0;
}

int s3_put_file(struct s3client *c, const char *bucket, const char *key, int fd, uint64_t size,
                const struct s3_file_opts *o, struct s3_file_result *out, struct herr *err)
{
	uint64_t part = s3_part_size(size, o->part_size);
	uint64_t threshold = o->multipart_threshold != 0 ? o->multipart_threshold : part;
	const char *ct = o->content_type != NULL ? o->content_type : "application/octet-stream";
	struct sha256_ctx *whole = sha256_new();
	struct http_response resp;
	struct buf complete;
	char upload_id[UPLOAD_ID_MAX], enc_id[UPLOAD_ID_MAX * 3], query[UPLOAD_ID_MAX * 3 + 64];
	char ct_h[HDR], etag[128];
	const char *extra[2];
	uint8_t d[32];
	unsigned nparts = 0;
	int started = 0, rc = -1;

	http_response_init(&resp);
	buf_init(&complete, (size_t)S3_PUT_MAX_PARTS * 256 + 1024);
	memset(out, 0, sizeof(*out));
	upload_id[0] = '\0';
	if (whole == NULL) {
		herr_set(err, HOIST_EXIT_INTERNAL, "out of memory");
		goto out;
	}
	if (size < threshold) {
		if (hash_range(fd, 0, size, whole, d, err) != 0 ||
		    send_range(c, bucket, key, "", fd, 0, size, d, ct, o->retries, NULL, out->etag,
		               sizeof(out->etag), &out->status, err) != 0)
			goto out;
		memcpy(out->sha256, d, 32);
		if (o->progress != NULL)
			o->progress(o->progress_ud, size, size);
		rc = 0;
		goto out;
	}

	(void)snprintf(ct_h, sizeof(ct_h), "Content-Type: %s", ct);
	extra[0] = ct_h;
	extra[1] = "x-amz-checksum-algorithm: SHA256";
	if (small_call(c, "POST", bucket, key, "uploads", extra, 2, NULL, 0, &resp, err) != 0)
		goto out;
	if (s3_parse_upload_id(resp.body.data, resp.body.len, upload_id, sizeof(upload_id)) != 0) {
		herr_set(err, HOIST_EXIT_DENIED, "POST s3://%s/%s?uploads: no UploadId in the answer", bucket,
		         key);
		goto out;
	}
	if (s3_encode(upload_id, false, enc_id, sizeof(enc_id)) != 0) {
		herr_set(err, HOIST_EXIT_INTERNAL, "upload id too long");
		goto out;
	}
	started = 1;
	if (buf_append_str(&complete,
	                   "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">") !=
	    0)
		goto oom;
	for (uint64_t off = 0; off < size; off += part) {
		uint64_t len = size - off < part ? size - off : part;
		unsigned char b64[48];
		long st = 0;
		nparts++;
		if (hash_range(fd, off, len, whole, d, err) != 0)
			goto out;
		(void)snprintf(query, sizeof(query), "partNumber=%u&uploadId=%s", nparts, enc_id);
		if (send_range(c, bucket, key, query, fd, off, len, d, NULL, o->retries, &out->part_retries,
		               etag, sizeof(etag), &st, err) != 0) {
			herr_prefix(err, "part %u (bytes %" PRIu64 "-%" PRIu64 ")", nparts, off,
			            off + len - 1);
			goto out;
		}
		(void)EVP_EncodeBlock(b64, d, 32);
		if (strpbrk(etag, "<>&") != NULL) {
			herr_set(err, HOIST_EXIT_DENIED, "part %u: unexpected ETag in the answer", nparts);
			goto out;
		}
		if (buf_printf(
		        &complete,
		        "<Part><PartNumber>%u</PartNumber><ETag>%s</ETag><ChecksumSHA256>%s</ChecksumSHA256>"
		        "</Part>",
		        nparts, etag, (const char *)b64) != 0)
			goto oom;
		if (o->progress != NULL)
			o->progress(o->progress_ud, off + len, size);
	}
	if (buf_append_str(&complete, "</CompleteMultipartUpload>") != 0)
		goto oom;
	(void)snprintf(query, sizeof(query), "uploadId=%s", enc_id);
	if (small_call(c, "POST", bucket, key, query, NULL, 0, complete.data, 1, &resp, err) != 0)
		goto out;
	/* CompleteMultipartUpload may answer 200 with an <Error> body */
	if (s3_error_code(resp.body.data, resp.body.len, etag, sizeof(etag)) == 1) {
		herr_set(err, HOIST_EXIT_TEMPFAIL, "POST s3://%s/%s: completing the upload failed (%s)",
		         bucket, key, etag);
		goto out;
	}
	started = 0;
	out->status = resp.status;
	copy_etag(&resp, out->etag, sizeof(out->etag));
	out->parts = nparts;
	if (sha256_final(whole, out->sha256) != 0) {
		herr_set(err, HOIST_EXIT_INTERNAL, "cannot hash the file");
		goto out;
	}
	rc = 0;
	goto out;
oom:
	herr_set(err, HOIST_EXIT_INTERNAL, "out of memory");
out:
	if (started) {
		/* leave no billed parts behind; the first error is the one reported */
		struct herr ignored = {0};
		(void)snprintf(query, sizeof(query), "uploadId=%s", enc_id);
		if (small_call(c, "DELETE", bucket, key, query, NULL, 0, NULL, 0, &resp, &ignored) != 0)
			log_warnx("could not abort the multipart upload of s3://%s/%s: %s", bucket, key,
			          ignored.msg);
	}
	sha256_free(whole);
	buf_free(&complete);
	http_response_free(&resp);
	return rc;
}
