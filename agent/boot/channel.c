/* channel.c - channel= and release= directives (see channel.h). */
#include "channel.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "digest.h"
#include "exitcodes.h"
#include "fsutil.h"
#include "log.h"
#include "manifest.h"
#include "signify.h"
#include "trust.h"

#define SIGNED_MAX (MANIFEST_MAX_BYTES + 2 * SIGNIFY_COMMENT_MAX + 256)
#define GET_TIMEOUT_MS 30000
#define SEQ_FILE_MAX 2048

/* 1 when the policy requires signatures (keys loaded into t). */
static int load_policy(const struct channel_opts *o, struct trust *t, struct herr *err)
{
	memset(t, 0, sizeof(*t));
	if (trust_load_dir(t, o->trusted_keys_dir, err) != 0)
		return -1;
	if (o->require == REQUIRE_SIG_YES && t->n == 0)
		return herr_set(err, HOIST_EXIT_CONFIG,
		                "require_signature = yes, but %s holds no trusted key (*.pub)",
		                o->trusted_keys_dir);
	return o->require == REQUIRE_SIG_YES || (o->require == REQUIRE_SIG_AUTO && t->n > 0);
}

int channel_check_pinned(const struct channel_opts *o, const struct directive *d, struct herr *err)
{
	struct trust t;
	int req = load_policy(o, &t, err);
	if (req < 0)
		return -1;
	if (req)
		return herr_set(
		    err, HOIST_EXIT_UNTRUSTED,
		    "the directive pins version %s with bundle=, but this host requires signed "
		    "releases (%zu trusted key%s in %s): use release=s3://.../%s/release or channel=",
		    d->version, t.n, t.n == 1 ? "" : "s", o->trusted_keys_dir, d->version);
	return 0;
}

/* STATE/channels/<first 16 bytes of sha256(url) in hex>.seq */
static int seq_path(const char *state, const char *url, char *out, size_t outsz)
{
	uint8_t h[32];
	char hex[65], name[96];
	if (sha256_buf(url, strlen(url), h) != 0)
		return -1;
	hex_encode(h, 16, hex);
	(void)snprintf(name, sizeof(name), "channels/%s.seq", hex);
	return fs_path_join(out, outsz, state, name);
}

/* The seq last applied for this channel; 0 when none. */
static int read_seq(const char *path, uint64_t *seq, struct herr *err)
{
	struct buf b;
	const char *p;
	char *end;
	int rc = -1;
	*seq = 0;
	if (!fs_exists(path))
		return 0;
	buf_init(&b, SEQ_FILE_MAX);
	if (fs_read_file(path, SEQ_FILE_MAX, FS_NOFOLLOW, &b, err) != 0)
		goto out;
	p = b.data != NULL ? strstr(b.data, "\nseq=") : NULL;
	errno = 0;
	if (p == NULL || (*seq = strtoull(p + 5, &end, 10), errno != 0) || *end != '\n') {
		herr_set(err, HOIST_EXIT_IO, "%s: malformed (remove it to accept any seq again)", path);
		goto out;
	}
	rc = 0;
out:
	buf_free(&b);
	return rc;
}

int channel_record_seq(const struct channel_result *r, const char *url, struct herr *err)
{
	char text[SEQ_FILE_MAX], dir[PATH_MAX];
	const char *slash;
	int n;
	if (!r->is_channel)
		return 0;
	slash = strrchr(r->seq_path, '/');
	if (slash == NULL || (size_t)(slash - r->seq_path) >= sizeof(dir))
		return herr_set(err, HOIST_EXIT_IO, "bad seq path");
	memcpy(dir, r->seq_path, (size_t)(slash - r->seq_path));
	dir[slash - r->seq_path] = '\0';
	n = snprintf(text, sizeof(text), "url=%s\nseq=%" PRIu64 "\n", url, r->seq);
	if (n < 0 || (size_t)n >= sizeof(text))
		return herr_set(err, HOIST_EXIT_IO, "channel URL too long for the seq record");
	if (fs_mkdir_p(dir, 0700, err) != 0)
		return -1;
	return fs_write_atomic(r->seq_path, text, (size_t)n, 0644, err);
}

static char *dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

int channel_resolve(struct s3client *c, const struct channel_opts *o, struct directive *d,
                    struct channel_result *r, struct herr *err)
{
	struct trust t;
	struct manifest m;
	struct http_response resp;
	char bucket[256], key[MANIFEST_URL_MAX], bbucket[256], bkey[MANIFEST_URL_MAX];
	const char *url = d->manifest_url, *msg, *last;
	const char *kind = d->manifest_is_channel ? "channel" : "release manifest";
	size_t mlen, ki = 0;
	int req, tr, rc = -1;
	uint64_t last_seq = 0;

	memset(r, 0, sizeof(*r));
	http_response_init(&resp);
	r->is_channel = d->manifest_is_channel;
	if ((req = load_policy(o, &t, err)) < 0)
		goto out;
	if (manifest_split_s3(url, bucket, sizeof(bucket), key, sizeof(key)) != 0) {
		herr_set(err, HOIST_EXIT_DIRECTIVE, "%s %.200s: not an s3://BUCKET/KEY URL", kind, url);
		goto out;
	}
	if (s3_request(c, "GET", bucket, key, NULL, 0, GET_TIMEOUT_MS, NULL, NULL, &resp, err) != 0)
		goto out;
	if (resp.status != 200) {
		s3_status_error(&resp, "GET", bucket, key, err);
		goto out;
	}
	if (resp.body.len > SIGNED_MAX) {
		herr_set(err, HOIST_EXIT_UNTRUSTED, "%s %s: %zu bytes, larger than a manifest can be", kind,
		         url, resp.body.len);
		goto out;
	}
	tr = trust_check(&t, resp.body.data != NULL ? resp.body.data : "", resp.body.len, &msg, &mlen, &ki,
	                 err);
	if (tr < 0) {
		herr_prefix(err, "%s %s refused", kind, url);
		goto out;
	}
	if (tr == TRUST_UNSIGNED && req) {
		herr_set(err, HOIST_EXIT_UNTRUSTED,
		         "%s %s refused: it is not signed, and this host requires signatures (%zu trusted "
		         "key%s in %s)",
		         kind, url, t.n, t.n == 1 ? "" : "s", o->trusted_keys_dir);
		goto out;
	}
	if (manifest_parse(msg, mlen, &m, err) != 0) {
		err->code = HOIST_EXIT_UNTRUSTED;
		herr_prefix(err, "%s %s refused", kind, url);
		goto out;
	}
	if ((m.kind == MANIFEST_CHANNEL) != (d->manifest_is_channel != 0)) {
		herr_set(err, HOIST_EXIT_UNTRUSTED, "%s %s refused: it holds a %s manifest", kind, url,
		         m.kind == MANIFEST_CHANNEL ? "channel" : "release");
		goto out;
	}
	if (strcmp(m.app, d->application) != 0) {
		herr_set(err, HOIST_EXIT_UNTRUSTED,
		         "%s %s refused: it is a release of application '%s', this host runs '%s'", kind, url,
		         m.app, d->application);
		goto out;
	}
	last = strrchr(key, '/');
	if (m.kind == MANIFEST_CHANNEL && strcmp(last != NULL ? last + 1 : key, m.channel) != 0) {
		herr_set(err, HOIST_EXIT_UNTRUSTED,
		         "channel %s refused: it holds the manifest of channel '%s' (copied from another "
		         "channel?)",
		         url, m.channel);
		goto out;
	}
	if (m.has_expires && m.expires <= time(NULL)) {
		char when[32];
		manifest_time(m.expires, when);
		herr_set(err, HOIST_EXIT_STALE, "%s %s refused: it expired at %s (promote again to renew it)",
		         kind, url, when);
		goto out;
	}
	if (m.kind == MANIFEST_CHANNEL) {
		if (seq_path(o->state_dir, url, r->seq_path, sizeof(r->seq_path)) != 0) {
			herr_set(err, HOIST_EXIT_CONFIG, "state_dir too long");
			goto out;
		}
		if (read_seq(r->seq_path, &last_seq, err) != 0)
			goto out;
		if (m.seq < last_seq) {
			herr_set(err, HOIST_EXIT_STALE,
			         "channel %s refused: its seq %" PRIu64 " is lower than seq %" PRIu64
			         " already applied on this host (an old channel manifest replayed?)",
			         url, m.seq, last_seq);
			goto out;
		}
		r->seq = m.seq;
	}
	if (m.size > o->max_bundle_bytes) {
		herr_set(err, HOIST_EXIT_TOO_LARGE,
		         "%s %s: the bundle is %" PRIu64 " bytes, more than max_bundle_bytes %" PRIu64, kind,
		         url, m.size, o->max_bundle_bytes);
		goto out;
	}
	if (manifest_split_s3(m.bundle, bbucket, sizeof(bbucket), bkey, sizeof(bkey)) != 0) {
		herr_set(err, HOIST_EXIT_UNTRUSTED, "%s %s: bad bundle URL", kind, url);
		goto out;
	}
	free(d->version);
	free(d->bundle);
	free(d->bucket);
	free(d->key);
	d->version = dup_or_null(m.version);
	d->bundle = dup_or_null(m.bundle);
	d->bucket = dup_or_null(bbucket);
	d->key = dup_or_null(bkey);
	if (d->version == NULL || d->bundle == NULL || d->bucket == NULL || d->key == NULL) {
		herr_set(err, HOIST_EXIT_INTERNAL, "out of memory");
		goto out;
	}
	memcpy(d->sha256, m.sha256, 32);
	d->has_sha256 = true;
	r->size = m.size;
	if (tr == TRUST_VERIFIED)
		log_info("%s %s: %s %s, signed by trusted key %s", kind, url, m.app, m.version, t.names[ki]);
	else
		log_info("%s %s: %s %s, not signed (require_signature %s)", kind, url, m.app, m.version,
		         o->require == REQUIRE_SIG_NO ? "no" : "auto, no trusted keys");
	if (m.kind == MANIFEST_CHANNEL)
		log_debug("channel seq %" PRIu64 " (last applied here: %" PRIu64 ")", m.seq, last_seq);
	rc = 0;
out:
	http_response_free(&resp);
	return rc;
}
