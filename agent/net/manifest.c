/* manifest.c - release and channel manifests (see manifest.h). */
#include "manifest.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "creds.h"
#include "digest.h"
#include "exitcodes.h"
#include "strutil.h"

#define MAGIC "hoist-manifest 1"
#define LINE_MAX_BYTES 2048

enum mkey {
	K_KIND,
	K_APP,
	K_VERSION,
	K_BUNDLE,
	K_SHA256,
	K_SIZE,
	K_CREATED,
	K_CHANNEL,
	K_SEQ,
	K_EXPIRES,
	K_N
};
/* names in place, not pointers (no relocation each in the stub) */
static const char KEYS[K_N][sizeof("version")] = {"kind", "app",     "version", "bundle", "sha256",
                                                  "size", "created", "channel", "seq",    "expires"};

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	if (s[0] < '0' || s[0] > '9' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = (uint64_t)v;
	return 0;
}

int manifest_split_s3(const char *url, char *bucket, size_t bsz, char *key, size_t ksz)
{
	const char *b, *slash;
	size_t bl;
	if (strncmp(url, "s3://", 5) != 0)
		return -1;
	b = url + 5;
	slash = strchr(b, '/');
	if (slash == NULL || slash == b || slash[1] == '\0')
		return -1;
	bl = (size_t)(slash - b);
	if (bl >= bsz || strlen(slash + 1) >= ksz)
		return -1;
	memcpy(bucket, b, bl);
	bucket[bl] = '\0';
	memcpy(key, slash + 1, strlen(slash + 1) + 1);
	return 0;
}

static int set_value(struct manifest *m, enum mkey k, const char *v, unsigned line, struct herr *err)
{
	char b[256], key[MANIFEST_URL_MAX];
	switch (k) {
	case K_KIND:
		if (strcmp(v, "release") == 0)
			m->kind = MANIFEST_RELEASE;
		else if (strcmp(v, "channel") == 0)
			m->kind = MANIFEST_CHANNEL;
		else
			goto bad;
		return 0;
	case K_APP:
	case K_VERSION:
	case K_CHANNEL:
		if (!str_safe_token(v, MANIFEST_NAME_MAX))
			goto bad;
		memcpy(k == K_APP ? m->app : k == K_VERSION ? m->version : m->channel, v, strlen(v) + 1);
		return 0;
	case K_BUNDLE:
		if (strlen(v) > MANIFEST_URL_MAX || !str_printable(v) ||
		    manifest_split_s3(v, b, sizeof(b), key, sizeof(key)) != 0)
			goto bad;
		memcpy(m->bundle, v, strlen(v) + 1);
		return 0;
	case K_SHA256:
		if (strlen(v) != SHA256_HEX_LEN || hex_decode(v, m->sha256, 32) != 0)
			goto bad;
		return 0;
	case K_SIZE:
		if (parse_u64(v, &m->size) != 0)
			goto bad;
		return 0;
	case K_SEQ:
		if (parse_u64(v, &m->seq) != 0 || m->seq == 0)
			goto bad;
		return 0;
	case K_CREATED:
	case K_EXPIRES:
		if (creds_parse_time(v, k == K_CREATED ? &m->created : &m->expires) != 0)
			goto bad;
		if (k == K_EXPIRES)
			m->has_expires = 1;
		return 0;
	default:
		break;
	}
bad:
	return herr_set(err, HOIST_EXIT_INTEGRITY, "manifest line %u: invalid %s '%.80s'", line, KEYS[k],
	                str_printable(v) ? v : "(unprintable)");
}

int manifest_parse(const char *text, size_t len, struct manifest *out, struct herr *err)
{
	const char *p = text, *end = text + len;
	unsigned line = 0, seen = 0;
	char buf[LINE_MAX_BYTES + 1];

	memset(out, 0, sizeof(*out));
	if (len > MANIFEST_MAX_BYTES)
		return herr_set(err, HOIST_EXIT_INTEGRITY, "manifest larger than %d bytes",
		                MANIFEST_MAX_BYTES);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n;
		char *eq;
		int k;
		line++;
		if (nl == NULL)
			return herr_set(err, HOIST_EXIT_INTEGRITY,
			                "manifest line %u: no line end (truncated?)", line);
		n = (size_t)(nl - p);
		if (n > LINE_MAX_BYTES)
			return herr_set(err, HOIST_EXIT_INTEGRITY, "manifest line %u: too long", line);
		memcpy(buf, p, n);
		buf[n] = '\0';
		p = nl + 1;
		if (memchr(buf, '\0', n) != NULL)
			return herr_set(err, HOIST_EXIT_INTEGRITY, "manifest line %u: NUL byte", line);
		if (line == 1) {
			if (strcmp(buf, MAGIC) != 0)
				return herr_set(err, HOIST_EXIT_INTEGRITY,
				                "not a hoist manifest (first line is not \"" MAGIC "\")");
			continue;
		}
		eq = strchr(buf, '=');
		if (eq == NULL)
			return herr_set(err, HOIST_EXIT_INTEGRITY, "manifest line %u: expected key=value",
			                line);
		*eq = '\0';
		for (k = 0; k < K_N && strcmp(buf, KEYS[k]) != 0; k++)
			;
		if (k == K_N)
			return herr_set(err, HOIST_EXIT_INTEGRITY, "manifest line %u: unknown key '%.40s'",
			                line, str_printable(buf) ? buf : "?");
		if (seen & (1u << k))
			return herr_set(err, HOIST_EXIT_INTEGRITY, "manifest line %u: duplicate key '%s'",
			                line, KEYS[k]);
		seen |= 1u << k;
		if (set_value(out, (enum mkey)k, eq + 1, line, err) != 0)
			return -1;
	}
	if (line == 0)
		return herr_set(err, HOIST_EXIT_INTEGRITY, "empty manifest");
	for (int k = K_KIND; k <= K_CREATED; k++)
		if (!(seen & (1u << k)))
			return herr_set(err, HOIST_EXIT_INTEGRITY, "manifest has no %s", KEYS[k]);
	if (out->kind == MANIFEST_CHANNEL && (!(seen & (1u << K_CHANNEL)) || !(seen & (1u << K_SEQ))))
		return herr_set(err, HOIST_EXIT_INTEGRITY, "channel manifest without channel and seq");
	if (out->kind == MANIFEST_RELEASE && (seen & (1u << K_CHANNEL | 1u << K_SEQ)))
		return herr_set(err, HOIST_EXIT_INTEGRITY, "release manifest with channel or seq");
	return 0;
}

void manifest_time(time_t t, char out[32])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	if (strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		out[0] = '\0';
}

int manifest_format(const struct manifest *m, struct buf *out)
{
	char hex[65], created[32], expires[32];
	char b[256], key[MANIFEST_URL_MAX];
	if (!str_safe_token(m->app, MANIFEST_NAME_MAX) || !str_safe_token(m->version, MANIFEST_NAME_MAX) ||
	    manifest_split_s3(m->bundle, b, sizeof(b), key, sizeof(key)) != 0 || !str_printable(m->bundle) ||
	    (m->kind == MANIFEST_CHANNEL && (!str_safe_token(m->channel, MANIFEST_NAME_MAX) || m->seq == 0)))
		return -1;
	hex_encode(m->sha256, 32, hex);
	manifest_time(m->created, created);
	if (buf_printf(out,
	               MAGIC "\nkind=%s\napp=%s\nversion=%s\nbundle=%s\nsha256=%s\nsize=%" PRIu64
	                     "\ncreated=%s\n",
	               m->kind == MANIFEST_CHANNEL ? "channel" : "release", m->app, m->version, m->bundle,
	               hex, m->size, created) != 0)
		return -1;
	if (m->kind == MANIFEST_CHANNEL &&
	    buf_printf(out, "channel=%s\nseq=%" PRIu64 "\n", m->channel, m->seq) != 0)
		return -1;
	if (m->has_expires) {
		manifest_time(m->expires, expires);
		if (buf_printf(out, "expires=%s\n", expires) != 0)
			return -1;
	}
	return 0;
}
