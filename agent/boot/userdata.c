/* userdata.c - the hoist directive: "#hoist" then key=value lines.
 *
 * Strict on purpose: the directive decides what a server runs, so an
 * unknown key (a typo), a duplicate, or a value outside its narrow syntax
 * stops the boot with a message naming the key and the line, rather than
 * deploying something nobody asked for. udmime.c finds the text. */
#include "userdata.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "digest.h"
#include "exitcodes.h"
#include "report.h"
#include "strutil.h"
#include "udmime.h"

#define S3_KEY_MAX 1024
#define VALUE_MAX 2048
#define SHOW 64

enum dkey {
	D_VERSION,
	D_BUNDLE,
	D_SHA256,
	D_ENVIRONMENT,
	D_APPLICATION,
	D_GROUP,
	D_REGION,
	D_ENDPOINT,
	D_CHANNEL, /* issue 10: a signed channel or release manifest instead of version + bundle */
	D_RELEASE,
	D_HOOK,
	D_ASG,
	D_REPORT,
	D_NOTIFY,
	D_COUNT
};
/* names in place, not pointers: a table of pointers costs the position-independent
 * stub a relocation each (docs/performance.md#stub-size) */
static const char DKEYS[D_COUNT][sizeof("autoscaling_group")] = {
    "version",  "bundle",  "sha256",  "environment",    "application",       "deployment_group", "region",
    "endpoint", "channel", "release", "lifecycle_hook", "autoscaling_group", "report",           "notify"};
/* version and bundle: required unless channel or release is given */
static const bool REQUIRED[D_COUNT] = {true,  true,  false, true,  true,  false, false,
                                       false, false, false, false, false, false, false};

/* Checks a version/environment/application token; returns 1 if safe. */
int directive_token_ok(const char *s, size_t maxlen)
{
	return str_safe_token(s, maxlen);
}

/* Frees every string and clears the struct. */
void directive_free(struct directive *d)
{
	if (d == NULL)
		return;
	free(d->version);
	free(d->bundle);
	free(d->bucket);
	free(d->key);
	free(d->environment);
	free(d->application);
	free(d->deployment_group);
	free(d->region);
	free(d->endpoint);
	free(d->manifest_url);
	free(d->lifecycle_hook);
	free(d->autoscaling_group);
	free(d->report);
	free(d->notify);
	memset(d, 0, sizeof(*d));
}

/* Sets a DIRECTIVE error "hoist directive line N: KEY: 'VALUE' WHY" (the value only when
 * it prints safely). */
static int bad_value(struct herr *err, unsigned line, const char *key, const char *value, const char *why)
{
	if (str_printable(value))
		return herr_set(err, HOIST_EXIT_DIRECTIVE, "hoist directive line %u: %s: '%.*s'%s %s", line,
		                key, SHOW, value, strlen(value) > SHOW ? "..." : "", why);
	return herr_set(err, HOIST_EXIT_DIRECTIVE,
	                "hoist directive line %u: %s: value has control characters", line, key);
}

/* S3 bucket naming: 3-63 of a-z 0-9 . -, starting and ending with a letter or digit,
 * no "..", ".-" or "-.", not an IPv4 address, no reserved prefix or suffix. */
static int bucket_ok(const char *b, size_t n)
{
	size_t i, dots = 0;
	bool all_digits_dots = true;
	if (n < 3 || n > 63)
		return 0;
	for (i = 0; i < n; i++) {
		char c = b[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-'))
			return 0;
		if (c == '.')
			dots++;
		else if (!(c >= '0' && c <= '9'))
			all_digits_dots = false;
		if (i > 0 && (c == '.' || c == '-') && (b[i - 1] == '.' || b[i - 1] == '-') &&
		    !(c == '-' && b[i - 1] == '-'))
			return 0;
	}
	if (!((b[0] >= 'a' && b[0] <= 'z') || (b[0] >= '0' && b[0] <= '9')))
		return 0;
	if (!((b[n - 1] >= 'a' && b[n - 1] <= 'z') || (b[n - 1] >= '0' && b[n - 1] <= '9')))
		return 0;
	if (all_digits_dots && dots == 3)
		return 0; /* looks like an IP address */
	if (n >= 4 && memcmp(b, "xn--", 4) == 0)
		return 0;
	if (n >= 8 && memcmp(b + n - 8, "-s3alias", 8) == 0)
		return 0;
	return 1;
}

/* 1 for a region like us-east-1 or us-gov-west-1: letter groups joined by '-', ending
 * in "-<digits>". */
static int region_ok(const char *s)
{
	size_t n = strlen(s), i, groups = 0;
	const char *last = strrchr(s, '-');
	if (n < 4 || n > 32 || last == NULL || last == s || last[1] == '\0' || last[-1] == '-')
		return 0;
	for (i = 1; last[i] != '\0'; i++)
		if (last[i] < '0' || last[i] > '9')
			return 0;
	for (const char *p = s; p < last; p++) {
		if (*p == '-') {
			if (p == s || p[-1] == '-')
				return 0;
			continue;
		}
		if (*p < 'a' || *p > 'z')
			return 0;
		if (p == s || p[-1] == '-')
			groups++;
	}
	return groups >= 2 && s[0] != '-';
}

/* Expands {version} in the bundle URL, splits it into bucket and (percent-decoded) key. */
static int parse_bundle(struct directive *d, const char *url, unsigned line, struct herr *err)
{
	struct buf url_buf;
	const char *p, *slash;
	char *key = NULL;
	size_t klen, i, o = 0;
	int rc = -1;

	buf_init(&url_buf, VALUE_MAX * 2);
	if (strncmp(url, "s3://", 5) != 0) {
		bad_value(err, line, "bundle", url, "is not an s3://bucket/key URL");
		goto out;
	}
	for (p = url; *p != '\0'; p++) {
		if (*p == '{') {
			if (strncmp(p, "{version}", 9) != 0) {
				const char *close = strchr(p, '}');
				herr_set(err, HOIST_EXIT_DIRECTIVE,
				         "hoist directive line %u: bundle: unknown placeholder '%.*s' "
				         "(only {version} is expanded)",
				         line, close && close - p < 32 ? (int)(close - p + 1) : 1, p);
				goto out;
			}
			if (d->version == NULL || buf_append_str(&url_buf, d->version) != 0) {
				herr_set(err, HOIST_EXIT_DIRECTIVE,
				         "hoist directive line %u: bundle: too long", line);
				goto out;
			}
			p += 8;
			continue;
		}
		if (*p == '}') {
			herr_set(err, HOIST_EXIT_DIRECTIVE,
			         "hoist directive line %u: bundle: '}' without a matching '{version'", line);
			goto out;
		}
		if (buf_append(&url_buf, p, 1) != 0) {
			herr_set(err, HOIST_EXIT_DIRECTIVE, "hoist directive line %u: bundle: too long",
			         line);
			goto out;
		}
	}
	p = url_buf.data + 5;
	slash = strchr(p, '/');
	if (slash == NULL || !bucket_ok(p, (size_t)(slash - p))) {
		bad_value(err, line, "bundle", url_buf.data,
		          "does not name a valid S3 bucket (3-63 of a-z, 0-9, '.', '-')");
		goto out;
	}
	if (slash[1] == '\0') {
		bad_value(err, line, "bundle", url_buf.data, "has no object key after the bucket");
		goto out;
	}
	if (slash[1] == '/') {
		bad_value(err, line, "bundle", url_buf.data, "has a key starting with '/'");
		goto out;
	}
	klen = strlen(slash + 1);
	if ((key = malloc(klen + 1)) == NULL) {
		herr_set(err, HOIST_EXIT_INTERNAL, "hoist directive: out of memory");
		goto out;
	}
	/* the key is kept decoded ("a%20b" -> "a b"); the S3 client encodes it once */
	for (i = 0; i < klen; i++) {
		char c = slash[1 + i];
		if (c == '%') {
			int hi = i + 2 < klen ? hex_value((unsigned char)slash[2 + i]) : -1;
			int lo = hi >= 0 ? hex_value((unsigned char)slash[3 + i]) : -1;
			if (hi < 0 || lo < 0) {
				bad_value(err, line, "bundle", url_buf.data, "has a '%' that is not %XX");
				goto out;
			}
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if ((unsigned char)c < 0x20 || c == 0x7f) {
			herr_set(err, HOIST_EXIT_DIRECTIVE,
			         "hoist directive line %u: bundle: the key has a control character", line);
			goto out;
		}
		key[o++] = c;
	}
	key[o] = '\0';
	if (o > S3_KEY_MAX) {
		herr_set(err, HOIST_EXIT_DIRECTIVE,
		         "hoist directive line %u: bundle: the key is longer than %d bytes", line,
		         S3_KEY_MAX);
		goto out;
	}
	if ((d->bucket = strndup(p, (size_t)(slash - p))) == NULL) {
		herr_set(err, HOIST_EXIT_INTERNAL, "hoist directive: out of memory");
		goto out;
	}
	d->key = key;
	key = NULL;
	d->bundle = buf_steal(&url_buf);
	rc = 0;
out:
	free(key);
	buf_free(&url_buf);
	return rc;
}

/* Checks one value against its key's syntax and stores it (bundle is done last, after
 * version is known). */
static int check_value(struct directive *d, enum dkey k, const char *v, unsigned line, struct herr *err)
{
	char **slot = NULL;
	switch (k) {
	case D_VERSION:
	case D_ENVIRONMENT:
	case D_APPLICATION:
	case D_GROUP:
		if (!directive_token_ok(v, DIRECTIVE_VERSION_MAX))
			return bad_value(err, line, DKEYS[k], v,
			                 "is not a safe name (1-128 of A-Z a-z 0-9 . _ + -, not starting "
			                 "with '-' or '.', no \"..\")");
		slot = k == D_VERSION       ? &d->version
		       : k == D_ENVIRONMENT ? &d->environment
		       : k == D_APPLICATION ? &d->application
		                            : &d->deployment_group;
		break;
	case D_SHA256:
		if (strlen(v) != SHA256_HEX_LEN || hex_decode(v, d->sha256, sizeof(d->sha256)) != 0)
			return bad_value(err, line, "sha256", v, "is not 64 hexadecimal digits");
		d->has_sha256 = true;
		return 0;
	case D_REGION:
		if (!region_ok(v))
			return bad_value(err, line, "region", v, "is not a region like us-east-1");
		slot = &d->region;
		break;
	case D_ENDPOINT:
		if (!str_http_url_ok(v, 1024))
			return bad_value(err, line, "endpoint", v, "is not an http:// or https:// URL");
		slot = &d->endpoint;
		break;
	case D_CHANNEL:
	case D_RELEASE:
		if (strncmp(v, "s3://", 5) != 0 || strchr(v + 5, '/') == NULL || v[5] == '/' ||
		    strchr(v + 5, '/')[1] == '\0' || !str_printable(v) || strchr(v, ' ') != NULL)
			return bad_value(err, line, DKEYS[k], v, "is not an s3://BUCKET/KEY URL");
		d->manifest_is_channel = k == D_CHANNEL;
		slot = &d->manifest_url;
		break;
	case D_HOOK:
	case D_ASG:
		if (!str_word_ok(v, STR_AWS_NAME_MAX))
			return bad_value(err, line, DKEYS[k], v,
			                 "is not a name of 1-255 printable characters without spaces");
		slot = k == D_HOOK ? &d->lifecycle_hook : &d->autoscaling_group;
		break;
	case D_REPORT:
		if (report_parse_url(v, NULL) != 0)
			return bad_value(err, line, "report", v, "is not an s3://BUCKET/PREFIX/ URL");
		slot = &d->report;
		break;
	case D_NOTIFY:
		if (!str_http_url_ok(v, 1024))
			return bad_value(err, line, "notify", v, "is not an http:// or https:// URL");
		slot = &d->notify;
		break;
	case D_BUNDLE:
	case D_COUNT:
		return 0;
	}
	if ((*slot = strdup(v)) == NULL)
		return herr_set(err, HOIST_EXIT_INTERNAL, "hoist directive: out of memory");
	return 0;
}

/* Parses the directive text: the "#hoist" line, then key=value lines. */
static int parse_text(const char *text, size_t len, bool typed, struct directive *d, struct herr *err)
{
	unsigned seen[D_COUNT] = {0};
	char values[D_COUNT][VALUE_MAX + 1];
	const char *p = text, *end = text + len;
	unsigned line = 0;
	bool header = typed; /* a text/x-hoist part may leave out the "#hoist" line */
	bool first = true;
	int k;

	if (memchr(text, '\0', len) != NULL) {
		const char *z = memchr(text, '\0', len);
		unsigned zl = 1;
		for (const char *q = text; q < z; q++)
			zl += *q == '\n';
		return herr_set(err, HOIST_EXIT_DIRECTIVE, "hoist directive line %u: NUL byte, refused", zl);
	}
	while (p < end) {
		const char *ls, *le, *ks, *ke, *vs, *ve;
		str_next_line(&p, end, &ls, &le);
		line++;
		if (line == 1 && le - ls >= 3 && memcmp(ls, "\xef\xbb\xbf", 3) == 0)
			ls += 3;
		str_trim(&ls, &le);
		if (ls == le)
			continue;
		if (first) {
			first = false;
			if (le - ls >= 6 && memcmp(ls, "#hoist", 6) == 0 &&
			    (le - ls == 6 || ls[6] == ' ' || ls[6] == '\t')) {
				const char *vs2 = ls + 6, *ve2 = le;
				str_trim(&vs2, &ve2);
				if (vs2 != ve2 && !(ve2 - vs2 == 2 && memcmp(vs2, "v1", 2) == 0))
					return herr_set(err, HOIST_EXIT_DIRECTIVE,
					                "hoist directive line %u: unsupported format '%.*s' "
					                "(this hoist-boot reads \"#hoist\" or \"#hoist v1\")",
					                line, (int)(ve2 - vs2 < SHOW ? ve2 - vs2 : SHOW),
					                vs2);
				header = true;
				continue;
			}
			if (!header)
				return herr_set(err, HOIST_EXIT_NO_DIRECTIVE,
				                "user data does not start with \"#hoist\"");
		}
		if (*ls == '#')
			continue;
		if (str_split_kv(ls, le, &ks, &ke, &vs, &ve) != 0)
			return herr_set(err, HOIST_EXIT_DIRECTIVE,
			                "hoist directive line %u: expected key=value, found no '='", line);
		for (k = 0; k < D_COUNT; k++)
			if (strlen(DKEYS[k]) == (size_t)(ke - ks) &&
			    memcmp(DKEYS[k], ks, (size_t)(ke - ks)) == 0)
				break;
		if (k == D_COUNT) {
			char shown[SHOW + 1];
			size_t n = (size_t)(ke - ks) < SHOW ? (size_t)(ke - ks) : SHOW;
			memcpy(shown, ks, n);
			shown[n] = '\0';
			if (!str_printable(shown))
				return herr_set(
				    err, HOIST_EXIT_DIRECTIVE,
				    "hoist directive line %u: unknown key with control characters", line);
			return herr_set(
			    err, HOIST_EXIT_DIRECTIVE,
			    "hoist directive line %u: unknown key '%s' (known: version, bundle, "
			    "sha256, environment, application, deployment_group, region, endpoint, "
			    "channel, release, lifecycle_hook, autoscaling_group, report, notify)",
			    line, shown);
		}
		if (seen[k] != 0)
			return herr_set(err, HOIST_EXIT_DIRECTIVE,
			                "hoist directive line %u: duplicate key '%s' (first on line %u)",
			                line, DKEYS[k], seen[k]);
		seen[k] = line;
		if ((size_t)(ve - vs) > VALUE_MAX)
			return herr_set(err, HOIST_EXIT_DIRECTIVE,
			                "hoist directive line %u: %s: value longer than %d bytes", line,
			                DKEYS[k], VALUE_MAX);
		memcpy(values[k], vs, (size_t)(ve - vs));
		values[k][ve - vs] = '\0';
	}
	if (!header)
		return herr_set(err, HOIST_EXIT_NO_DIRECTIVE, "user data holds no \"#hoist\" directive");
	if (seen[D_CHANNEL] != 0 || seen[D_RELEASE] != 0) {
		/* the manifest names version, bundle and digest: the directive may not */
		static const enum dkey clash[] = {D_RELEASE, D_VERSION, D_BUNDLE, D_SHA256};
		enum dkey mk = seen[D_CHANNEL] != 0 ? D_CHANNEL : D_RELEASE;
		for (size_t i = 0; i < sizeof(clash) / sizeof(clash[0]); i++)
			if (clash[i] != mk && seen[clash[i]] != 0)
				return herr_set(err, HOIST_EXIT_DIRECTIVE,
				                "hoist directive line %u: '%s' cannot be combined with '%s' "
				                "(line %u): the manifest names the release",
				                seen[clash[i]], DKEYS[clash[i]], DKEYS[mk], seen[mk]);
	}
	for (k = 0; k < D_COUNT; k++)
		if (REQUIRED[k] && seen[k] == 0 &&
		    !((k == D_VERSION || k == D_BUNDLE) && (seen[D_CHANNEL] != 0 || seen[D_RELEASE] != 0)))
			return herr_set(err, HOIST_EXIT_DIRECTIVE,
			                "hoist directive: missing required key '%s'%s", DKEYS[k],
			                k == D_VERSION || k == D_BUNDLE ? " (or channel, or release)" : "");
	for (k = 0; k < D_COUNT; k++)
		if (seen[k] != 0 && check_value(d, (enum dkey)k, values[k], seen[k], err) != 0)
			return -1;
	d->line_of_version = seen[D_VERSION];
	if (d->manifest_url == NULL && parse_bundle(d, values[D_BUNDLE], seen[D_BUNDLE], err) != 0)
		return -1;
	if (d->deployment_group == NULL) {
		size_t n = strlen(d->application) + 1 + strlen(d->environment) + 1;
		if ((d->deployment_group = malloc(n)) == NULL)
			return herr_set(err, HOIST_EXIT_INTERNAL, "hoist directive: out of memory");
		snprintf(d->deployment_group, n, "%s-%s", d->application, d->environment);
	}
	return 0;
}

int directive_use_channel(struct directive *d, const char *url, struct herr *err)
{
	char *u;
	if (strncmp(url, "s3://", 5) != 0 || strchr(url + 5, '/') == NULL || url[5] == '/' ||
	    strchr(url + 5, '/')[1] == '\0' || !str_printable(url) || strchr(url, ' ') != NULL)
		return herr_set(err, HOIST_EXIT_USAGE, "--channel '%.200s' is not an s3://BUCKET/KEY URL",
		                url);
	if ((u = strdup(url)) == NULL)
		return herr_set(err, HOIST_EXIT_INTERNAL, "out of memory");
	free(d->manifest_url);
	free(d->version);
	free(d->bundle);
	free(d->bucket);
	free(d->key);
	d->version = d->bundle = d->bucket = d->key = NULL;
	d->has_sha256 = false;
	d->manifest_url = u;
	d->manifest_is_channel = true;
	return 0;
}

/* Parses user data; see userdata.h. */
int userdata_parse(const uint8_t *data, size_t len, struct directive *out, struct herr *err)
{
	struct ud_found found = {0};
	int rc = -1;

	memset(out, 0, sizeof(*out));
	/* the size check comes first: nothing is decoded from oversized input */
	if (len > USERDATA_MAX_BYTES) {
		herr_set(err, HOIST_EXIT_DIRECTIVE, "user data is %zu bytes, more than the %d allowed", len,
		         USERDATA_MAX_BYTES);
		goto out;
	}
	if (data == NULL || len == 0) {
		herr_set(err, HOIST_EXIT_NO_DIRECTIVE, "no user data");
		goto out;
	}
	if (ud_unwrap(data, len, USERDATA_MAX_DECODED, &found, err) != 0)
		goto out;
	if (found.count == 0) {
		herr_set(err, HOIST_EXIT_NO_DIRECTIVE, "user data holds no \"#hoist\" directive");
		goto out;
	}
	if (parse_text(found.text, found.len, found.typed, out, err) != 0)
		goto out;
	rc = 0;
out:
	ud_found_free(&found);
	if (rc != 0)
		directive_free(out);
	return rc;
}
