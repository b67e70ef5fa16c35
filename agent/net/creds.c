/* creds.c - the IMDS role credential document, read with libyaml's event API.
 *
 * JSON is YAML, so libyaml is the parser; on top of it this module insists
 * on the JSON shape (one flow mapping of double-quoted keys), refuses
 * duplicate keys, aliases and nested values where strings are needed, and
 * never copies a value into an error message. */
#include "creds.h"

#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "exitcodes.h"

#define CREDS_MAX_INPUT (16 * 1024)
#define CREDS_MAX_KEYS 64

static const char WHAT[] = "instance role credentials";

/* F_MESSAGE is optional: IMDS sends it with a Code other than Success. */
enum field { F_CODE, F_AKID, F_SECRET, F_TOKEN, F_EXPIRATION, F_MESSAGE, F_COUNT };
#define F_REQUIRED F_MESSAGE
/* names in place, not pointers (no relocation each in the stub) */
static const char FIELD_NAMES[F_COUNT][sizeof("SecretAccessKey")] = {
    "Code", "AccessKeyId", "SecretAccessKey", "Token", "Expiration", "Message"};
#define CREDS_MESSAGE_MAX 300

/* Copies s into out with every byte outside printable ASCII shown as \xHH,
 * cut at CREDS_MESSAGE_MAX bytes: Code and Message come from the network. */
static void printable(const char *s, char *out, size_t outsz)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	for (size_t i = 0; s[i] != '\0' && i < CREDS_MESSAGE_MAX && o + 5 < outsz; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch >= 0x20 && ch < 0x7f && ch != '\\') {
			out[o++] = (char)ch;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		}
	}
	out[o] = '\0';
}

/* Frees a string after overwriting it, for anything that may hold a secret. */
static void wipe_free(char **p)
{
	if (*p != NULL) {
		OPENSSL_cleanse(*p, strlen(*p));
		free(*p);
		*p = NULL;
	}
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* Reads exactly n digits at s into *v; 0 or -1. */
static int digits(const char *s, size_t n, unsigned *v)
{
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (unsigned)(s[i] - '0');
	}
	return 0;
}

/* Parses "YYYY-MM-DDTHH:MM:SSZ" (also with fractional seconds) into a UTC time_t. */
int creds_parse_time(const char *s, time_t *out)
{
	static const unsigned mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	unsigned y, mo, d, h, mi, se;
	const char *p;
	bool leap;

	if (s == NULL || strlen(s) < 20 || strlen(s) > 40)
		return -1;
	if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' || digits(s + 8, 2, &d) ||
	    (s[10] != 'T' && s[10] != 't') || digits(s + 11, 2, &h) || s[13] != ':' ||
	    digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &se))
		return -1;
	p = s + 19;
	if (*p == '.') {
		/* fractional seconds: at least one digit, then ignored */
		if (p[1] < '0' || p[1] > '9')
			return -1;
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	}
	if ((*p != 'Z' && *p != 'z') || p[1] != '\0')
		return -1;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap) ||
	    h > 23 || mi > 59 || se > 60)
		return -1;
	int64_t t = days_from_civil(y, mo, d) * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 + se;
	if (sizeof(time_t) < 8 && t > INT32_MAX)
		return -1;
	*out = (time_t)t;
	return 0;
}

/* 1 when the credentials expire within margin_s of now. */
int creds_expiring(const struct credentials *c, time_t now, unsigned margin_s)
{
	if (c == NULL || c->expiration == 0)
		return 0;
	return (int64_t)c->expiration - (int64_t)now <= (int64_t)margin_s;
}

/* Wipes and frees the strings; the struct may be reused. */
void creds_free(struct credentials *c)
{
	if (c == NULL)
		return;
	wipe_free(&c->access_key_id);
	wipe_free(&c->secret_access_key);
	wipe_free(&c->session_token);
	c->expiration = 0;
}

/* Skips the rest of a nested collection whose start event was just read. */
static int skip_nested(yaml_parser_t *p, struct herr *err)
{
	yaml_event_t ev;
	int depth = 1;
	while (depth > 0) {
		if (!yaml_parser_parse(p, &ev))
			return herr_set(err, HOIST_EXIT_NO_CREDENTIALS, "%s: not valid JSON", WHAT);
		if (ev.type == YAML_MAPPING_START_EVENT || ev.type == YAML_SEQUENCE_START_EVENT)
			depth++;
		else if (ev.type == YAML_MAPPING_END_EVENT || ev.type == YAML_SEQUENCE_END_EVENT)
			depth--;
		else if (ev.type == YAML_ALIAS_EVENT || ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			return herr_set(err, HOIST_EXIT_NO_CREDENTIALS, "%s: not a JSON document", WHAT);
		}
		yaml_event_delete(&ev);
	}
	return 0;
}

/* The next event into *ev; a libyaml error as "not valid JSON (line L column C: why)". */
static int next_event(yaml_parser_t *p, yaml_event_t *ev, struct herr *err)
{
	if (yaml_parser_parse(p, ev))
		return 0;
	return herr_set(err, HOIST_EXIT_NO_CREDENTIALS, "%s: not valid JSON (line %zu column %zu: %s)", WHAT,
	                p->problem_mark.line + 1, p->problem_mark.column + 1,
	                p->problem ? p->problem : "parse error");
}

/* Reads the next event, expecting type; names `what` in the error. */
static int expect(yaml_parser_t *p, yaml_event_type_t type, const char *what, struct herr *err)
{
	yaml_event_t ev;
	if (next_event(p, &ev, err) != 0)
		return -1;
	yaml_event_type_t got = ev.type;
	yaml_event_delete(&ev);
	if (got != type)
		return herr_set(err, HOIST_EXIT_NO_CREDENTIALS, "%s: %s", WHAT, what);
	return 0;
}

/* Index of a known field name, or -1. */
static int field_index(const char *name)
{
	for (int i = 0; i < F_COUNT; i++)
		if (strcmp(name, FIELD_NAMES[i]) == 0)
			return i;
	return -1;
}

/* The key/value pairs of the top-level mapping into vals[] (owned, wiped on free). */
static int read_pairs(yaml_parser_t *p, char *vals[F_COUNT], struct herr *err)
{
	char *keys[CREDS_MAX_KEYS] = {NULL};
	size_t nkeys = 0, i;
	yaml_event_t ev;
	bool have_ev = false;
	int rc = -1;

	for (;;) {
		if (next_event(p, &ev, err) != 0)
			goto out;
		have_ev = true;
		if (ev.type == YAML_MAPPING_END_EVENT)
			break;
		if (ev.type != YAML_SCALAR_EVENT || ev.data.scalar.style != YAML_DOUBLE_QUOTED_SCALAR_STYLE) {
			herr_set(err, HOIST_EXIT_NO_CREDENTIALS, "%s: a key is not a JSON string", WHAT);
			goto out;
		}
		const char *key = (const char *)ev.data.scalar.value;
		if (ev.data.scalar.length != strlen(key) || ev.data.scalar.length > 64) {
			herr_set(err, HOIST_EXIT_NO_CREDENTIALS, "%s: a key is not a field name", WHAT);
			goto out;
		}
		for (i = 0; i < nkeys; i++) {
			if (strcmp(keys[i], key) == 0) {
				/* key names are not secret; values are never shown */
				herr_set(err, HOIST_EXIT_NO_CREDENTIALS, "%s: duplicate key \"%s\"", WHAT,
				         key);
				goto out;
			}
		}
		if (nkeys == CREDS_MAX_KEYS) {
			herr_set(err, HOIST_EXIT_NO_CREDENTIALS, "%s: more than %d keys", WHAT,
			         CREDS_MAX_KEYS);
			goto out;
		}
		if ((keys[nkeys] = strdup(key)) == NULL) {
			herr_set(err, HOIST_EXIT_INTERNAL, "%s: out of memory", WHAT);
			goto out;
		}
		nkeys++;
		int idx = field_index(key);
		yaml_event_delete(&ev);
		have_ev = false;

		if (next_event(p, &ev, err) != 0)
			goto out;
		have_ev = true;
		if (ev.type == YAML_ALIAS_EVENT) {
			herr_set(err, HOIST_EXIT_NO_CREDENTIALS, "%s: not a JSON document", WHAT);
			goto out;
		}
		if (idx < 0) {
			/* an unknown field (LastUpdated, Type, ...): any JSON value is fine */
			if ((ev.type == YAML_MAPPING_START_EVENT || ev.type == YAML_SEQUENCE_START_EVENT) &&
			    skip_nested(p, err) != 0)
				goto out;
			yaml_event_delete(&ev);
			have_ev = false;
			continue;
		}
		if (ev.type != YAML_SCALAR_EVENT || ev.data.scalar.style != YAML_DOUBLE_QUOTED_SCALAR_STYLE) {
			herr_set(err, HOIST_EXIT_NO_CREDENTIALS, "%s: %s is not a JSON string", WHAT,
			         FIELD_NAMES[idx]);
			goto out;
		}
		if (ev.data.scalar.length != strlen((const char *)ev.data.scalar.value) ||
		    ev.data.scalar.length == 0) {
			herr_set(err, HOIST_EXIT_NO_CREDENTIALS, "%s: %s is empty or holds a NUL byte", WHAT,
			         FIELD_NAMES[idx]);
			goto out;
		}
		if ((vals[idx] = strdup((const char *)ev.data.scalar.value)) == NULL) {
			herr_set(err, HOIST_EXIT_INTERNAL, "%s: out of memory", WHAT);
			goto out;
		}
		/* the event's copy of a secret is wiped before libyaml frees it */
		OPENSSL_cleanse(ev.data.scalar.value, ev.data.scalar.length);
		yaml_event_delete(&ev);
		have_ev = false;
	}
	rc = 0;
out:
	if (have_ev)
		yaml_event_delete(&ev);
	for (i = 0; i < nkeys; i++)
		free(keys[i]);
	return rc;
}

/* Parses the role document; see creds.h. */
int creds_parse_json(const char *json, size_t len, struct credentials *out, struct herr *err)
{
	yaml_parser_t parser;
	bool parser_ok = false;
	char *vals[F_COUNT] = {NULL};
	yaml_event_t ev;
	int i, rc = -1;

	memset(out, 0, sizeof(*out));
	if (len > CREDS_MAX_INPUT) {
		herr_set(err, HOIST_EXIT_NO_CREDENTIALS, "%s: document of %zu bytes exceeds %d", WHAT, len,
		         CREDS_MAX_INPUT);
		goto out;
	}
	if (json == NULL || len == 0 || memchr(json, '\0', len) != NULL) {
		herr_set(err, HOIST_EXIT_NO_CREDENTIALS, "%s: empty document or NUL byte", WHAT);
		goto out;
	}
	if (!yaml_parser_initialize(&parser)) {
		herr_set(err, HOIST_EXIT_INTERNAL, "%s: cannot initialise the parser", WHAT);
		goto out;
	}
	parser_ok = true;
	yaml_parser_set_input_string(&parser, (const unsigned char *)json, len);
	if (expect(&parser, YAML_STREAM_START_EVENT, "not a JSON document", err) != 0 ||
	    expect(&parser, YAML_DOCUMENT_START_EVENT, "not a JSON document", err) != 0)
		goto out;
	if (next_event(&parser, &ev, err) != 0)
		goto out;
	/* JSON's object is YAML's flow mapping; a block mapping is YAML, not JSON */
	bool is_obj =
	    ev.type == YAML_MAPPING_START_EVENT && ev.data.mapping_start.style == YAML_FLOW_MAPPING_STYLE;
	yaml_event_delete(&ev);
	if (!is_obj) {
		herr_set(err, HOIST_EXIT_NO_CREDENTIALS, "%s: top level is not a JSON object", WHAT);
		goto out;
	}
	if (read_pairs(&parser, vals, err) != 0)
		goto out;
	if (expect(&parser, YAML_DOCUMENT_END_EVENT, "trailing data after the JSON object", err) != 0 ||
	    expect(&parser, YAML_STREAM_END_EVENT, "trailing data after the JSON object", err) != 0)
		goto out;
	if (vals[F_CODE] != NULL && strcmp(vals[F_CODE], "Success") != 0) {
		/* IMDS says why there are no credentials (e.g. AssumeRoleUnauthorizedAccess:
		 * the role's trust policy does not let EC2 assume it). Code and Message are
		 * not secret; they are shown escaped and bounded. A failure document has
		 * no keys, so this comes before the missing-field check. */
		char code[4 * 64 + 1], msg[4 * CREDS_MESSAGE_MAX + 1];
		printable(vals[F_CODE], code, sizeof(code));
		printable(vals[F_MESSAGE] != NULL ? vals[F_MESSAGE] : "(no Message)", msg, sizeof(msg));
		herr_set(err, HOIST_EXIT_NO_CREDENTIALS, "%s: Code %s: %s", WHAT, code, msg);
		goto out;
	}
	for (i = 0; i < F_REQUIRED; i++) {
		if (vals[i] == NULL) {
			herr_set(err, HOIST_EXIT_NO_CREDENTIALS, "%s: missing field %s", WHAT,
			         FIELD_NAMES[i]);
			goto out;
		}
	}
	if (creds_parse_time(vals[F_EXPIRATION], &out->expiration) != 0) {
		herr_set(err, HOIST_EXIT_NO_CREDENTIALS,
		         "%s: Expiration is not a UTC time like 2026-11-22T18:00:00Z", WHAT);
		goto out;
	}
	out->access_key_id = vals[F_AKID];
	out->secret_access_key = vals[F_SECRET];
	out->session_token = vals[F_TOKEN];
	vals[F_AKID] = vals[F_SECRET] = vals[F_TOKEN] = NULL;
	rc = 0;
out:
	for (i = 0; i < F_COUNT; i++)
		wipe_free(&vals[i]);
	if (parser_ok)
		yaml_parser_delete(&parser);
	if (rc != 0)
		creds_free(out);
	return rc;
}
