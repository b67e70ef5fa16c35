/* rolecreds.c - the credentials to sign with: fixed keys or the instance role (see rolecreds.h). */
#include "rolecreds.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "exitcodes.h"
#include "log.h"
#include "rolecache.h"

#define MARGIN_S 120 /* IMDS rotates credentials >= 5 min before Expiration */
#define DOC_MAX 8192

int rolecreds_get(void *ud, const struct credentials **out, struct herr *err)
{
	struct rolecreds *s = ud;
	struct buf b;
	char path[ROLECREDS_NAME_MAX + 64];
	int r, rc = -1, cached = 0;
	if (s->have && (s->from_env || !creds_expiring(&s->cur, time(NULL), MARGIN_S))) {
		*out = &s->cur;
		return 0;
	}
	buf_init(&b, DOC_MAX);
	/* The first credentials are metadata work of this boot and share the
	 * deadline of the user data and region; a refresh late in a long
	 * download gets one deadline of its own. */
	if (s->have)
		imds_rearm(s->imds);
	if (s->role[0] == '\0' && rolecache_read(s->role_cache, s->role, sizeof(s->role)) == 1)
		cached = 1;
again:
	if (s->role[0] == '\0') {
		size_t n;
		r = imds_get(s->imds, "/latest/meta-data/iam/security-credentials/", ROLECREDS_NAME_MAX - 1, &b, err);
		if (r == 1)
			herr_set(err, HOIST_EXIT_NO_CREDENTIALS,
			         "no instance role attached (iam/security-credentials/ is 404): attach an "
			         "instance profile allowing s3:GetObject on the bundle");
		if (r != 0)
			goto out;
		n = b.len > 0 ? strcspn(b.data, "\r\n") : 0;
		if (n == 0 || n >= sizeof(s->role) ||
		    strspn(b.data, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+=,.@_-") <
		        n) {
			herr_set(err, HOIST_EXIT_NO_CREDENTIALS, "imds: malformed instance role name");
			goto out;
		}
		memcpy(s->role, b.data, n);
		s->role[n] = '\0';
		buf_reset(&b);
		rolecache_write(s->role_cache, s->role);
		log_info("credentials of instance role %s", s->role);
	}
	(void)snprintf(path, sizeof(path), "/latest/meta-data/iam/security-credentials/%s", s->role);
	r = imds_get(s->imds, path, DOC_MAX, &b, err);
	if (r == 1 && cached) {
		/* the instance profile changed since the name was cached */
		rolecache_forget(s->role_cache);
		s->role[0] = '\0';
		cached = 0;
		buf_reset(&b);
		goto again;
	}
	if (r == 1)
		herr_set(err, HOIST_EXIT_NO_CREDENTIALS, "imds: no credentials for role %s (404)", s->role);
	if (r != 0)
		goto out;
	if (s->have)
		creds_free(&s->cur);
	s->have = 0;
	if (creds_parse_json(b.data, b.len, &s->cur, err) != 0) {
		herr_prefix(err, "imds: credentials of role %s", s->role);
		goto out;
	}
	s->have = 1;
	if (s->cur.expiration != 0 && s->cur.expiration <= time(NULL)) {
		herr_set(err, HOIST_EXIT_NO_CREDENTIALS,
		         "imds: the credentials of role %s have already expired", s->role);
		goto out;
	}
	log_debug("credentials of role %s loaded", s->role);
	*out = &s->cur;
	rc = 0;
out:
	if (b.data != NULL)
		memset(b.data, 0, b.len); /* the document holds the secret */
	buf_free(&b);
	return rc;
}


void rolecreds_free(struct rolecreds *r)
{
	if (r->have && !r->from_env)
		creds_free(&r->cur);
	r->have = 0;
}
