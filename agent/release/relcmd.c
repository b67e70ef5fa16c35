/* relcmd.c - the hoist-release commands (see relcmd.h). */
#include "relcmd.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "digest.h"
#include "exitcodes.h"
#include "fsutil.h"
#include "log.h"
#include "manifest.h"
#include "pack.h"
#include "query.h"
#include "relurl.h"
#include "s3.h"
#include "s3put.h"
#include "signify.h"
#include "strutil.h"
#include "trust.h"

#define SIGNED_MAX (MANIFEST_MAX_BYTES + 2 * SIGNIFY_COMMENT_MAX + 256)
#define GET_TIMEOUT_MS 60000

/* ---- bundle ---- */

/* The checks of `hoist validate` (hoist_deploy's own code) on the directory,
 * with the default settings and the built-in default deploy policy: the build
 * machine is not the host, so neither its policy.conf nor its state apply. */
static int validate_dir(const char *dir, struct herr *err)
{
	struct hoist_config cfg;
	struct preflight_req q = {0};
	int rc;
	config_init(&cfg);
	q.path = dir;
	q.cfg = &cfg;
	rc = query_preflight(&q, stderr, err);
	config_free(&cfg);
	return rc;
}

/* The output must not lie inside the tree being packed. */
static int out_outside(const char *dir, const char *out, struct herr *err)
{
	char rd[PATH_MAX], ro[PATH_MAX], parent[PATH_MAX];
	const char *slash = strrchr(out, '/');
	size_t n;
	if (slash == NULL)
		(void)snprintf(parent, sizeof(parent), ".");
	else
		(void)snprintf(parent, sizeof(parent), "%.*s", slash == out ? 1 : (int)(slash - out), out);
	if (realpath(dir, rd) == NULL)
		return herr_errno(err, HOIST_EXIT_USAGE, errno, "%s", dir);
	if (realpath(parent, ro) == NULL)
		return herr_errno(err, HOIST_EXIT_USAGE, errno, "%s", parent);
	n = strlen(rd);
	if (strncmp(ro, rd, n) == 0 && (ro[n] == '\0' || ro[n] == '/'))
		return herr_set(err, HOIST_EXIT_USAGE,
		                "%s is inside the bundle directory %s: write it elsewhere", out, dir);
	return 0;
}

int relcmd_bundle(const char *dir, const char *out, struct herr *err)
{
	struct pack_result r;
	char hex[65];
	time_t mtime = 0;
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	struct stat st;

	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return herr_set(err, HOIST_EXIT_USAGE, "%s: not a directory", dir);
	if (sde != NULL && sde[0] != '\0') {
		char *end;
		errno = 0;
		long long v = strtoll(sde, &end, 10);
		if (errno != 0 || *end != '\0' || v < 0)
			return herr_set(err, HOIST_EXIT_USAGE,
			                "SOURCE_DATE_EPOCH '%.40s' is not a number of seconds", sde);
		mtime = (time_t)v;
	}
	if (out_outside(dir, out, err) != 0)
		return err->code;
	if (validate_dir(dir, err) != 0) {
		herr_prefix(err, "bundle %s refused (hoist validate)", dir);
		return err->code;
	}
	if (pack_dir(dir, out, mtime, &r, err) != 0)
		return err->code;
	hex_encode(r.sha256, 32, hex);
	fprintf(stderr, "hoist-release: wrote %s: %" PRIu64 " entries\n", out, r.entries);
	printf("sha256=%s\nsize=%" PRIu64 "\n", hex, r.size);
	return 0;
}

/* ---- keys ---- */

static int write_new(const char *path, const char *data, size_t n, mode_t mode, struct herr *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return herr_errno(err, errno == EEXIST ? HOIST_EXIT_USAGE : HOIST_EXIT_IO, errno,
		                  "cannot create %s%s", path,
		                  errno == EEXIST ? " (refusing to overwrite a key)" : "");
	if (fchmod(fd, mode) != 0 || fs_write_all(fd, data, n) != 0 || fsync(fd) != 0) {
		int e = errno;
		close(fd);
		(void)unlink(path);
		return herr_errno(err, HOIST_EXIT_IO, e, "cannot write %s", path);
	}
	if (close(fd) != 0)
		return herr_errno(err, HOIST_EXIT_IO, errno, "cannot write %s", path);
	return 0;
}

int relcmd_key_generate(const char *name, struct herr *err)
{
	struct signify_pubkey pk;
	struct signify_seckey sk;
	struct buf ps, ss;
	char pub[PATH_MAX], sec[PATH_MAX], comment[PATH_MAX + 32];
	const char *base = strrchr(name, '/') != NULL ? strrchr(name, '/') + 1 : name;
	int rc = -1;

	buf_init(&ps, 4096);
	buf_init(&ss, 4096);
	if (base[0] == '\0' || (size_t)snprintf(pub, sizeof(pub), "%s.pub", name) >= sizeof(pub) ||
	    (size_t)snprintf(sec, sizeof(sec), "%s.sec", name) >= sizeof(sec)) {
		herr_set(err, HOIST_EXIT_USAGE, "invalid key name '%.200s'", name);
		goto out;
	}
	if (fs_exists(pub) || fs_exists(sec)) {
		herr_set(err, HOIST_EXIT_USAGE, "%s or %s exists: refusing to overwrite a key", pub, sec);
		goto out;
	}
	if (signify_generate(&pk, &sk, err) != 0)
		goto out;
	(void)snprintf(comment, sizeof(comment), "hoist release key %s", base);
	if (signify_format_pubkey(&pk, comment, &ps) != 0) {
		herr_set(err, HOIST_EXIT_INTERNAL, "cannot format the key");
		goto out;
	}
	(void)snprintf(comment, sizeof(comment), "hoist release secret key %s", base);
	if (signify_format_seckey(&sk, comment, &ss) != 0) {
		herr_set(err, HOIST_EXIT_INTERNAL, "cannot format the key");
		goto out;
	}
	if (write_new(sec, ss.data, ss.len, 0600, err) != 0)
		goto out;
	if (write_new(pub, ps.data, ps.len, 0644, err) != 0) {
		(void)unlink(sec);
		goto out;
	}
	{
		char hex[17];
		signify_keynum_hex(pk.keynum, hex);
		printf("secret key %s (mode 0600: keep it on the build side only)\n"
		       "public key %s (key %s): install it on hosts as /etc/hoist/trusted-keys/%s.pub\n",
		       sec, pub, hex, base);
	}
	rc = 0;
out:
	signify_seckey_wipe(&sk);
	if (ss.data != NULL)
		memset(ss.data, 0, ss.len);
	buf_free(&ss);
	buf_free(&ps);
	return rc == 0 ? 0 : err->code;
}

/* Reads a secret key file (refusing one that others may read) and names
 * its public half for the signature comment. */
static int load_seckey(const char *path, struct signify_seckey *sk, char *pubname, size_t pnsz,
                       struct herr *err)
{
	struct buf b;
	struct stat st;
	const char *base = strrchr(path, '/') != NULL ? strrchr(path, '/') + 1 : path;
	size_t bl = strlen(base);
	int rc = -1;
	buf_init(&b, 4096);
	if (stat(path, &st) != 0) {
		herr_errno(err, HOIST_EXIT_CONFIG, errno, "--sign-key %s", path);
		goto out;
	}
	if ((st.st_mode & 077) != 0)
		log_warnx("%s can be read by others (mode %03o): keep secret keys mode 0600", path,
		          (unsigned)(st.st_mode & 0777));
	if (fs_read_file(path, 4096, 0, &b, err) != 0) {
		err->code = HOIST_EXIT_CONFIG;
		goto out;
	}
	if (signify_parse_seckey(b.data != NULL ? b.data : "", b.len, path, sk, err) != 0)
		goto out;
	if (bl > 4 && strcmp(base + bl - 4, ".sec") == 0)
		(void)snprintf(pubname, pnsz, "%.*s.pub", (int)(bl - 4), base);
	else
		(void)snprintf(pubname, pnsz, "%s.pub", base);
	rc = 0;
out:
	if (b.data != NULL)
		memset(b.data, 0, b.len);
	buf_free(&b);
	return rc;
}

/* ---- S3 helpers ---- */

/* GETs a small object. Returns 0 (body in out, etag), 1 when absent (404),
 * -1 on error. */
static int get_small(struct relaws *a, const char *bucket, const char *key, struct buf *out, char *etag,
                     size_t etagsz, struct herr *err)
{
	struct http_response resp;
	int rc = -1;
	http_response_init(&resp);
	if (s3_request(&a->s3, "GET", bucket, key, NULL, 0, GET_TIMEOUT_MS, NULL, NULL, &resp, err) != 0)
		goto out;
	if (resp.status == 404) {
		rc = 1;
		goto out;
	}
	if (resp.status != 200) {
		s3_status_error(&resp, "GET", bucket, key, err);
		if (resp.status == 403 && strstr(err->msg, "instance role") != NULL)
			/* S3 answers 403, not 404, for a missing key when ListBucket is not allowed */
			herr_set(err, HOIST_EXIT_DENIED,
			         "GET s3://%s/%s: access denied (the build role needs s3:GetObject on the "
			         "prefix, and s3:ListBucket on the bucket so that a missing object is a "
			         "404: docs/releases.md)",
			         bucket, key);
		goto out;
	}
	if (resp.body.len > SIGNED_MAX) {
		herr_set(err, HOIST_EXIT_TOO_LARGE, "s3://%s/%s: larger than a manifest can be", bucket, key);
		goto out;
	}
	if (buf_append(out, resp.body.data != NULL ? resp.body.data : "", resp.body.len) != 0) {
		herr_set(err, HOIST_EXIT_INTERNAL, "out of memory");
		goto out;
	}
	if (etag != NULL && http_header_get(resp.headers.data != NULL ? resp.headers.data : "",
	                                    resp.headers.len, "ETag", etag, etagsz) != 1)
		etag[0] = '\0';
	rc = 0;
out:
	http_response_free(&resp);
	return rc;
}

/* Signs (when a key is given) and formats a manifest. */
static int render(const struct manifest *m, const struct signify_seckey *sk, const char *pubname,
                  struct buf *out, struct herr *err)
{
	struct buf text;
	int rc = -1;
	buf_init(&text, MANIFEST_MAX_BYTES);
	if (manifest_format(m, &text) != 0) {
		herr_set(err, HOIST_EXIT_INTERNAL, "cannot format the manifest");
		goto out;
	}
	if (sk != NULL)
		rc = signify_sign_embedded(sk, pubname, text.data, text.len, out, err);
	else
		rc =
		    buf_append(out, text.data, text.len) == 0 ? 0 : herr_set(err, HOIST_EXIT_INTERNAL, "oom");
out:
	buf_free(&text);
	return rc;
}

static void progress(void *ud, uint64_t done, uint64_t total)
{
	(void)ud;
	if (total >= (64u << 20))
		log_info("uploaded %" PRIu64 " of %" PRIu64 " MiB", done >> 20, total >> 20);
}

/* ---- publish ---- */

int relcmd_publish(const char *file, const struct relcmd_opts *o, struct herr *err)
{
	struct relaws a;
	struct relaws_opts ao = {o->endpoint, o->region};
	struct signify_seckey sk;
	struct manifest m;
	struct buf existing, mtext;
	struct s3_file_opts fo = {0};
	struct s3_file_result fr;
	struct s3_put_opts po = {"text/plain; charset=utf-8", NULL, 1};
	struct s3_put_result pr;
	char bucket[RELURL_BUCKET_MAX], prefix[RELURL_KEY_MAX], bkey[RELURL_KEY_MAX], mkey[RELURL_KEY_MAX];
	char pubname[PATH_MAX], hex[65], chan[RELURL_KEY_MAX];
	const char *base = strrchr(file, '/') != NULL ? strrchr(file, '/') + 1 : file;
	struct stat st;
	int fd = -1, opened = 0, have_sk = 0, r;

	memset(&sk, 0, sizeof(sk));
	buf_init(&existing, SIGNED_MAX);
	buf_init(&mtext, SIGNED_MAX);
	if (o->app == NULL || o->version == NULL || o->to == NULL) {
		herr_set(err, HOIST_EXIT_USAGE,
		         "publish needs --to s3://BUCKET/PREFIX, --app A and --version V");
		goto out;
	}
	if (!str_safe_token(o->app, MANIFEST_NAME_MAX) || !str_safe_token(o->version, MANIFEST_NAME_MAX)) {
		herr_set(
		    err, HOIST_EXIT_USAGE,
		    "--app and --version must be safe names (1-128 of A-Z a-z 0-9 . _ + -, not starting with "
		    "'-' or '.')");
		goto out;
	}
	if (!str_safe_token(base, MANIFEST_NAME_MAX) || strcmp(base, "release") == 0) {
		herr_set(err, HOIST_EXIT_USAGE, "%s: the file name must be a safe name other than 'release'",
		         file);
		goto out;
	}
	if (relurl_prefix(o->to, bucket, sizeof(bucket), prefix, sizeof(prefix), err) != 0 ||
	    relurl_join(bkey, sizeof(bkey), prefix, o->app, o->version, base) != 0 ||
	    relurl_join(mkey, sizeof(mkey), prefix, o->app, o->version, "release") != 0) {
		if (err->code == 0)
			herr_set(err, HOIST_EXIT_USAGE, "object key too long");
		goto out;
	}
	if ((size_t)snprintf(chan, sizeof(chan), "%s%s%s", prefix, prefix[0] ? "/" : "", o->app) >=
	    sizeof(chan)) {
		herr_set(err, HOIST_EXIT_USAGE, "prefix too long");
		goto out;
	}
	if (o->sign_key != NULL) {
		if (load_seckey(o->sign_key, &sk, pubname, sizeof(pubname), err) != 0)
			goto out;
		have_sk = 1;
	}
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		herr_errno(err, HOIST_EXIT_USAGE, fd < 0 ? errno : EINVAL, "%s", file);
		goto out;
	}
	opened = 1; /* relaws_close also undoes a partial relaws_open */
	if (relaws_open(&a, &ao, err) != 0)
		goto out_aws;
	/* versions are immutable: a published release is never replaced */
	r = get_small(&a, bucket, mkey, &existing, NULL, 0, err);
	if (r < 0)
		goto out_aws;
	if (r == 0) {
		herr_set(err, HOIST_EXIT_BUSY,
		         "s3://%s/%s exists: version %s of %s is already published (versions are immutable; "
		         "publish a new version)",
		         bucket, mkey, o->version, o->app);
		goto out_aws;
	}
	fo.content_type = "application/gzip";
	fo.part_size = o->part_size;
	fo.retries = 4;
	fo.progress = progress;
	log_info("uploading %s (%" PRIu64 " bytes) to s3://%s/%s", file, (uint64_t)st.st_size, bucket, bkey);
	if (s3_put_file(&a.s3, bucket, bkey, fd, (uint64_t)st.st_size, &fo, &fr, err) != 0)
		goto out_aws;
	memset(&m, 0, sizeof(m));
	m.kind = MANIFEST_RELEASE;
	(void)snprintf(m.app, sizeof(m.app), "%s", o->app);
	(void)snprintf(m.version, sizeof(m.version), "%s", o->version);
	if ((size_t)snprintf(m.bundle, sizeof(m.bundle), "s3://%s/%s", bucket, bkey) >= sizeof(m.bundle)) {
		herr_set(err, HOIST_EXIT_USAGE, "bundle URL too long");
		goto out_aws;
	}
	memcpy(m.sha256, fr.sha256, 32);
	m.size = (uint64_t)st.st_size;
	m.created = time(NULL);
	if (render(&m, have_sk ? &sk : NULL, pubname, &mtext, err) != 0)
		goto out_aws;
	if (s3_put_buffer(&a.s3, bucket, mkey, mtext.data, mtext.len, &po, &pr, err) != 0) {
		if (pr.status == 412)
			herr_set(
			    err, HOIST_EXIT_BUSY,
			    "s3://%s/%s: another publish of version %s won the race (versions are immutable)",
			    bucket, mkey, o->version);
		goto out_aws;
	}
	hex_encode(m.sha256, 32, hex);
	printf("published %s %s: s3://%s/%s\n"
	       "  sha256=%s size=%" PRIu64 " parts=%u\n"
	       "  release manifest s3://%s/%s (%s)\n"
	       "user data for this release:\n"
	       "  #hoist\n  application=%s\n  environment=ENV\n  release=s3://%s/%s\n"
	       "user data that follows a channel (promote to it with hoist-release promote):\n"
	       "  #hoist\n  application=%s\n  environment=ENV\n  channel=s3://%s/%s/channels/ENV\n",
	       o->app, o->version, bucket, bkey, hex, m.size, fr.parts, bucket, mkey,
	       have_sk ? "signed" : "unsigned", o->app, bucket, mkey, o->app, bucket, chan);
	herr_clear(err);
out_aws:
	if (opened)
		relaws_close(&a);
out:
	if (fd >= 0)
		close(fd);
	signify_seckey_wipe(&sk);
	buf_free(&existing);
	buf_free(&mtext);
	return err->code;
}

/* ---- promote ---- */

/* The trusted keys a promotion's source may be signed by: --trusted-keys
 * DIR, plus the signing key's own public half. */
static int promote_trust(const struct relcmd_opts *o, const struct signify_seckey *sk, int have_sk,
                         struct trust *t, struct herr *err)
{
	memset(t, 0, sizeof(*t));
	if (o->trusted_keys_dir != NULL && trust_load_dir(t, o->trusted_keys_dir, err) != 0)
		return -1;
	if (have_sk) {
		struct signify_pubkey pk;
		memcpy(pk.keynum, sk->keynum, SIGNIFY_KEYNUM_LEN);
		memcpy(pk.key, sk->key + 32, 32);
		if (trust_add(t, &pk, "--sign-key", err) != 0)
			return -1;
	}
	return 0;
}

int relcmd_promote(const struct relcmd_opts *o, struct herr *err)
{
	struct relaws a;
	struct relaws_opts ao = {o->endpoint, o->region};
	struct relurl_channel cu, from;
	struct signify_seckey sk;
	struct trust trust;
	struct manifest src, cur, m;
	struct buf sbuf, cbuf, out;
	struct s3_put_opts po = {"text/plain; charset=utf-8", NULL, 0};
	struct s3_put_result pr;
	char pubname[PATH_MAX], skey[RELURL_KEY_MAX], sbucket[RELURL_BUCKET_MAX], etag[128],
	    srcurl[RELURL_KEY_MAX + 80];
	const char *msg;
	size_t mlen, ki = 0;
	uint64_t expires_s = 0;
	int opened = 0, have_sk = 0, r, tr;

	memset(&sk, 0, sizeof(sk));
	buf_init(&sbuf, SIGNED_MAX);
	buf_init(&cbuf, SIGNED_MAX);
	buf_init(&out, SIGNED_MAX);
	if (o->channel == NULL || (o->version == NULL) == (o->from_channel == NULL)) {
		herr_set(err, HOIST_EXIT_USAGE,
		         "promote needs --channel URL and one of --version V or --from-channel URL");
		goto out;
	}
	if (relurl_channel(o->channel, &cu, err) != 0)
		goto out;
	if (o->expires != NULL && relurl_duration(o->expires, &expires_s) != 0) {
		herr_set(err, HOIST_EXIT_USAGE, "--expires '%.40s': expected a duration like 90m, 12h or 7d",
		         o->expires);
		goto out;
	}
	if (o->version != NULL) {
		if (!str_safe_token(o->version, MANIFEST_NAME_MAX)) {
			herr_set(err, HOIST_EXIT_USAGE, "--version '%.64s' is not a safe name", o->version);
			goto out;
		}
		memcpy(sbucket, cu.bucket, sizeof(sbucket));
		if ((size_t)snprintf(skey, sizeof(skey), "%s/%s/release", cu.base, o->version) >=
		    sizeof(skey)) {
			herr_set(err, HOIST_EXIT_USAGE, "key too long");
			goto out;
		}
	} else {
		if (relurl_channel(o->from_channel, &from, err) != 0)
			goto out;
		memcpy(sbucket, from.bucket, sizeof(sbucket));
		memcpy(skey, from.key, sizeof(skey));
	}
	(void)snprintf(srcurl, sizeof(srcurl), "s3://%s/%s", sbucket, skey);
	if (o->sign_key != NULL) {
		if (load_seckey(o->sign_key, &sk, pubname, sizeof(pubname), err) != 0)
			goto out;
		have_sk = 1;
	}
	if (promote_trust(o, &sk, have_sk, &trust, err) != 0)
		goto out;
	opened = 1; /* relaws_close also undoes a partial relaws_open */
	if (relaws_open(&a, &ao, err) != 0)
		goto out_aws;

	/* the source: a release manifest or another channel */
	r = get_small(&a, sbucket, skey, &sbuf, NULL, 0, err);
	if (r == 1)
		herr_set(err, HOIST_EXIT_NOT_FOUND, "%s does not exist%s", srcurl,
		         o->version != NULL ? " (publish that version first)"
		                            : " (nothing promoted to that channel)");
	if (r != 0)
		goto out_aws;
	if (!have_sk && o->trusted_keys_dir == NULL) {
		/* an unsigned promotion vouches for nothing: the source is read, not verified
		 * (hosts that require signatures refuse the result anyway) */
		struct signify_sig ignored;
		tr = signify_split_embedded(sbuf.data, sbuf.len, &ignored, &msg, &mlen, err);
		if (tr > 0)
			log_warnx("%s is signed; this promotion is not (no --sign-key)", srcurl);
		tr = tr < 0 ? tr : TRUST_UNSIGNED;
	} else {
		tr = trust_check(&trust, sbuf.data, sbuf.len, &msg, &mlen, &ki, err);
	}
	if (tr < 0) {
		char why[HERR_MSG_MAX];
		(void)snprintf(why, sizeof(why), "%s", err->msg);
		herr_set(err, HOIST_EXIT_UNTRUSTED, "%s: %s%s", srcurl, why,
		         o->trusted_keys_dir == NULL
		             ? "; give --trusted-keys DIR holding the key that signed it"
		             : "");
		goto out_aws;
	}
	if (manifest_parse(msg, mlen, &src, err) != 0) {
		herr_prefix(err, "%s", srcurl);
		goto out_aws;
	}
	if (tr == TRUST_UNSIGNED && have_sk)
		log_warnx("%s is not signed: the channel will carry your signature over it", srcurl);
	if (strcmp(src.app, cu.app) != 0) {
		herr_set(err, HOIST_EXIT_USAGE,
		         "%s is a release of %s, not of %s (the channel's application)", srcurl, src.app,
		         cu.app);
		goto out_aws;
	}
	if (o->version != NULL && (src.kind != MANIFEST_RELEASE || strcmp(src.version, o->version) != 0)) {
		herr_set(err, HOIST_EXIT_INTEGRITY, "%s does not describe release %s", srcurl, o->version);
		goto out_aws;
	}

	/* the channel as it is now: its seq, and its ETag for the conditional write */
	r = get_small(&a, cu.bucket, cu.key, &cbuf, etag, sizeof(etag), err);
	if (r < 0)
		goto out_aws;
	memset(&m, 0, sizeof(m));
	if (r == 0) {
		const char *cmsg;
		size_t clen;
		struct signify_sig ignored;
		if (signify_split_embedded(cbuf.data, cbuf.len, &ignored, &cmsg, &clen, err) < 0 ||
		    manifest_parse(cmsg, clen, &cur, err) != 0 || cur.kind != MANIFEST_CHANNEL) {
			if (err->code == 0)
				herr_set(err, HOIST_EXIT_INTEGRITY, "not a channel manifest");
			herr_prefix(
			    err,
			    "the channel %s as it is now (remove the object to start the channel again at "
			    "seq "
			    "1; hosts that followed it then need their STATE/channels record removed)",
			    o->channel);
			goto out_aws;
		}
		if (etag[0] == '\0') {
			herr_set(err, HOIST_EXIT_DENIED,
			         "%s: S3 sent no ETag, so the write cannot be conditional", o->channel);
			goto out_aws;
		}
		if (cur.seq == UINT64_MAX) {
			herr_set(err, HOIST_EXIT_INTEGRITY, "%s: seq cannot grow past %" PRIu64, o->channel,
			         cur.seq);
			goto out_aws;
		}
		m.seq = cur.seq + 1;
		po.if_match = etag;
	} else {
		m.seq = 1;
		po.if_none_match = 1;
	}
	m.kind = MANIFEST_CHANNEL;
	memcpy(m.app, src.app, sizeof(m.app));
	memcpy(m.version, src.version, sizeof(m.version));
	memcpy(m.bundle, src.bundle, sizeof(m.bundle));
	memcpy(m.sha256, src.sha256, 32);
	m.size = src.size;
	m.created = src.created;
	memcpy(m.channel, cu.env, sizeof(m.channel));
	if (expires_s > 0) {
		m.has_expires = 1;
		m.expires = time(NULL) + (time_t)expires_s;
	}
	if (render(&m, have_sk ? &sk : NULL, pubname, &out, err) != 0)
		goto out_aws;
	if (s3_put_buffer(&a.s3, cu.bucket, cu.key, out.data, out.len, &po, &pr, err) != 0) {
		if (pr.status == 412 || pr.status == 409)
			herr_set(err, HOIST_EXIT_BUSY,
			         "%s changed while this promotion ran (another promotion won; seq %" PRIu64
			         " was taken): nothing written; run promote again",
			         o->channel, m.seq);
		goto out_aws;
	}
	printf("promoted %s %s to %s: seq %" PRIu64 "%s%s%s\n", m.app, m.version, o->channel, m.seq,
	       r == 0 ? " (was " : "", r == 0 ? cur.version : "", r == 0 ? ")" : "");
	herr_clear(err);
out_aws:
	if (opened)
		relaws_close(&a);
out:
	signify_seckey_wipe(&sk);
	buf_free(&sbuf);
	buf_free(&cbuf);
	buf_free(&out);
	return err->code;
}

/* ---- channel show ---- */

static void json_str(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/* Checks a signed text as a host would: signed by one of dir's keys. */
static int verify_with(const char *dir, const struct buf *b, char *name, size_t namesz, struct herr *err)
{
	struct trust t;
	const char *msg;
	size_t mlen, ki = 0;
	int tr;
	memset(&t, 0, sizeof(t));
	if (trust_load_dir(&t, dir, err) != 0)
		return -1;
	tr = trust_check(&t, b->data, b->len, &msg, &mlen, &ki, err);
	if (tr == TRUST_UNSIGNED)
		return herr_set(err, HOIST_EXIT_UNTRUSTED, "it is not signed");
	if (tr != TRUST_VERIFIED)
		return -1;
	(void)snprintf(name, namesz, "%s", t.names[ki]);
	return 0;
}

int relcmd_channel_show(const char *url, const struct relcmd_opts *o, struct herr *err)
{
	struct relaws a;
	struct relaws_opts ao = {o->endpoint, o->region};
	struct relurl_channel cu;
	struct manifest m;
	struct buf b;
	struct signify_sig sig;
	char etag[128], hex[65], created[32], expires[32], keyhex[17] = "", verified[TRUST_NAME_MAX] = "";
	const char *msg;
	size_t mlen;
	int opened = 0, r, signed_;

	buf_init(&b, SIGNED_MAX);
	if (relurl_channel(url, &cu, err) != 0)
		goto out;
	opened = 1; /* relaws_close also undoes a partial relaws_open */
	if (relaws_open(&a, &ao, err) != 0)
		goto out_aws;
	r = get_small(&a, cu.bucket, cu.key, &b, etag, sizeof(etag), err);
	if (r == 1)
		herr_set(err, HOIST_EXIT_NOT_FOUND, "%s: no such channel (nothing promoted to it yet)", url);
	if (r != 0)
		goto out_aws;
	signed_ = signify_split_embedded(b.data, b.len, &sig, &msg, &mlen, err);
	if (signed_ >= 0 && o->trusted_keys_dir != NULL &&
	    verify_with(o->trusted_keys_dir, &b, verified, sizeof(verified), err) != 0) {
		herr_prefix(err, "%s", url);
		goto out_aws;
	}
	if (signed_ < 0 || manifest_parse(msg, mlen, &m, err) != 0) {
		herr_prefix(err, "%s", url);
		goto out_aws;
	}
	if (signed_)
		signify_keynum_hex(sig.keynum, keyhex);
	hex_encode(m.sha256, 32, hex);
	manifest_time(m.created, created);
	if (m.has_expires)
		manifest_time(m.expires, expires);
	if (o->json) {
		printf("{\"url\":");
		json_str(url);
		printf(",\"kind\":\"%s\",\"app\":", m.kind == MANIFEST_CHANNEL ? "channel" : "release");
		json_str(m.app);
		printf(",\"channel\":");
		json_str(m.channel);
		printf(",\"version\":");
		json_str(m.version);
		if (m.kind == MANIFEST_CHANNEL)
			printf(",\"seq\":%" PRIu64, m.seq);
		else
			printf(",\"seq\":null");
		printf(",\"bundle\":");
		json_str(m.bundle);
		printf(",\"sha256\":\"%s\",\"size\":%" PRIu64 ",\"created\":\"%s\",\"expires\":", hex, m.size,
		       created);
		if (m.has_expires)
			printf("\"%s\"", expires);
		else
			printf("null");
		printf(",\"signed_by\":");
		if (signed_)
			printf("\"%s\"", keyhex);
		else
			printf("null");
		printf(",\"verified_by\":");
		if (verified[0] != '\0')
			json_str(verified);
		else
			printf("null");
		printf(",\"etag\":");
		json_str(etag);
		printf("}\n");
	} else {
		printf("channel  %s\napp      %s\nversion  %s\nseq      %" PRIu64
		       "\nbundle   %s\nsha256   %s\n"
		       "size     %" PRIu64 "\ncreated  %s\nexpires  %s\nsigned   %s%s\n",
		       url, m.app, m.version, m.seq, m.bundle, hex, m.size, created,
		       m.has_expires ? expires : "never", signed_ ? "by key " : "no", keyhex);
		if (verified[0] != '\0')
			printf("verified with trusted key %s\n", verified);
	}
	herr_clear(err);
out_aws:
	if (opened)
		relaws_close(&a);
out:
	buf_free(&b);
	return err->code;
}
