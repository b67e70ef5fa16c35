/* record.c - key=value state records. */
#include "record.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "exitcodes.h"
#include "fsutil.h"
#include "strutil.h"

void record_init(struct record *r)
{
	memset(r, 0, sizeof(*r));
}

static int key_ok(const char *k, size_t len)
{
	if (len == 0 || len > 64)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!((k[i] >= 'a' && k[i] <= 'z') || (k[i] >= '0' && k[i] <= '9') || k[i] == '_'))
			return 0;
	return 1;
}

static int value_ok(const char *v)
{
	return strchr(v, '\n') == NULL && strchr(v, '\r') == NULL;
}

int record_set(struct record *r, const char *key, const char *value)
{
	char *k = NULL, *v = NULL;
	if (!key_ok(key, strlen(key)) || !value_ok(value))
		return -1;
	for (size_t i = 0; i < r->n; i++) {
		if (strcmp(r->keys[i], key) == 0) {
			v = strdup(value);
			if (v == NULL)
				return -1;
			free(r->values[i]);
			r->values[i] = v;
			return 0;
		}
	}
	if (r->n >= RECORD_MAX_ITEMS)
		return -1;
	k = strdup(key);
	v = strdup(value);
	if (k == NULL || v == NULL) {
		free(k);
		free(v);
		return -1;
	}
	r->keys[r->n] = k;
	r->values[r->n] = v;
	r->n++;
	return 0;
}

const char *record_get(const struct record *r, const char *key)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->keys[i], key) == 0)
			return r->values[i];
	return NULL;
}

int record_parse(const char *text, size_t len, struct record *r, struct herr *err)
{
	size_t pos = 0;
	unsigned line = 0;
	const char *nul = memchr(text, '\0', len);
	if (nul != NULL) {
		unsigned at = 1;
		for (const char *q = text; q < nul; q++)
			at += *q == '\n';
		return herr_set(err, HOIST_EXIT_IO, "line %u: contains a NUL byte", at);
	}
	while (pos < len) {
		const char *start = text + pos;
		const char *nl = memchr(start, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - start) : len - pos;
		char tmp[RECORD_MAX_BYTES];
		char *eq;
		line++;
		pos += l + (nl ? 1 : 0);
		if (nl == NULL)
			return herr_set(err, HOIST_EXIT_IO, "line %u: torn record (no final newline)", line);
		if (l == 0)
			continue;
		if (l >= sizeof(tmp))
			return herr_set(err, HOIST_EXIT_IO, "line %u: too long", line);
		memcpy(tmp, start, l);
		tmp[l] = '\0';
		eq = strchr(tmp, '=');
		if (eq == NULL)
			return herr_set(err, HOIST_EXIT_IO, "line %u: expected key=value", line);
		*eq = '\0';
		if (record_set(r, tmp, eq + 1) != 0)
			return herr_set(err, HOIST_EXIT_IO, "line %u: bad key '%.64s' or too many keys", line,
			                str_printable(tmp) ? tmp : "(not printable)");
	}
	return 0;
}

int record_read(const char *path, struct record *r, struct herr *err)
{
	struct buf b;
	int rc;
	buf_init(&b, RECORD_MAX_BYTES);
	if (fs_exists(path) == 0) {
		buf_free(&b);
		return 1;
	}
	rc = fs_read_file(path, RECORD_MAX_BYTES, FS_NOFOLLOW, &b, err);
	if (rc == 0 && record_parse(b.data ? b.data : "", b.len, r, err) != 0) {
		herr_prefix(err, "%s", path);
		rc = -1;
	}
	buf_free(&b);
	return rc;
}

int record_write(const char *path, const struct record *r, struct herr *err)
{
	struct buf b;
	int rc = -1;
	buf_init(&b, RECORD_MAX_BYTES);
	for (size_t i = 0; i < r->n; i++) {
		if (buf_printf(&b, "%s=%s\n", r->keys[i], r->values[i]) != 0) {
			herr_set(err, HOIST_EXIT_INTERNAL, "record for %s too large", path);
			goto out;
		}
	}
	rc = fs_write_atomic(path, b.data ? b.data : "", b.len, 0644, err);
out:
	buf_free(&b);
	return rc;
}

void record_free(struct record *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->keys[i]);
		free(r->values[i]);
	}
	r->n = 0;
}
