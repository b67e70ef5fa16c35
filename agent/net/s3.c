/* s3.c - pure S3 helpers (see s3.h). */
#include "s3.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "digest.h"
#include "exitcodes.h"

int s3_encode(const char *in, bool keep_slash, char *out, size_t outsz)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)in; *p != '\0'; p++) {
		if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~' ||
		    (keep_slash && *p == '/')) {
			if (o + 1 >= outsz)
				return -1;
			out[o++] = (char)*p;
		} else {
			if (o + 3 >= outsz)
				return -1;
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	if (o >= outsz)
		return -1;
	out[o] = '\0';
	return 0;
}

/* A bucket name usable as a DNS label for virtual-host style over TLS. */
static int vhost_bucket(const char *b)
{
	size_t n = strlen(b);
	if (n < 3 || n > 63 || b[0] == '-' || b[n - 1] == '-')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)b[i]) || isdigit((unsigned char)b[i]) || b[i] == '-'))
			return 0;
	return 1;
}

static int token_ok(const char *s, const char *extra)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr(extra, *s) == NULL)
			return 0;
	return 1;
}

int s3_build_target(const char *endpoint, const char *region, const char *bucket, const char *key,
                    struct s3_target *t, struct herr *err)
{
	char ekey[S3_URL_MAX];
	int n;

	if (!token_ok(bucket, ".-_"))
		return herr_set(err, HOIST_EXIT_DIRECTIVE, "invalid bucket name '%.100s'", bucket);
	if (key[0] == '\0')
		return herr_set(err, HOIST_EXIT_DIRECTIVE, "empty object key");
	if (s3_encode(key, true, ekey, sizeof(ekey)) != 0)
		return herr_set(err, HOIST_EXIT_DIRECTIVE, "object key too long");
	if (endpoint == NULL || endpoint[0] == '\0') {
		if (region == NULL || !token_ok(region, "-"))
			return herr_set(err, HOIST_EXIT_CONFIG, "invalid or missing region '%.64s'",
			                region != NULL ? region : "");
		if (vhost_bucket(bucket)) {
			n = snprintf(t->host, sizeof(t->host), "%s.s3.%s.amazonaws.com", bucket, region);
			if (n > 0 && (size_t)n < sizeof(t->host))
				n = snprintf(t->path, sizeof(t->path), "/%s", ekey);
		} else {
			n = snprintf(t->host, sizeof(t->host), "s3.%s.amazonaws.com", region);
			if (n > 0 && (size_t)n < sizeof(t->host))
				n = snprintf(t->path, sizeof(t->path), "/%s/%s", bucket, ekey);
		}
		if (n < 0 || (size_t)n >= sizeof(t->path))
			return herr_set(err, HOIST_EXIT_DIRECTIVE, "object URL too long");
		n = snprintf(t->url, sizeof(t->url), "https://%s%s", t->host, t->path);
	} else {
		const char *auth, *slash;
		size_t alen, plen;
		if (strncmp(endpoint, "http://", 7) == 0)
			auth = endpoint + 7;
		else if (strncmp(endpoint, "https://", 8) == 0)
			auth = endpoint + 8;
		else
			return herr_set(err, HOIST_EXIT_CONFIG,
			                "s3 endpoint '%.200s' must start with http:// or https://", endpoint);
		slash = strchr(auth, '/');
		alen = slash != NULL ? (size_t)(slash - auth) : strlen(auth);
		plen = slash != NULL ? strlen(slash) : 0;
		while (plen > 0 && slash[plen - 1] == '/')
			plen--;
		if (alen == 0 || alen >= sizeof(t->host) || memchr(auth, '@', alen) != NULL ||
		    strpbrk(auth, "?# \t") != NULL)
			return herr_set(err, HOIST_EXIT_CONFIG, "invalid s3 endpoint '%.200s'", endpoint);
		memcpy(t->host, auth, alen);
		t->host[alen] = '\0';
		n = snprintf(t->path, sizeof(t->path), "%.*s/%s/%s", (int)plen, plen > 0 ? slash : "", bucket,
		             ekey);
		if (n < 0 || (size_t)n >= sizeof(t->path))
			return herr_set(err, HOIST_EXIT_DIRECTIVE, "object URL too long");
		n = snprintf(t->url, sizeof(t->url), "%.*s%s", (int)(auth - endpoint) + (int)alen, endpoint,
		             t->path);
	}
	if (n < 0 || (size_t)n >= sizeof(t->url))
		return herr_set(err, HOIST_EXIT_DIRECTIVE, "object URL too long");
	return 0;
}

int s3_error_code(const char *body, size_t len, char *out, size_t outsz)
{
	const char *p, *e;
	size_t n;
	if (body == NULL || outsz == 0)
		return 0;
	p = memmem(body, len, "<Code>", 6);
	if (p == NULL)
		return 0;
	p += 6;
	e = memmem(p, len - (size_t)(p - body), "</Code>", 7);
	if (e == NULL)
		return 0;
	n = (size_t)(e - p);
	if (n == 0 || n >= outsz)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)p[i]) && p[i] != '.')
			return 0;
	memcpy(out, p, n);
	out[n] = '\0';
	return 1;
}

int s3_checksum_header(const char *value, uint8_t out[32])
{
	const char *dash = strchr(value, '-');
	size_t len = strlen(value);
	if (dash != NULL) {
		/* "<base64>-N": a checksum of part checksums, not of the object */
		const char *d = dash + 1;
		if (*d == '\0')
			return -1;
		for (; *d != '\0'; d++)
			if (!isdigit((unsigned char)*d))
				return -1;
		return 0;
	}
	if (base64_decode(value, len, out, 32) != 32)
		return -1;
	return 1;
}

int s3_parse_sidecar(const char *text, size_t len, uint8_t out[32])
{
	char hex[SHA256_HEX_LEN + 1];
	if (len < SHA256_HEX_LEN)
		return -1;
	if (len > SHA256_HEX_LEN && !isspace((unsigned char)text[SHA256_HEX_LEN]))
		return -1;
	memcpy(hex, text, SHA256_HEX_LEN);
	hex[SHA256_HEX_LEN] = '\0';
	return hex_decode(hex, out, 32) == 0 ? 0 : -1;
}

/* Parses a decimal uint64 at *p, advancing it; -1 on no digits or overflow. */
static int parse_u64(const char **p, uint64_t *out)
{
	uint64_t v = 0;
	const char *s = *p;
	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*p = s;
	*out = v;
	return 0;
}

int s3_parse_content_range(const char *value, uint64_t *start, uint64_t *end, uint64_t *total)
{
	const char *p = value;
	if (strncmp(p, "bytes ", 6) != 0)
		return -1;
	p += 6;
	if (parse_u64(&p, start) != 0 || *p++ != '-' || parse_u64(&p, end) != 0 || *p++ != '/')
		return -1;
	if (strcmp(p, "*") == 0)
		*total = UINT64_MAX;
	else if (parse_u64(&p, total) != 0 || *p != '\0')
		return -1;
	if (*end < *start || (*total != UINT64_MAX && *end >= *total))
		return -1;
	return 0;
}
