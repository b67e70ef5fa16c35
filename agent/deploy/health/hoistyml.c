/* hoistyml.c - hoist.yml (health checks), parsed strictly with libyaml. */
#include "hoistyml.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "exitcodes.h"
#include "relpath.h"
#include "strutil.h"
#include "yamlguard.h"
#include "yamlnode.h"

#define MAX_DEPTH 16
#define SHOW 120
#define MAX_URL 2048
#define MAX_BODY 1024
#define MAX_HOST 253
#define MAX_ARG 4096
#define MAX_USER 255
#define DEFAULT_INTERVAL_MS 2000u
#define DEFAULT_TIMEOUT_MS 2000u
#define DEFAULT_RETRIES 3u
#define DEFAULT_SLACK_MS 300000u  /* deadline = min_healthy_time + 5 min when not given */
#define MAX_STEP_MS 3600000u      /* interval, timeout: at most 1 h */
#define MIN_STEP_MS 10u           /* interval, timeout: at least 10 ms */
#define MAX_DEADLINE_MS 86400000u /* deadline, min_healthy_time: at most 24 h */
#define MAX_RETRIES 100000u

/* A plain decimal integer within [lo, hi] (no sign, no YAML 1.1 octal/hex). */
static int uint_in(struct yamlnode_doc *c, yaml_node_t *n, const char *key, unsigned long lo,
                   unsigned long hi, unsigned long *out)
{
	const char *t = NULL;
	char esc[SHOW];
	unsigned long v = 0;
	if (yamlnode_scalar(c, n, key, &t) != 0)
		return -1;
	relpath_escape(t, esc, sizeof(esc));
	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || t[0] == '\0' ||
	    strspn(t, "0123456789") != strlen(t) || strlen(t) > 9 || (t[0] == '0' && t[1] != '\0'))
		return yamlnode_fail(c, n->start_mark, key, "expected a whole number, got '%s'", esc);
	for (const char *p = t; *p; p++)
		v = v * 10 + (unsigned long)(*p - '0');
	if (v < lo || v > hi)
		return yamlnode_fail(c, n->start_mark, key, "%lu is out of range (%lu to %lu)", v, lo, hi);
	*out = v;
	return 0;
}

int hoistyml_duration(const char *s, unsigned *ms)
{
	uint64_t whole = 0, frac = 0, scale = 1000, div = 1;
	const char *p = s;
	size_t digits = 0, fdigits = 0;
	if (s == NULL)
		return -1;
	for (; *p >= '0' && *p <= '9'; p++, digits++) {
		if (digits >= 9)
			return -1;
		whole = whole * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, fdigits++) {
			if (fdigits >= 3)
				return -1; /* below a millisecond */
			frac = frac * 10 + (uint64_t)(*p - '0');
			div *= 10;
		}
		if (fdigits == 0)
			return -1;
	}
	if (digits == 0)
		return -1;
	if (strcmp(p, "ms") == 0)
		scale = 1;
	else if (strcmp(p, "m") == 0)
		scale = 60000;
	else if (strcmp(p, "s") == 0 || *p == '\0')
		scale = 1000;
	else
		return -1;
	{
		uint64_t v = whole * scale + frac * scale / div;
		if (frac * scale % div != 0 || v > UINT32_MAX)
			return -1; /* "1.5ms": below a millisecond */
		*ms = (unsigned)v;
	}
	return 0;
}

static int duration(struct yamlnode_doc *c, yaml_node_t *n, const char *key, unsigned lo, unsigned hi,
                    unsigned *out)
{
	const char *t = NULL;
	char esc[SHOW];
	unsigned v;
	if (yamlnode_scalar(c, n, key, &t) != 0)
		return -1;
	relpath_escape(t, esc, sizeof(esc));
	if (hoistyml_duration(t, &v) != 0)
		return yamlnode_fail(c, n->start_mark, key,
		                     "expected a duration such as 2, 0.5, 500ms, 10s or 2m, got '%s'", esc);
	if (v < lo || v > hi)
		return yamlnode_fail(c, n->start_mark, key, "'%s' is out of range (%ums to %ums)", esc, lo,
		                     hi);
	*out = v;
	return 0;
}

const char *health_type_name(enum health_type t)
{
	switch (t) {
	case HEALTH_HTTP:
		return "http";
	case HEALTH_TCP:
		return "tcp";
	case HEALTH_COMMAND:
		return "command";
	}
	return "?";
}

/* Refuses aliases, tags, several documents and deep nesting before the document is built. */
static int prescan(struct yamlnode_doc *c, const char *t, size_t len)
{
	struct yaml_verdict v;
	if (yaml_guard(t, len, MAX_DEPTH, &v) == 0)
		return 0;
	if (v.out_of_memory)
		return herr_set(c->err, HOIST_EXIT_INTERNAL, "%s parsing hoist.yml", v.msg);
	return yamlnode_fail(c, v.mark, NULL, "%s", v.msg);
}

/* Refuses a repeated key or a merge key in any mapping (mappings here are small). */
static int check_keys(struct yamlnode_doc *c)
{
	for (yaml_node_t *n = c->doc->nodes.start; n < c->doc->nodes.top; n++) {
		if (n->type != YAML_MAPPING_NODE)
			continue;
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yamlnode_get(c, p->key);
			if (k == NULL || k->type != YAML_SCALAR_NODE)
				return yamlnode_fail(c, k ? k->start_mark : n->start_mark, NULL,
				                     "keys must be plain names");
			if (strcmp(yamlnode_text(k), "<<") == 0)
				return yamlnode_fail(c, k->start_mark, NULL,
				                     "YAML merge keys (<<) are not supported");
			for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++) {
				yaml_node_t *k2 = yamlnode_get(c, q->key);
				if (k2->data.scalar.length == k->data.scalar.length &&
				    memcmp(yamlnode_text(k2), yamlnode_text(k), k->data.scalar.length) == 0) {
					char esc[SHOW];
					relpath_escape(yamlnode_text(k), esc, sizeof(esc));
					return yamlnode_fail(c, k->start_mark, NULL,
					                     "duplicate key '%s' (first at line %zu)", esc,
					                     k2->start_mark.line + 1);
				}
			}
		}
	}
	return 0;
}

static int want(struct yamlnode_doc *c, yaml_node_t *v, yaml_node_type_t t, const char *key)
{
	if (v->type != t)
		return yamlnode_fail(c, v->start_mark, key, "expected %s, got %s",
		                     t == YAML_MAPPING_NODE ? "a mapping" : "a list", yamlnode_kind(v));
	return 0;
}

static int unknown_key(struct yamlnode_doc *c, yaml_node_t *k, const char *where, const char *allowed)
{
	char esc[SHOW];
	relpath_escape(yamlnode_text(k), esc, sizeof(esc));
	return yamlnode_fail(c, k->start_mark, where, "unknown key '%s' (allowed: %s)", esc, allowed);
}

static int check_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= HEALTH_NAME_MAX || s[0] == '-' || s[0] == '.')
		return 0;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

/* argv[0]: an absolute host path, or a path inside the revision's tree. */
static int parse_argv(struct yamlnode_doc *c, struct health_check *hc, yaml_node_t *v, const char *key)
{
	size_t n;
	if (want(c, v, YAML_SEQUENCE_NODE, key) != 0)
		return -1;
	n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	if (n == 0 || n > HEALTH_MAX_ARGS)
		return yamlnode_fail(c, v->start_mark, key, "needs 1 to %d arguments, got %zu",
		                     HEALTH_MAX_ARGS, n);
	hc->argv = calloc(n + 1, sizeof(char *));
	if (hc->argv == NULL)
		return yamlnode_oom(c);
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *a = yamlnode_get(c, v->data.sequence.items.start[i]);
		const char *t = NULL;
		if (a->type != YAML_SCALAR_NODE)
			return yamlnode_fail(c, a->start_mark, key, "argument %zu: expected a string, got %s",
			                     i + 1, yamlnode_kind(a));
		t = yamlnode_text(a);
		if (strlen(t) != a->data.scalar.length)
			return yamlnode_fail(c, a->start_mark, key, "argument %zu contains a NUL character",
			                     i + 1);
		if (strlen(t) > MAX_ARG)
			return yamlnode_fail(c, a->start_mark, key, "argument %zu is longer than %d bytes",
			                     i + 1, MAX_ARG);
		if (i == 0) {
			char esc[SHOW];
			relpath_escape(t, esc, sizeof(esc));
			if (t[0] == '\0' || !str_printable(t) || relpath_has_dotdot(t))
				return yamlnode_fail(
				    c, a->start_mark, key,
				    "the program '%s' must be an absolute path or a path inside the "
				    "bundle, without '..' (it is not looked up in PATH)",
				    esc);
		}
		if (yamlnode_strdup(c, t, &hc->argv[i]) != 0)
			return -1;
		hc->argc++;
	}
	return 0;
}

/* Which keys belong to which type ("" = all). */
static const struct {
	const char *key;
	enum health_type only; /* 0: every type */
} check_keys_tab[] = {
    {"name", 0},
    {"type", 0},
    {"interval", 0},
    {"timeout", 0},
    {"retries", 0},
    {"url", HEALTH_HTTP},
    {"expect_status", HEALTH_HTTP},
    {"expect_body", HEALTH_HTTP},
    {"host", HEALTH_TCP},
    {"port", HEALTH_TCP},
    {"argv", HEALTH_COMMAND},
    {"runas", HEALTH_COMMAND},
};
#define CHECK_KEYS_ALLOWED                                                                                   \
	"name, type, interval, timeout, retries; http: url, expect_status, expect_body; tcp: host, "         \
	"port; command: argv, runas"

static int parse_check(struct yamlnode_doc *c, yaml_node_t *item, size_t idx, struct health_check *hc)
{
	char where[96];
	yaml_node_t *type_node = NULL;
	const char *t = NULL;
	bool have_port = false;

	snprintf(where, sizeof(where), "health_checks.checks[%zu]", idx);
	if (want(c, item, YAML_MAPPING_NODE, where) != 0)
		return -1;
	hc->line = (unsigned)item->start_mark.line + 1;
	hc->interval_ms = DEFAULT_INTERVAL_MS;
	hc->timeout_ms = DEFAULT_TIMEOUT_MS;
	hc->retries = DEFAULT_RETRIES;
	hc->expect_status = 200;
	/* The type first: it decides which other keys are allowed. */
	for (yaml_node_pair_t *p = item->data.mapping.pairs.start; p < item->data.mapping.pairs.top; p++)
		if (strcmp(yamlnode_text(yamlnode_get(c, p->key)), "type") == 0)
			type_node = yamlnode_get(c, p->value);
	if (type_node == NULL)
		return yamlnode_fail(c, item->start_mark, where, "type is required (http, tcp or command)");
	if (yamlnode_scalar(c, type_node, "type", &t) != 0)
		return -1;
	if (strcmp(t, "http") == 0)
		hc->type = HEALTH_HTTP;
	else if (strcmp(t, "tcp") == 0)
		hc->type = HEALTH_TCP;
	else if (strcmp(t, "command") == 0)
		hc->type = HEALTH_COMMAND;
	else {
		char esc[SHOW];
		relpath_escape(t, esc, sizeof(esc));
		return yamlnode_fail(c, type_node->start_mark, "type",
		                     "'%s' is not a check type (http, tcp or command)", esc);
	}
	snprintf(where, sizeof(where), "health_checks.checks[%zu]", idx);
	for (yaml_node_pair_t *p = item->data.mapping.pairs.start; p < item->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yamlnode_get(c, p->key), *v = yamlnode_get(c, p->value);
		const char *key = yamlnode_text(k);
		char esc[SHOW];
		size_t ki;
		unsigned long num = 0;
		for (ki = 0; ki < sizeof(check_keys_tab) / sizeof(check_keys_tab[0]); ki++)
			if (strcmp(key, check_keys_tab[ki].key) == 0)
				break;
		if (ki == sizeof(check_keys_tab) / sizeof(check_keys_tab[0]))
			return unknown_key(c, k, where, CHECK_KEYS_ALLOWED);
		if (check_keys_tab[ki].only != 0 && check_keys_tab[ki].only != hc->type)
			return yamlnode_fail(c, k->start_mark, key, "is only for %s checks (this one is %s)",
			                     health_type_name(check_keys_tab[ki].only),
			                     health_type_name(hc->type));
		if (strcmp(key, "type") == 0)
			continue;
		if (strcmp(key, "name") == 0) {
			if (yamlnode_scalar(c, v, key, &t) != 0)
				return -1;
			relpath_escape(t, esc, sizeof(esc));
			if (!check_name_ok(t))
				return yamlnode_fail(c, v->start_mark, key,
				                     "'%s': use 1-%d characters of A-Z a-z 0-9 . _ -", esc,
				                     HEALTH_NAME_MAX - 1);
			snprintf(hc->name, sizeof(hc->name), "%s", t);
		} else if (strcmp(key, "interval") == 0) {
			if (duration(c, v, key, MIN_STEP_MS, MAX_STEP_MS, &hc->interval_ms) != 0)
				return -1;
		} else if (strcmp(key, "timeout") == 0) {
			if (duration(c, v, key, MIN_STEP_MS, MAX_STEP_MS, &hc->timeout_ms) != 0)
				return -1;
		} else if (strcmp(key, "retries") == 0) {
			if (uint_in(c, v, key, 0, MAX_RETRIES, &num) != 0)
				return -1;
			hc->retries = (unsigned)num;
		} else if (strcmp(key, "url") == 0) {
			if (yamlnode_scalar(c, v, key, &t) != 0)
				return -1;
			relpath_escape(t, esc, sizeof(esc));
			if (!str_http_url_ok(t, MAX_URL))
				return yamlnode_fail(
				    c, v->start_mark, key,
				    "'%s' is not an http:// or https:// URL (at most %d bytes, no "
				    "spaces)",
				    esc, MAX_URL);
			if (yamlnode_strdup(c, t, &hc->url) != 0)
				return -1;
		} else if (strcmp(key, "expect_status") == 0) {
			if (uint_in(c, v, key, 100, 599, &num) != 0)
				return -1;
			hc->expect_status = (int)num;
		} else if (strcmp(key, "expect_body") == 0) {
			if (yamlnode_scalar(c, v, key, &t) != 0)
				return -1;
			if (strlen(t) > MAX_BODY)
				return yamlnode_fail(c, v->start_mark, key, "longer than %d bytes", MAX_BODY);
			if (yamlnode_strdup(c, t, &hc->expect_body) != 0)
				return -1;
		} else if (strcmp(key, "host") == 0) {
			if (yamlnode_scalar(c, v, key, &t) != 0)
				return -1;
			relpath_escape(t, esc, sizeof(esc));
			if (t[0] == '\0' || strlen(t) > MAX_HOST || t[0] == '-' ||
			    strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-:") !=
			        strlen(t))
				return yamlnode_fail(c, v->start_mark, key,
				                     "'%s' is not a host name or address", esc);
			if (yamlnode_strdup(c, t, &hc->host) != 0)
				return -1;
		} else if (strcmp(key, "port") == 0) {
			if (uint_in(c, v, key, 1, 65535, &num) != 0)
				return -1;
			hc->port = (unsigned)num;
			have_port = true;
		} else if (strcmp(key, "argv") == 0) {
			if (parse_argv(c, hc, v, key) != 0)
				return -1;
		} else if (strcmp(key, "runas") == 0) {
			if (yamlnode_scalar(c, v, key, &t) != 0)
				return -1;
			relpath_escape(t, esc, sizeof(esc));
			if (t[0] == '\0' || strlen(t) > MAX_USER || t[0] == '-' ||
			    strspn(t, "0123456789") == strlen(t) || strpbrk(t, "/: \t") != NULL)
				return yamlnode_fail(c, v->start_mark, key, "'%s' is not a user name", esc);
			if (yamlnode_strdup(c, t, &hc->runas) != 0)
				return -1;
		}
	}
	if (hc->type == HEALTH_HTTP && hc->url == NULL)
		return yamlnode_fail(c, item->start_mark, where, "an http check needs url");
	if (hc->type == HEALTH_TCP && !have_port)
		return yamlnode_fail(c, item->start_mark, where, "a tcp check needs port");
	if (hc->type == HEALTH_TCP && hc->host == NULL && yamlnode_strdup(c, "127.0.0.1", &hc->host) != 0)
		return -1;
	if (hc->type == HEALTH_COMMAND && hc->argv == NULL)
		return yamlnode_fail(c, item->start_mark, where, "a command check needs argv");
	if (hc->name[0] == '\0')
		snprintf(hc->name, sizeof(hc->name), "%s-%zu", health_type_name(hc->type), idx + 1);
	return 0;
}

static int parse_health(struct yamlnode_doc *c, yaml_node_t *v, struct health_spec *s)
{
	const char *where = "health_checks";
	yaml_node_t *checks = NULL, *checks_key = NULL;
	bool have_deadline = false;
	size_t n;

	if (want(c, v, YAML_MAPPING_NODE, where) != 0)
		return -1;
	for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yamlnode_get(c, p->key), *val = yamlnode_get(c, p->value);
		const char *key = yamlnode_text(k);
		if (strcmp(key, "min_healthy_time") == 0) {
			if (duration(c, val, key, 0, MAX_DEADLINE_MS, &s->min_healthy_ms) != 0)
				return -1;
		} else if (strcmp(key, "deadline") == 0) {
			if (duration(c, val, key, MIN_STEP_MS, MAX_DEADLINE_MS, &s->deadline_ms) != 0)
				return -1;
			have_deadline = true;
		} else if (strcmp(key, "checks") == 0) {
			checks = val;
			checks_key = k;
		} else {
			return unknown_key(c, k, where, "min_healthy_time, deadline, checks");
		}
	}
	if (checks == NULL)
		return yamlnode_fail(c, v->start_mark, where, "checks is required (a list of checks)");
	if (want(c, checks, YAML_SEQUENCE_NODE, "checks") != 0)
		return -1;
	n = (size_t)(checks->data.sequence.items.top - checks->data.sequence.items.start);
	if (n == 0 || n > HEALTH_MAX_CHECKS)
		return yamlnode_fail(c, checks_key->start_mark, "checks", "needs 1 to %d checks, got %zu",
		                     HEALTH_MAX_CHECKS, n);
	if (!have_deadline)
		s->deadline_ms = s->min_healthy_ms + DEFAULT_SLACK_MS;
	else if (s->deadline_ms <= s->min_healthy_ms)
		return yamlnode_fail(c, v->start_mark, where,
		                     "deadline (%ums) must be longer than min_healthy_time (%ums)",
		                     s->deadline_ms, s->min_healthy_ms);
	s->checks = calloc(n, sizeof(*s->checks));
	if (s->checks == NULL)
		return yamlnode_oom(c);
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *item = yamlnode_get(c, checks->data.sequence.items.start[i]);
		s->n = i + 1;
		if (parse_check(c, item, i, &s->checks[i]) != 0)
			return -1;
		for (size_t j = 0; j < i; j++)
			if (strcmp(s->checks[j].name, s->checks[i].name) == 0)
				return yamlnode_fail(c, item->start_mark, "name",
				                     "'%s' is already the name of the check at line %u",
				                     s->checks[i].name, s->checks[j].line);
	}
	return 0;
}

static int parse_top(struct yamlnode_doc *c, yaml_node_t *root, struct health_spec *s)
{
	bool have_version = false, have_health = false;
	if (want(c, root, YAML_MAPPING_NODE, NULL) != 0)
		return -1;
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yamlnode_get(c, p->key), *v = yamlnode_get(c, p->value);
		const char *key = yamlnode_text(k);
		if (strcmp(key, "version") == 0) {
			const char *t = NULL;
			if (yamlnode_scalar(c, v, key, &t) != 0)
				return -1;
			if (strcmp(t, "1") != 0) {
				char esc[SHOW];
				relpath_escape(t, esc, sizeof(esc));
				return yamlnode_fail(c, v->start_mark, key,
				                     "'%s' is not supported (use version: 1)", esc);
			}
			have_version = true;
		} else if (strcmp(key, "health_checks") == 0) {
			if (parse_health(c, v, s) != 0)
				return -1;
			have_health = true;
		} else {
			return unknown_key(c, k, NULL, "version, health_checks");
		}
	}
	if (!have_version)
		return yamlnode_fail(c, root->start_mark, "version", "is required (version: 1)");
	if (!have_health)
		return yamlnode_fail(c, root->start_mark, "health_checks", "is required");
	return 0;
}

int hoistyml_parse(const char *t, size_t len, const char *filename, struct health_spec **out,
                   struct herr *err)
{
	yaml_document_t doc;
	struct yaml_verdict v;
	struct yamlnode_doc c;
	struct health_spec *s = NULL;
	yaml_node_t *root;
	int have_doc = 0, rc = -1, loaded;

	*out = NULL;
	memset(&c, 0, sizeof(c));
	c.file = filename != NULL ? filename : HOISTYML_NAME;
	c.err = err;
	c.doc = &doc;
	if (len > HOISTYML_MAX_BYTES)
		return herr_set(err, HOIST_EXIT_BAD_BUNDLE, "%s is larger than %d bytes", c.file,
		                HOISTYML_MAX_BYTES);
	if (memchr(t, '\0', len) != NULL)
		return herr_set(err, HOIST_EXIT_BAD_BUNDLE, "%s contains a NUL byte", c.file);
	if (prescan(&c, t, len) != 0)
		return -1;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return yamlnode_oom(&c);
	loaded = yamlnode_load(&c, t, len, &v);
	if (loaded != 0) {
		if (loaded > 0)
			yamlnode_fail(&c, v.mark, NULL, "%s", v.msg);
		goto out;
	}
	have_doc = 1;
	root = yaml_document_get_root_node(&doc);
	if (root == NULL || yamlnode_is_null(root)) {
		herr_set(err, HOIST_EXIT_BAD_BUNDLE,
		         "%s:1:1: the file is empty (remove it, or add version: 1 "
		         "and health_checks)",
		         c.file);
		goto out;
	}
	if (check_keys(&c) != 0 || parse_top(&c, root, s) != 0)
		goto out;
	*out = s;
	s = NULL;
	rc = 0;
out:
	if (have_doc)
		yaml_document_delete(&doc);
	hoistyml_free(s);
	return rc;
}

void hoistyml_free(struct health_spec *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++) {
		struct health_check *hc = &s->checks[i];
		free(hc->url);
		free(hc->expect_body);
		free(hc->host);
		if (hc->argv != NULL)
			for (size_t a = 0; hc->argv[a] != NULL; a++)
				free(hc->argv[a]);
		free(hc->argv);
		free(hc->runas);
	}
	free(s->checks);
	free(s);
}
