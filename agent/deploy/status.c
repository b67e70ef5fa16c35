/* status.c - deployment status as JSON and text. */
#include "status.h"

#include <ctype.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "exitcodes.h"
#include "fsutil.h"
#include "healthreport.h"

void status_copy(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strlen(src) : 0;
	if (cap == 0)
		return;
	if (n >= cap)
		n = cap - 1;
	if (n > 0)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Length of the valid UTF-8 sequence at p (1-4), 0 if it is not one
 * (overlong forms, surrogates and code points past U+10FFFF are not). */
static size_t utf8_len(const unsigned char *p)
{
	unsigned c = p[0];
	size_t n;
	unsigned cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0; /* also stops at the NUL */
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

int json_string(struct buf *out, const char *s)
{
	int bad = buf_append(out, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p && !bad; p++) {
		if (*p >= 0x80) {
			/* valid UTF-8 as it is; any other byte as the code point of its value,
			 * so the document stays valid JSON whatever a name or a hook printed */
			size_t n = utf8_len(p);
			if (n == 0) {
				bad = buf_printf(out, "\\u%04x", *p);
			} else {
				bad = buf_append(out, p, n);
				p += n - 1;
			}
			continue;
		}
		switch (*p) {
		case '"':
			bad = buf_append(out, "\\\"", 2);
			break;
		case '\\':
			bad = buf_append(out, "\\\\", 2);
			break;
		case '\n':
			bad = buf_append(out, "\\n", 2);
			break;
		case '\r':
			bad = buf_append(out, "\\r", 2);
			break;
		case '\t':
			bad = buf_append(out, "\\t", 2);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				bad = buf_printf(out, "\\u%04x", *p);
			else
				bad = buf_append(out, p, 1);
		}
	}
	if (!bad)
		bad = buf_append(out, "\"", 1);
	return bad ? -1 : 0;
}

/* Appends ISO-8601 UTC of t. */
static int iso_time(struct buf *out, long long t)
{
	char tb[32];
	struct tm tm;
	time_t tt = (time_t)t;
	if (gmtime_r(&tt, &tm) == NULL || strftime(tb, sizeof(tb), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return buf_append_str(out, "?");
	return buf_append_str(out, tb);
}

/* "key": "value", with escaping. */
static int kv(struct buf *o, const char *key, const char *value, int comma)
{
	int bad = buf_printf(o, "%s\"%s\": ", comma ? ", " : "", key);
	if (!bad) {
		if (value == NULL || value[0] == '\0')
			bad = buf_append_str(o, "null");
		else
			bad = json_string(o, value);
	}
	return bad;
}

/* Appends one status object (the rollback is nested once). */
static int json_obj(const struct deploy_status *s, struct buf *o, int depth)
{
	int bad = buf_append_str(o, "{");
	struct buf t;
	buf_init(&t, 64);
	bad |= kv(o, "deployment_id", s->id, 0);
	bad |= kv(o, "kind", s->kind, 1);
	bad |= kv(o, "version", s->version, 1);
	bad |= kv(o, "environment", s->environment, 1);
	bad |= kv(o, "application", s->application, 1);
	bad |= kv(o, "deployment_group", s->group, 1);
	bad |= kv(o, "result", s->result, 1);
	bad |= buf_printf(o, ", \"exit_code\": %d, \"started\": ", s->exit_code);
	bad |= buf_append_str(o, "\"") | iso_time(o, s->started) | buf_append_str(o, "\"");
	bad |= buf_printf(o, ", \"duration_s\": %.3f, \"steps\": [", s->duration_s);
	for (size_t i = 0; i < s->n_steps; i++) {
		const struct status_step *st = &s->steps[i];
		bad |= buf_append_str(o, i ? ", {" : "{");
		bad |= kv(o, "event", st->event, 0);
		bad |= kv(o, "revision", st->revision, 1);
		bad |= buf_append_str(o, ", \"started\": \"") | iso_time(o, st->started) |
		       buf_append_str(o, "\"");
		bad |= buf_printf(o, ", \"duration_s\": %.3f", st->duration_s);
		bad |= kv(o, "result", st->result, 1);
		bad |= kv(o, "detail", st->detail, 1);
		bad |= buf_append_str(o, "}");
	}
	bad |= buf_append_str(o, "]");
	bad |= kv(o, "error", s->error, 1);
	bad |= kv(o, "failed_event", s->failed_event, 1);
	bad |= kv(o, "failed_script", s->failed_script, 1);
	bad |= kv(o, "failed_outcome", s->failed_outcome, 1);
	bad |= kv(o, "output_tail", s->tail, 1);
	bad |= buf_append_str(o, ", \"health\": ") | health_report_json(&s->health, o);
	if (depth == 0) {
		bad |= buf_append_str(o, ", \"rollback\": ");
		if (s->rollback != NULL)
			bad |= json_obj(s->rollback, o, 1);
		else
			bad |= buf_append_str(o, "null");
		bad |= kv(o, "current", s->current, 1);
		bad |= kv(o, "last_good", s->last_good, 1);
	}
	bad |= buf_append_str(o, "}");
	buf_free(&t);
	return bad ? -1 : 0;
}

int status_json(const struct deploy_status *s, struct buf *out)
{
	if (json_obj(s, out, 0) != 0 || buf_append_str(out, "\n") != 0)
		return -1;
	return 0;
}

/* Text form of one deployment; indent for the nested rollback. */
static int text_obj(const struct deploy_status *s, struct buf *o, const char *ind)
{
	int bad = 0;
	bad |= buf_printf(o, "%sdeployment %s (%s) version %s: %s (exit %d)\n", ind, s->id, s->kind,
	                  s->version, s->result, s->exit_code);
	bad |= buf_printf(o, "%s  application %s, group %s, environment %s\n", ind,
	                  s->application[0] ? s->application : "-", s->group[0] ? s->group : "-",
	                  s->environment[0] ? s->environment : "-");
	bad |= buf_printf(o, "%s  started ", ind) | iso_time(o, s->started);
	bad |= buf_printf(o, ", took %.3f s\n", s->duration_s);
	for (size_t i = 0; i < s->n_steps; i++) {
		const struct status_step *st = &s->steps[i];
		bad |= buf_printf(o, "%s  %-18s %-8s %8.3f s  (%s)%s%s\n", ind, st->event, st->result,
		                  st->duration_s, st->revision, st->detail[0] ? "  " : "", st->detail);
	}
	bad |= health_report_text(&s->health, ind, o);
	if (s->error[0])
		bad |= buf_printf(o, "%s  error: %s\n", ind, s->error);
	if (s->tail[0]) {
		bad |= buf_printf(o, "%s  output of %s %s (last lines):\n", ind, s->failed_event,
		                  s->failed_script);
		for (const char *p = s->tail; *p && !bad;) {
			size_t n = strcspn(p, "\n");
			bad |= buf_printf(o, "%s    | %.*s\n", ind, (int)n, p);
			p += n + (p[n] == '\n');
		}
	}
	return bad ? -1 : 0;
}

void status_print_text(const char *text, size_t len, FILE *out)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
}

/* A strict JSON checker (RFC 8259) over a bounded depth; p advances. */
struct jcur {
	const unsigned char *p, *end;
	int depth;
};

static void jws(struct jcur *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

static int jlit(struct jcur *c, const char *lit)
{
	size_t n = strlen(lit);
	if ((size_t)(c->end - c->p) < n || memcmp(c->p, lit, n) != 0)
		return -1;
	c->p += n;
	return 0;
}

static int jstring(struct jcur *c)
{
	if (c->p >= c->end || *c->p != '"')
		return -1;
	for (c->p++; c->p < c->end; c->p++) {
		unsigned char ch = *c->p;
		if (ch == '"') {
			c->p++;
			return 0;
		}
		if (ch < 0x20)
			return -1;
		if (ch == '\\') {
			if (++c->p >= c->end)
				return -1;
			if (*c->p == 'u') {
				for (int i = 0; i < 4; i++)
					if (++c->p >= c->end || !isxdigit(*c->p))
						return -1;
			} else if (strchr("\"\\/bfnrt", *c->p) == NULL || *c->p == '\0') {
				return -1;
			}
		} else if (ch >= 0x80) {
			/* utf8_len stops at a NUL; a sequence must also end before end */
			size_t n = 0;
			unsigned char b[4] = {0};
			for (size_t i = 0; i < 4 && c->p + i < c->end; i++)
				b[i] = c->p[i];
			n = utf8_len(b);
			if (n == 0)
				return -1;
			c->p += n - 1;
		}
	}
	return -1;
}

static int jnumber(struct jcur *c)
{
	const unsigned char *s = c->p;
	if (c->p < c->end && *c->p == '-')
		c->p++;
	if (c->p < c->end && *c->p == '0')
		c->p++;
	else if (c->p < c->end && *c->p >= '1' && *c->p <= '9')
		while (c->p < c->end && isdigit(*c->p))
			c->p++;
	else
		return -1;
	if (c->p < c->end && *c->p == '.') {
		c->p++;
		if (c->p >= c->end || !isdigit(*c->p))
			return -1;
		while (c->p < c->end && isdigit(*c->p))
			c->p++;
	}
	if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
		c->p++;
		if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
			c->p++;
		if (c->p >= c->end || !isdigit(*c->p))
			return -1;
		while (c->p < c->end && isdigit(*c->p))
			c->p++;
	}
	return c->p > s ? 0 : -1;
}

static int jvalue(struct jcur *c)
{
	jws(c);
	if (c->p >= c->end)
		return -1;
	switch (*c->p) {
	case '"':
		return jstring(c);
	case 't':
		return jlit(c, "true");
	case 'f':
		return jlit(c, "false");
	case 'n':
		return jlit(c, "null");
	case '{':
	case '[': {
		char close = *c->p == '{' ? '}' : ']';
		bool obj = close == '}';
		if (++c->depth > 32)
			return -1;
		c->p++;
		jws(c);
		if (c->p < c->end && *c->p == close) {
			c->p++;
			c->depth--;
			return 0;
		}
		for (;;) {
			if (obj) {
				jws(c);
				if (jstring(c) != 0)
					return -1;
				jws(c);
				if (c->p >= c->end || *c->p++ != ':')
					return -1;
			}
			if (jvalue(c) != 0)
				return -1;
			jws(c);
			if (c->p >= c->end)
				return -1;
			if (*c->p == ',') {
				c->p++;
				continue;
			}
			if (*c->p++ != close)
				return -1;
			c->depth--;
			return 0;
		}
	}
	default:
		return jnumber(c);
	}
}

int status_json_valid(const char *text, size_t len, size_t *bad_at)
{
	struct jcur c = {(const unsigned char *)text, (const unsigned char *)text + len, 0};
	int rc = jvalue(&c);
	if (rc == 0) {
		jws(&c);
		if (c.p != c.end)
			rc = -1;
	}
	if (rc != 0 && bad_at != NULL)
		*bad_at = (size_t)(c.p - (const unsigned char *)text);
	return rc;
}

int status_text(const struct deploy_status *s, struct buf *out)
{
	int bad = text_obj(s, out, "");
	if (s->rollback != NULL) {
		bad |= buf_append_str(out, "rollback:\n");
		bad |= text_obj(s->rollback, out, "  ");
	}
	bad |= buf_printf(out, "current: %s, last-good: %s\n", s->current[0] ? s->current : "none",
	                  s->last_good[0] ? s->last_good : "none");
	return bad ? -1 : 0;
}

int status_save(const struct deploy_status *s, const char *dir, struct herr *err)
{
	char path[PATH_MAX];
	struct buf b;
	int rc = -1;

	buf_init(&b, 1u << 20);
	if (status_json(s, &b) != 0) {
		herr_set(err, HOIST_EXIT_INTERNAL, "status too large");
		goto out;
	}
	if (fs_path_join(path, sizeof(path), dir, "status.json") != 0) {
		herr_set(err, HOIST_EXIT_IO, "path too long: %s", dir);
		goto out;
	}
	if (fs_write_replace(path, b.data, b.len, 0644, err) != 0)
		goto out;
	buf_reset(&b);
	if (status_text(s, &b) != 0) {
		herr_set(err, HOIST_EXIT_INTERNAL, "status too large");
		goto out;
	}
	if (fs_path_join(path, sizeof(path), dir, "status.txt") != 0) {
		herr_set(err, HOIST_EXIT_IO, "path too long: %s", dir);
		goto out;
	}
	if (fs_write_replace(path, b.data, b.len, 0644, err) != 0)
		goto out;
	rc = 0;
out:
	buf_free(&b);
	return rc;
}
