/* sigv4.c - AWS Signature Version 4 over caller-supplied request parts.
 *
 * Pure: no clock, no network, no globals. Every intermediate string lives
 * in a bounded buffer; the derived signing keys are wiped after use. */
#include "sigv4.h"

#include <openssl/crypto.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"

#define SIGV4_MAX_HEADERS 64
#define SIGV4_WORK_MAX (64 * 1024) /* canonical request and its parts */
#define SIGV4_SEGMENTS_MAX 256

static const char ALGORITHM[] = "AWS4-HMAC-SHA256";

/* 1 for the SigV4 unreserved set A-Za-z0-9-._~ */
static int unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
	       c == '.' || c == '_' || c == '~';
}

/* Percent-encodes per SigV4 (unreserved A-Za-z0-9-._~ kept); '/' kept when keep_slash. */
int sigv4_uri_encode(const char *in, size_t len, bool keep_slash, struct buf *out)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t i;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (unreserved(c) || (keep_slash && c == '/')) {
			if (buf_append(out, &in[i], 1) != 0)
				return -1;
		} else {
			char esc[3] = {'%', digits[c >> 4], digits[c & 15]};
			if (buf_append(out, esc, sizeof(esc)) != 0)
				return -1;
		}
	}
	return 0;
}

/* Percent-decodes in[0..len) into out; a '%' not followed by two hex digits is kept literally
 * (S3 would reject such a key anyway; signing what the caller gave is the safe choice). */
static int uri_decode(const char *in, size_t len, struct buf *out)
{
	size_t i;
	for (i = 0; i < len; i++) {
		char c = in[i];
		if (c == '%' && i + 2 < len && hex_value((unsigned char)in[i + 1]) >= 0 &&
		    hex_value((unsigned char)in[i + 2]) >= 0) {
			c = (char)(hex_value((unsigned char)in[i + 1]) * 16 + hex_value((unsigned char)in[i + 2]));
			i += 2;
		}
		if (buf_append(out, &c, 1) != 0)
			return -1;
	}
	return 0;
}

/* Decodes then re-encodes one span, so "a%20b" and "a b" both give "a%20b" (encoded once). */
static int reencode(const char *in, size_t len, bool keep_slash, struct buf *out)
{
	struct buf tmp;
	int rc = -1;
	buf_init(&tmp, SIGV4_WORK_MAX);
	if (uri_decode(in, len, &tmp) != 0)
		goto out;
	if (sigv4_uri_encode(tmp.data ? tmp.data : "", tmp.len, keep_slash, out) != 0)
		goto out;
	rc = 0;
out:
	buf_free(&tmp);
	return rc;
}

/* S3 path: no normalisation; each segment decoded and encoded once. */
static int canonical_path_s3(const char *path, struct buf *out)
{
	const char *p = path, *slash;
	if (*p == '\0')
		return buf_append_str(out, "/");
	if (*p != '/' && buf_append_str(out, "/") != 0)
		return -1;
	for (;;) {
		slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		if (reencode(p, n, false, out) != 0)
			return -1;
		if (slash == NULL)
			break;
		if (buf_append_str(out, "/") != 0)
			return -1;
		p = slash + 1;
	}
	return 0;
}

/* General-service path: optionally remove "." / ".." / empty segments, then encode the path
 * as given again ('%' becomes %25), the double encoding those services expect. */
static int canonical_path_general(const char *path, bool normalize, struct buf *out)
{
	const char *seg[SIGV4_SEGMENTS_MAX];
	size_t seglen[SIGV4_SEGMENTS_MAX];
	size_t nseg = 0, i, plen = strlen(path);
	const char *p = path;
	bool trailing;

	if (plen == 0)
		return buf_append_str(out, "/");
	if (!normalize)
		return sigv4_uri_encode(path, plen, true, out);

	while (*p != '\0') {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		if (n == 0 || (n == 1 && p[0] == '.')) {
			/* "//" and "/./" contribute nothing */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (nseg > 0)
				nseg--;
		} else {
			if (nseg == SIGV4_SEGMENTS_MAX)
				return -1;
			seg[nseg] = p;
			seglen[nseg] = n;
			nseg++;
		}
		if (slash == NULL)
			break;
		p = slash + 1;
	}
	/* A trailing slash is kept when the path ended in '/', as the suite expects. */
	trailing = path[plen - 1] == '/';
	if (buf_append_str(out, "/") != 0)
		return -1;
	for (i = 0; i < nseg; i++) {
		if (i > 0 && buf_append_str(out, "/") != 0)
			return -1;
		if (sigv4_uri_encode(seg[i], seglen[i], false, out) != 0)
			return -1;
	}
	if (trailing && nseg > 0 && buf_append_str(out, "/") != 0)
		return -1;
	return 0;
}

struct qparam {
	char *name;  /* encoded */
	char *value; /* encoded */
};

/* Orders query parameters by encoded name, then encoded value (byte order). */
static int qparam_cmp(const void *a, const void *b)
{
	const struct qparam *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c != 0 ? c : strcmp(x->value, y->value);
}

/* Canonical query: each name and value decoded then encoded once, sorted, joined by '&'. */
static int canonical_query(const char *query, struct buf *out)
{
	struct qparam *params = NULL;
	size_t n = 0, cap = 0, i;
	const char *p = query;
	struct buf tmp;
	int rc = -1;

	buf_init(&tmp, SIGV4_WORK_MAX);
	if (query == NULL || *query == '\0')
		return 0;
	while (*p != '\0') {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		if (len > 0) {
			const char *eq = memchr(p, '=', len);
			size_t nlen = eq ? (size_t)(eq - p) : len;
			if (n == cap) {
				struct qparam *np;
				if (cap >= 1024)
					goto out; /* bound: a signed GET never has this many */
				cap = cap ? cap * 2 : 8;
				np = realloc(params, cap * sizeof(*np));
				if (np == NULL)
					goto out;
				params = np;
			}
			params[n].name = params[n].value = NULL;
			n++;
			buf_reset(&tmp);
			if (reencode(p, nlen, false, &tmp) != 0 ||
			    (params[n - 1].name = strdup(tmp.data ? tmp.data : "")) == NULL)
				goto out;
			buf_reset(&tmp);
			if (eq != NULL && reencode(eq + 1, len - nlen - 1, false, &tmp) != 0)
				goto out;
			if ((params[n - 1].value = strdup(tmp.data ? tmp.data : "")) == NULL)
				goto out;
		}
		if (amp == NULL)
			break;
		p = amp + 1;
	}
	qsort(params, n, sizeof(*params), qparam_cmp);
	for (i = 0; i < n; i++) {
		if (buf_printf(out, "%s%s=%s", i ? "&" : "", params[i].name, params[i].value) != 0)
			goto out;
	}
	rc = 0;
out:
	for (i = 0; i < n; i++) {
		free(params[i].name);
		free(params[i].value);
	}
	free(params);
	buf_free(&tmp);
	return rc;
}

/* 1 for a character allowed in an HTTP header name (RFC 9110 token). */
static int tchar(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("\"(),/:;<=>?@[\\]{}", c) == NULL;
}

/* ASCII lower case without locale. */
static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Case-insensitive comparison of header names (ASCII). */
static int name_cmp(const char *a, const char *b)
{
	for (; *a != '\0' && lower(*a) == lower(*b); a++, b++)
		;
	return (unsigned char)lower(*a) - (unsigned char)lower(*b);
}

/* 1 for the white space folded in header values (also line breaks of folded lines). */
static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Appends a header value trimmed, with each run of white space (also folded
 * continuation lines) replaced by one space. */
static int append_folded(const char *v, struct buf *out)
{
	bool pending = false, any = false;
	for (; *v != '\0'; v++) {
		if (is_space(*v)) {
			pending = any;
			continue;
		}
		if (pending && buf_append(out, " ", 1) != 0)
			return -1;
		if (buf_append(out, v, 1) != 0)
			return -1;
		pending = false;
		any = true;
	}
	return 0;
}

/* Canonical headers block ("name:value\n" each, duplicates joined by ',' in the order
 * given) into hdrs, and the signed-headers list into signed_list. */
static int canonical_headers(const struct sigv4_request *req, const char *amz_date, struct buf *hdrs,
                             struct buf *signed_list)
{
	size_t order[SIGV4_MAX_HEADERS];
	size_t i, j, n = req->n_headers;
	bool have_host = false, have_date = false;

	if (n == 0 || n > SIGV4_MAX_HEADERS || req->headers == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		const char *name = req->headers[i].name;
		if (name == NULL || *name == '\0' || req->headers[i].value == NULL)
			return -1;
		for (j = 0; name[j] != '\0'; j++)
			if (!tchar((unsigned char)name[j]))
				return -1;
		if (name_cmp(name, "host") == 0)
			have_host = true;
		if (name_cmp(name, "x-amz-date") == 0) {
			/* a date header that disagrees with the scope would sign a request
			 * S3 can only reject; refuse it here where the cause is clear */
			const char *v = req->headers[i].value;
			size_t vl;
			while (is_space(*v))
				v++;
			vl = strlen(v);
			while (vl > 0 && is_space(v[vl - 1]))
				vl--;
			if (vl != strlen(amz_date) || memcmp(v, amz_date, vl) != 0)
				return -1;
			have_date = true;
		}
		/* stable insertion sort by lower-case name keeps duplicate values in order */
		for (j = i; j > 0 && name_cmp(req->headers[order[j - 1]].name, name) > 0; j--)
			order[j] = order[j - 1];
		order[j] = i;
	}
	if (!have_host || !have_date)
		return -1;
	for (i = 0; i < n; i++) {
		const struct sigv4_header *h = &req->headers[order[i]];
		bool dup = i > 0 && name_cmp(req->headers[order[i - 1]].name, h->name) == 0;
		if (dup) {
			if (buf_append(hdrs, ",", 1) != 0)
				return -1;
		} else {
			if (i > 0 && (buf_append(hdrs, "\n", 1) != 0 || buf_append(signed_list, ";", 1) != 0))
				return -1;
			for (j = 0; h->name[j] != '\0'; j++) {
				char c = lower(h->name[j]);
				if (buf_append(hdrs, &c, 1) != 0 || buf_append(signed_list, &c, 1) != 0)
					return -1;
			}
			if (buf_append(hdrs, ":", 1) != 0)
				return -1;
		}
		if (append_folded(h->value, hdrs) != 0)
			return -1;
	}
	return buf_append(hdrs, "\n", 1);
}

/* 1 when s is "YYYYMMDDTHHMMSSZ" (digits where digits belong). */
static int amz_date_ok(const char *s)
{
	size_t i;
	if (s == NULL || strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
		return 0;
	for (i = 0; i < 15; i++)
		if (i != 8 && (s[i] < '0' || s[i] > '9'))
			return 0;
	return 1;
}

/* 1 for a non-empty scope element without '/', white space or control characters. */
static int scope_part_ok(const char *s)
{
	if (s == NULL || *s == '\0' || strlen(s) > 64)
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f || *s == '/')
			return 0;
	return 1;
}

/* 1 for 64 lower/upper-case hex digits or the S3 literal UNSIGNED-PAYLOAD. */
static int payload_hash_ok(const char *s)
{
	size_t i;
	if (s == NULL)
		return 0;
	if (strcmp(s, "UNSIGNED-PAYLOAD") == 0)
		return 1;
	if (strlen(s) != SHA256_HEX_LEN)
		return 0;
	for (i = 0; i < SHA256_HEX_LEN; i++)
		if (hex_value((unsigned char)s[i]) < 0)
			return 0;
	return 1;
}

/* Checks the request and scope before anything is built. */
static int inputs_ok(const struct sigv4_request *req, const struct sigv4_scope *scope)
{
	if (req == NULL || scope == NULL || req->method == NULL || req->path == NULL)
		return 0;
	if (!scope_part_ok(req->method) || !amz_date_ok(scope->amz_date) || !scope_part_ok(scope->region) ||
	    !scope_part_ok(scope->service) || !payload_hash_ok(req->payload_sha256_hex))
		return 0;
	return 1;
}

/* Builds the canonical request; signed_list (may be NULL) receives the signed headers. */
static int build_canonical(const struct sigv4_request *req, const struct sigv4_scope *scope, struct buf *out,
                           struct buf *signed_list_out)
{
	struct buf path, query, hdrs, signed_list;
	int rc = -1;

	buf_init(&path, SIGV4_WORK_MAX);
	buf_init(&query, SIGV4_WORK_MAX);
	buf_init(&hdrs, SIGV4_WORK_MAX);
	buf_init(&signed_list, SIGV4_WORK_MAX);
	buf_reset(out);
	if (!inputs_ok(req, scope))
		goto out;
	if (scope->s3 ? canonical_path_s3(req->path, &path)
	              : canonical_path_general(req->path, !scope->no_normalize, &path))
		goto out;
	if (canonical_query(req->query, &query) != 0)
		goto out;
	if (canonical_headers(req, scope->amz_date, &hdrs, &signed_list) != 0)
		goto out;
	if (buf_printf(out, "%s\n%s\n%s\n%s\n%s\n%s", req->method, path.data ? path.data : "",
	               query.data ? query.data : "", hdrs.data, signed_list.data,
	               req->payload_sha256_hex) != 0)
		goto out;
	if (signed_list_out != NULL) {
		buf_reset(signed_list_out);
		if (buf_append(signed_list_out, signed_list.data, signed_list.len) != 0)
			goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		buf_reset(out);
	buf_free(&path);
	buf_free(&query);
	buf_free(&hdrs);
	buf_free(&signed_list);
	return rc;
}

/* The canonical request (task 1 of SigV4). */
int sigv4_canonical_request(const struct sigv4_request *req, const struct sigv4_scope *scope, struct buf *out)
{
	return build_canonical(req, scope, out, NULL);
}

/* String to sign from an already built canonical request. */
static int build_sts(const struct sigv4_scope *scope, const struct buf *canonical, struct buf *out)
{
	uint8_t hash[SHA256_LEN];
	char hex[SHA256_HEX_LEN + 1];
	buf_reset(out);
	if (sha256_buf(canonical->data, canonical->len, hash) != 0)
		return -1;
	hex_encode(hash, sizeof(hash), hex);
	if (buf_printf(out, "%s\n%s\n%.8s/%s/%s/aws4_request\n%s", ALGORITHM, scope->amz_date,
	               scope->amz_date, scope->region, scope->service, hex) != 0) {
		buf_reset(out);
		return -1;
	}
	return 0;
}

/* The string to sign (task 2). */
int sigv4_string_to_sign(const struct sigv4_request *req, const struct sigv4_scope *scope, struct buf *out)
{
	struct buf canonical;
	int rc = -1;
	buf_init(&canonical, SIGV4_WORK_MAX);
	if (build_canonical(req, scope, &canonical, NULL) != 0)
		goto out;
	rc = build_sts(scope, &canonical, out);
out:
	buf_free(&canonical);
	return rc;
}

/* Hex signature over sts with the key derived from the secret (kDate, kRegion, kService,
 * kSigning); every intermediate key is wiped before return. */
static int sign(const struct sigv4_scope *scope, const struct sigv4_credentials *cred, const struct buf *sts,
                char hex[SHA256_HEX_LEN + 1])
{
	uint8_t k1[SHA256_LEN], k2[SHA256_LEN], sig[SHA256_LEN];
	char *secret = NULL;
	size_t slen;
	int rc = -1;

	if (cred == NULL || cred->secret_access_key == NULL || cred->secret_access_key[0] == '\0')
		return -1;
	slen = strlen(cred->secret_access_key);
	if (slen > 1024 || (secret = malloc(slen + 5)) == NULL)
		return -1;
	memcpy(secret, "AWS4", 4);
	memcpy(secret + 4, cred->secret_access_key, slen + 1);
	if (hmac_sha256(secret, slen + 4, scope->amz_date, 8, k1) != 0 ||
	    hmac_sha256(k1, sizeof(k1), scope->region, strlen(scope->region), k2) != 0 ||
	    hmac_sha256(k2, sizeof(k2), scope->service, strlen(scope->service), k1) != 0 ||
	    hmac_sha256(k1, sizeof(k1), "aws4_request", 12, k2) != 0 ||
	    hmac_sha256(k2, sizeof(k2), sts->data, sts->len, sig) != 0)
		goto out;
	hex_encode(sig, sizeof(sig), hex);
	rc = 0;
out:
	OPENSSL_cleanse(secret, slen + 5);
	free(secret);
	OPENSSL_cleanse(k1, sizeof(k1));
	OPENSSL_cleanse(k2, sizeof(k2));
	return rc;
}

/* Canonical request, string to sign and signature in one pass; signed_list may be NULL. */
static int compute(const struct sigv4_request *req, const struct sigv4_scope *scope,
                   const struct sigv4_credentials *cred, char hex[SHA256_HEX_LEN + 1],
                   struct buf *signed_list)
{
	struct buf canonical, sts;
	int rc = -1;
	buf_init(&canonical, SIGV4_WORK_MAX);
	buf_init(&sts, SIGV4_WORK_MAX);
	if (build_canonical(req, scope, &canonical, signed_list) != 0 ||
	    build_sts(scope, &canonical, &sts) != 0 || sign(scope, cred, &sts, hex) != 0)
		goto out;
	rc = 0;
out:
	buf_free(&canonical);
	buf_free(&sts);
	return rc;
}

/* The hex signature (task 3). */
int sigv4_signature(const struct sigv4_request *req, const struct sigv4_scope *scope,
                    const struct sigv4_credentials *cred, struct buf *out)
{
	char hex[SHA256_HEX_LEN + 1];
	buf_reset(out);
	if (compute(req, scope, cred, hex, NULL) != 0)
		return -1;
	return buf_append(out, hex, SHA256_HEX_LEN);
}

/* The Authorization header value (task 4). */
int sigv4_authorization(const struct sigv4_request *req, const struct sigv4_scope *scope,
                        const struct sigv4_credentials *cred, struct buf *out)
{
	char hex[SHA256_HEX_LEN + 1];
	struct buf signed_list;
	int rc = -1;

	buf_init(&signed_list, SIGV4_WORK_MAX);
	buf_reset(out);
	if (cred == NULL || !scope_part_ok(cred->access_key_id))
		goto out;
	if (compute(req, scope, cred, hex, &signed_list) != 0)
		goto out;
	if (buf_printf(out, "%s Credential=%s/%.8s/%s/%s/aws4_request, SignedHeaders=%s, Signature=%s",
	               ALGORITHM, cred->access_key_id, scope->amz_date, scope->region, scope->service,
	               signed_list.data, hex) != 0) {
		buf_reset(out);
		goto out;
	}
	rc = 0;
out:
	buf_free(&signed_list);
	return rc;
}
