/* udmime.c - gzip, MIME multipart and base64 layers around the hoist directive.
 *
 * Every decoded byte is charged to one budget (max_decoded) shared by the
 * whole walk, so neither a gzip bomb nor many small compressed parts can
 * make the stub allocate more than that. */
#include "udmime.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "buf.h"
#include "digest.h"
#include "exitcodes.h"

#define HDR_VALUE_MAX 512
#define BOUNDARY_MAX 70 /* RFC 2046 */

struct walk {
	size_t budget; /* decoded bytes still allowed */
	size_t max_decoded;
	unsigned parts; /* MIME parts seen, for messages */
	struct ud_found *found;
	unsigned found_part;
};

struct part_hdr {
	char type[HDR_VALUE_MAX]; /* media type, lower case, "" when absent */
	char boundary[BOUNDARY_MAX + 1];
	char cte[HDR_VALUE_MAX]; /* Content-Transfer-Encoding, lower case */
	bool any;                /* at least one header line was read */
};

/* Mutually recursive walkers, defined below. */
static int walk_data(struct walk *w, const char *p, size_t n, unsigned depth, bool typed, struct herr *err);
static int walk_multipart(struct walk *w, const char *p, size_t n, const char *boundary, unsigned depth,
                          struct herr *err);

/* ASCII lower case without locale. */
static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Case-insensitive "s[0..n) starts with prefix". */
static int has_prefix_ci(const char *s, size_t n, const char *prefix)
{
	size_t i;
	for (i = 0; prefix[i] != '\0'; i++)
		if (i >= n || lower(s[i]) != lower(prefix[i]))
			return 0;
	return 1;
}

/* Skips a UTF-8 byte order mark. */
static void skip_bom(const char **p, size_t *n)
{
	if (*n >= 3 && memcmp(*p, "\xef\xbb\xbf", 3) == 0) {
		*p += 3;
		*n -= 3;
	}
}

/* 1 when the first non-empty line of s (after an optional BOM) is "#hoist" or "#hoist ...". */
int ud_starts_with_directive(const char *s, size_t len)
{
	skip_bom(&s, &len);
	/* blank lines (white space only) before the marker are allowed */
	for (;;) {
		size_t i = 0;
		while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
			i++;
		if (i < len && s[i] == '\n') {
			s += i + 1;
			len -= i + 1;
			continue;
		}
		s += i;
		len -= i;
		break;
	}
	if (len < 6 || memcmp(s, "#hoist", 6) != 0)
		return 0;
	return len == 6 || s[6] == ' ' || s[6] == '\t' || s[6] == '\r' || s[6] == '\n';
}

/* Frees the found text and clears the struct. */
void ud_found_free(struct ud_found *f)
{
	if (f == NULL)
		return;
	free(f->text);
	memset(f, 0, sizeof(*f));
}

/* Inflates a gzip stream into out, charging the budget; stops as soon as the budget is
 * exceeded, so a bomb costs at most budget+1 bytes of output. */
static int gunzip(struct walk *w, const char *p, size_t n, struct buf *out, struct herr *err)
{
	z_stream zs;
	unsigned char chunk[4096];
	int zr, rc = -1;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 15 + 16) != Z_OK) /* 16: gzip wrapper only */
		return herr_set(err, HOIST_EXIT_INTERNAL, "user data: cannot initialise zlib");
	zs.next_in = (unsigned char *)(uintptr_t)p; /* zlib's API is not const; it only reads */
	zs.avail_in = (uInt)n;
	do {
		zs.next_out = chunk;
		zs.avail_out = sizeof(chunk);
		zr = inflate(&zs, Z_NO_FLUSH);
		if (zr != Z_OK && zr != Z_STREAM_END) {
			herr_set(err, HOIST_EXIT_DIRECTIVE, "user data: gzip data is damaged (%s)",
			         zs.msg ? zs.msg : "inflate failed");
			goto out;
		}
		size_t got = sizeof(chunk) - zs.avail_out;
		if (got > w->budget) {
			herr_set(err, HOIST_EXIT_DIRECTIVE,
			         "user data: more than %zu bytes after decompression, refused",
			         w->max_decoded);
			goto out;
		}
		w->budget -= got;
		if (buf_append(out, chunk, got) != 0) {
			herr_set(err, HOIST_EXIT_INTERNAL, "user data: out of memory");
			goto out;
		}
		if (zr == Z_OK && zs.avail_in == 0 && got == 0) {
			herr_set(err, HOIST_EXIT_DIRECTIVE, "user data: gzip data is truncated");
			goto out;
		}
	} while (zr != Z_STREAM_END);
	rc = 0;
out:
	inflateEnd(&zs);
	return rc;
}

/* Decodes a base64 body (line breaks and spaces ignored) into out. */
static int unbase64(struct walk *w, const char *p, size_t n, struct buf *out, struct herr *err)
{
	char *clean = NULL;
	uint8_t *bin = NULL;
	size_t m = 0, i;
	long got;
	int rc = -1;

	if ((clean = malloc(n + 1)) == NULL || (bin = malloc(n / 4 * 3 + 3)) == NULL) {
		herr_set(err, HOIST_EXIT_INTERNAL, "user data: out of memory");
		goto out;
	}
	for (i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
			clean[m++] = p[i];
	got = base64_decode(clean, m, bin, n / 4 * 3 + 3);
	if (got < 0) {
		herr_set(err, HOIST_EXIT_DIRECTIVE, "user data: MIME part %u: bad base64", w->parts);
		goto out;
	}
	if ((size_t)got > w->budget) {
		herr_set(err, HOIST_EXIT_DIRECTIVE, "user data: more than %zu bytes after decoding, refused",
		         w->max_decoded);
		goto out;
	}
	w->budget -= (size_t)got;
	if (buf_append(out, bin, (size_t)got) != 0) {
		herr_set(err, HOIST_EXIT_INTERNAL, "user data: out of memory");
		goto out;
	}
	rc = 0;
out:
	free(clean);
	free(bin);
	return rc;
}

/* Copies a header parameter or value, unquoting "...", lower-casing when asked. */
static void copy_token(const char *s, size_t n, char *out, size_t outsz, bool fold)
{
	size_t i, o = 0;
	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		s++;
		n -= 2;
	}
	for (i = 0; i < n && o + 1 < outsz; i++)
		out[o++] = fold ? lower(s[i]) : s[i];
	out[o] = '\0';
}

/* Reads Content-Type (media type and boundary) and Content-Transfer-Encoding from one
 * unfolded header line. */
static void header_line(const char *l, size_t n, struct part_hdr *h)
{
	const char *colon = memchr(l, ':', n);
	size_t vlen;
	if (colon == NULL)
		return;
	vlen = n - (size_t)(colon + 1 - l);
	if (has_prefix_ci(l, n, "content-type:")) {
		const char *v = colon + 1, *semi = memchr(v, ';', vlen);
		copy_token(v, semi ? (size_t)(semi - v) : vlen, h->type, sizeof(h->type), true);
		/* parameters: only boundary matters */
		while (semi != NULL) {
			const char *pstart = semi + 1, *end = v + vlen, *eq;
			semi = memchr(pstart, ';', (size_t)(end - pstart));
			const char *pend = semi ? semi : end;
			while (pstart < pend && (*pstart == ' ' || *pstart == '\t'))
				pstart++;
			eq = memchr(pstart, '=', (size_t)(pend - pstart));
			if (eq != NULL && (size_t)(eq - pstart) == 8 && has_prefix_ci(pstart, 8, "boundary"))
				copy_token(eq + 1, (size_t)(pend - eq - 1), h->boundary, sizeof(h->boundary),
				           false);
		}
	} else if (has_prefix_ci(l, n, "content-transfer-encoding:")) {
		copy_token(colon + 1, vlen, h->cte, sizeof(h->cte), true);
	}
}

/* Parses a header block at p. Returns the offset of the body, or -1 when the text does
 * not start with "Name: value" header lines ended by a blank line. */
static long parse_headers(const char *p, size_t n, struct part_hdr *h)
{
	char line[HDR_VALUE_MAX * 2];
	size_t off = 0, ll = 0;
	bool have = false;

	memset(h, 0, sizeof(*h));
	while (off < n) {
		const char *nl = memchr(p + off, '\n', n - off);
		size_t end = nl ? (size_t)(nl - p) : n, len = end - off;
		const char *l = p + off;
		if (len > 0 && l[len - 1] == '\r')
			len--;
		off = nl ? end + 1 : n;
		if (len == 0) {
			if (have)
				header_line(line, ll, h);
			return h->any ? (long)off : -1;
		}
		if (l[0] == ' ' || l[0] == '\t') {
			/* folded continuation of the previous header */
			if (!have)
				return -1;
			if (ll + len < sizeof(line)) {
				memcpy(line + ll, l, len);
				ll += len;
			}
			continue;
		}
		/* a header name is a token followed by ':' */
		const char *colon = memchr(l, ':', len);
		if (colon == NULL || colon == l)
			return -1;
		for (const char *q = l; q < colon; q++)
			if (*q <= ' ' || *q >= 0x7f)
				return -1;
		if (have)
			header_line(line, ll, h);
		ll = len < sizeof(line) ? len : sizeof(line) - 1;
		memcpy(line, l, ll);
		have = true;
		h->any = true;
	}
	/* headers without a body */
	if (have)
		header_line(line, ll, h);
	return h->any ? (long)n : -1;
}

/* Records a directive text, refusing a second one. */
static int take_directive(struct walk *w, const char *p, size_t n, bool typed, struct herr *err)
{
	struct ud_found *f = w->found;
	skip_bom(&p, &n);
	if (f->count > 0) {
		f->count++;
		return herr_set(err, HOIST_EXIT_DIRECTIVE,
		                "user data: more than one hoist directive (MIME parts %u and %u)",
		                w->found_part, w->parts);
	}
	if ((f->text = malloc(n + 1)) == NULL)
		return herr_set(err, HOIST_EXIT_INTERNAL, "user data: out of memory");
	memcpy(f->text, p, n);
	f->text[n] = '\0';
	f->len = n;
	f->typed = typed;
	f->count = 1;
	w->found_part = w->parts;
	return 0;
}

/* One part: decodes its transfer encoding when the part can matter, then walks it. */
static int walk_part(struct walk *w, const char *p, size_t n, unsigned depth, struct herr *err)
{
	struct part_hdr h;
	struct buf dec;
	long body;
	bool hoist, plain, gz, multi;
	int rc = -1;

	buf_init(&dec, w->max_decoded);
	w->parts++;
	body = parse_headers(p, n, &h);
	if (body < 0) {
		/* a part without headers is text/plain (RFC 2046 default) */
		memset(&h, 0, sizeof(h));
		body = 0;
	}
	hoist = strcmp(h.type, "text/x-hoist") == 0;
	plain = h.type[0] == '\0' || strcmp(h.type, "text/plain") == 0 ||
	        strcmp(h.type, "text/x-shellscript") == 0;
	gz = strcmp(h.type, "application/gzip") == 0 || strcmp(h.type, "application/x-gzip") == 0;
	multi = strncmp(h.type, "multipart/", 10) == 0;
	if (!hoist && !plain && !gz && !multi) {
		rc = 0; /* cloud-config, boothook, ...: not ours, not even decoded */
		goto out;
	}
	p += body;
	n -= (size_t)body;
	if (strcmp(h.cte, "base64") == 0) {
		if (unbase64(w, p, n, &dec, err) != 0)
			goto out;
		p = dec.data ? dec.data : "";
		n = dec.len;
	} else if (h.cte[0] != '\0' && strcmp(h.cte, "7bit") != 0 && strcmp(h.cte, "8bit") != 0 &&
	           strcmp(h.cte, "binary") != 0) {
		rc = herr_set(err, HOIST_EXIT_DIRECTIVE,
		              "user data: MIME part %u: Content-Transfer-Encoding '%.32s' is not supported "
		              "(use base64 or none)",
		              w->parts, h.cte);
		goto out;
	}
	if (multi) {
		if (h.boundary[0] == '\0') {
			rc = herr_set(err, HOIST_EXIT_DIRECTIVE,
			              "user data: MIME part %u: multipart without a boundary", w->parts);
			goto out;
		}
		if (depth + 1 > UD_MAX_DEPTH) {
			rc = herr_set(err, HOIST_EXIT_DIRECTIVE,
			              "user data: nested deeper than %d levels (gzip/MIME)", UD_MAX_DEPTH);
			goto out;
		}
		rc = walk_multipart(w, p, n, h.boundary, depth + 1, err);
		goto out;
	}
	rc = walk_data(w, p, n, depth + 1, hoist, err);
out:
	buf_free(&dec);
	return rc;
}

/* Splits a multipart body on "--boundary" lines and walks each part. */
static int walk_multipart(struct walk *w, const char *p, size_t n, const char *boundary, unsigned depth,
                          struct herr *err)
{
	size_t blen = strlen(boundary), off = 0;
	const char *part = NULL;
	bool closed = false;

	while (off < n && !closed) {
		const char *l = p + off, *nl = memchr(l, '\n', n - off);
		size_t len = nl ? (size_t)(nl - l) : n - off;
		size_t next = nl ? off + len + 1 : n;
		size_t t = len;
		while (t > 0 && (l[t - 1] == '\r' || l[t - 1] == ' ' || l[t - 1] == '\t'))
			t--;
		bool delim = t >= blen + 2 && l[0] == '-' && l[1] == '-' &&
		             memcmp(l + 2, boundary, blen) == 0 &&
		             (t == blen + 2 || (t == blen + 4 && l[blen + 2] == '-' && l[blen + 3] == '-'));
		if (delim) {
			if (part != NULL) {
				/* the line break before a delimiter belongs to the delimiter */
				const char *end = l;
				if (end > part && end[-1] == '\n')
					end--;
				if (end > part && end[-1] == '\r')
					end--;
				if (walk_part(w, part, (size_t)(end - part), depth, err) != 0)
					return -1;
			}
			closed = t == blen + 4;
			part = p + next;
		}
		off = next;
	}
	if (part == NULL)
		return herr_set(err, HOIST_EXIT_DIRECTIVE,
		                "user data: MIME multipart without any \"--%.70s\" boundary line", boundary);
	if (!closed && part < p + n && walk_part(w, part, (size_t)(p + n - part), depth, err) != 0)
		return -1; /* no closing delimiter: the last part runs to the end */
	return 0;
}

/* Walks one layer: gzip, a MIME document, or text that may be the directive. */
static int walk_data(struct walk *w, const char *p, size_t n, unsigned depth, bool typed, struct herr *err)
{
	struct part_hdr h;
	struct buf dec;
	long body;
	int rc = -1;

	buf_init(&dec, w->max_decoded);
	if (depth > UD_MAX_DEPTH) {
		rc = herr_set(err, HOIST_EXIT_DIRECTIVE,
		              "user data: nested deeper than %d levels (gzip/MIME)", UD_MAX_DEPTH);
		goto out;
	}
	if (n >= 2 && (unsigned char)p[0] == 0x1f && (unsigned char)p[1] == 0x8b) {
		if (gunzip(w, p, n, &dec, err) != 0)
			goto out;
		rc = walk_data(w, dec.data ? dec.data : "", dec.len, depth + 1, typed, err);
		goto out;
	}
	skip_bom(&p, &n);
	if (typed) {
		rc = take_directive(w, p, n, true, err);
		goto out;
	}
	if (ud_starts_with_directive(p, n)) {
		rc = take_directive(w, p, n, false, err);
		goto out;
	}
	/* a MIME document starts with its headers: Content-Type or MIME-Version */
	if (has_prefix_ci(p, n, "content-type:") || has_prefix_ci(p, n, "mime-version:")) {
		body = parse_headers(p, n, &h);
		if (body >= 0 && strncmp(h.type, "multipart/", 10) == 0) {
			if (h.boundary[0] == '\0') {
				rc = herr_set(err, HOIST_EXIT_DIRECTIVE,
				              "user data: multipart Content-Type without a boundary");
				goto out;
			}
			rc = walk_multipart(w, p + body, n - (size_t)body, h.boundary, depth, err);
			goto out;
		}
		if (body >= 0 && h.type[0] != '\0') {
			/* a single-part MIME message: its body is one part */
			rc = walk_part(w, p, n, depth, err);
			goto out;
		}
	}
	rc = 0; /* some other user data: not ours */
out:
	buf_free(&dec);
	return rc;
}

/* Finds the directive; see udmime.h. */
int ud_unwrap(const uint8_t *data, size_t len, size_t max_decoded, struct ud_found *found, struct herr *err)
{
	struct walk w = {.budget = max_decoded, .max_decoded = max_decoded, .found = found};
	memset(found, 0, sizeof(*found));
	if (walk_data(&w, (const char *)data, len, 0, false, err) != 0) {
		ud_found_free(found);
		return -1;
	}
	return 0;
}
