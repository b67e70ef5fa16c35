/* appspec.c - the AWS CodeDeploy AppSpec 0.0 (os: linux), parsed with libyaml. */
#include "appspec.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "exitcodes.h"
#include "log.h"
#include "relpath.h"
#include "yamlguard.h"
#include "yamlnode.h"

#define MAX_DEPTH 64      /* nesting bound checked before the document is built */
#define SHOW 200          /* escaped value in messages */
#define MAX_NAME 255      /* owner, group, runas */

const char *const appspec_events[] = {
	"BeforeBlockTraffic", "AfterBlockTraffic", "ApplicationStop",   "BeforeInstall",
	"AfterInstall",       "ApplicationStart",  "ValidateService",   "BeforeAllowTraffic",
	"AfterAllowTraffic",
};
const size_t appspec_n_events = sizeof(appspec_events) / sizeof(appspec_events[0]);

/* Parse state. */
struct ctx {
	struct yamlnode_doc y;
	struct appspec *a;
};

/* Grows *arr (of elem-sized items, *n used) by one zeroed item. */
static void *grow(struct ctx *c, void *arrp, size_t *n, size_t elem)
{
	void **arr = arrp;
	char *p = realloc(*arr, (*n + 1) * elem);
	if (p == NULL) {
		yamlnode_oom(&c->y);
		return NULL;
	}
	memset(p + *n * elem, 0, elem);
	*arr = p;
	return p + (*n)++ * elem;
}

/* out = key "." name (the key path shown in messages); truncated with "..." if long. */
static void key_join(char *out, size_t outsz, const char *key, const char *name)
{
	int n = snprintf(out, outsz, "%s.%s", key, name);
	if (n < 0 || (size_t)n >= outsz) {
		if (outsz >= 4)
			memcpy(out + outsz - 4, "...", 4);
	}
}

/* ---- keys that only look like known ones ---- */

/* Spaces that are not YAML whitespace, and invisible characters: an editor
 * or a copy from a web page puts them in, and "files" indented with them is
 * another key that the reference silently ignores, section and all. */
static const struct {
	uint32_t cp;
	const char *name;
} odd_chars[] = {
	{0x00A0, "NO-BREAK SPACE"},        {0x00AD, "SOFT HYPHEN"},
	{0x1680, "OGHAM SPACE MARK"},      {0x180E, "MONGOLIAN VOWEL SEPARATOR"},
	{0x2000, "EN QUAD"},               {0x2001, "EM QUAD"},
	{0x2002, "EN SPACE"},              {0x2003, "EM SPACE"},
	{0x2004, "THREE-PER-EM SPACE"},    {0x2005, "FOUR-PER-EM SPACE"},
	{0x2006, "SIX-PER-EM SPACE"},      {0x2007, "FIGURE SPACE"},
	{0x2008, "PUNCTUATION SPACE"},     {0x2009, "THIN SPACE"},
	{0x200A, "HAIR SPACE"},            {0x200B, "ZERO WIDTH SPACE"},
	{0x200C, "ZERO WIDTH NON-JOINER"}, {0x200D, "ZERO WIDTH JOINER"},
	{0x200E, "LEFT-TO-RIGHT MARK"},    {0x200F, "RIGHT-TO-LEFT MARK"},
	{0x2028, "LINE SEPARATOR"},        {0x2029, "PARAGRAPH SEPARATOR"},
	{0x202F, "NARROW NO-BREAK SPACE"}, {0x205F, "MEDIUM MATHEMATICAL SPACE"},
	{0x2060, "WORD JOINER"},           {0x3000, "IDEOGRAPHIC SPACE"},
	{0xFEFF, "ZERO WIDTH NO-BREAK SPACE (byte order mark)"},
};

/* Every key the appspec knows, at any level (event names included below). */
static const char *const known_keys[] = {
	"version", "os", "files", "permissions", "hooks", "file_exists_behavior", "source", "destination",
	"object", "pattern", "except", "owner", "group", "mode", "type", "acls", "context", "location",
	"timeout", "runas", "sudo",
};

/* Decodes one UTF-8 sequence at s (n bytes left); returns its length, 0 if invalid. */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len = s[0] < 0x80 ? 1 : (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3
					: (s[0] & 0xf8) == 0xf0 ? 4 : 0;
	if (len == 0 || len > n)
		return 0;
	*cp = len == 1 ? s[0] : (uint32_t)(s[0] & (0x7f >> len));
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (s[i] & 0x3f);
	}
	return len;
}

/* Refuses a key that equals a known key (or event) once its odd characters
 * and spaces are removed, naming the first odd character and where it is. */
static int check_lookalike(struct ctx *c, yaml_node_t *k, const char *where)
{
	const unsigned char *t = (const unsigned char *)yamlnode_text(k);
	char bare[128];
	size_t n = strlen((const char *)t), blen = 0, chars = 0, odd_col = 0;
	int odd = -1;
	bool known = false;
	for (size_t i = 0; i < n;) {
		uint32_t cp = 0;
		size_t l = utf8_next(t + i, n - i, &cp);
		size_t j;
		if (l == 0)
			return 0; /* not UTF-8: the ordinary checks decide */
		for (j = 0; j < sizeof(odd_chars) / sizeof(odd_chars[0]); j++)
			if (odd_chars[j].cp == cp)
				break;
		if (j < sizeof(odd_chars) / sizeof(odd_chars[0])) {
			if (odd < 0) {
				odd = (int)j;
				odd_col = chars;
			}
		} else if (cp != ' ' && cp != '\t') {
			if (blen + l >= sizeof(bare))
				return 0;
			memcpy(bare + blen, t + i, l);
			blen += l;
		}
		i += l;
		chars++;
	}
	if (odd < 0)
		return 0;
	bare[blen] = '\0';
	for (size_t i = 0; i < sizeof(known_keys) / sizeof(known_keys[0]); i++)
		known = known || strcmp(bare, known_keys[i]) == 0;
	for (size_t i = 0; i < appspec_n_events; i++)
		known = known || strcmp(bare, appspec_events[i]) == 0;
	if (!known)
		return 0;
	{
		yaml_mark_t m = k->start_mark;
		m.column += odd_col; /* libyaml counts columns in characters */
		return yamlnode_fail(&c->y, m, where,
		                     "key '%s' contains U+%04X %s; it would be another key than '%s' and its "
		                     "whole section would be ignored: retype it with plain spaces",
		                     bare, (unsigned)odd_chars[odd].cp, odd_chars[odd].name, bare);
	}
}

/* Warns about a key the reference ignores; refuses one that only looks known. */
static int warn_unknown(struct ctx *c, yaml_node_t *k, const char *where)
{
	char esc[SHOW];
	if (check_lookalike(c, k, where) != 0)
		return -1;
	relpath_escape(yamlnode_text(k), esc, sizeof(esc));
	log_warnx("%s:%zu:%zu: %s: unknown key '%s' ignored", c->y.file, k->start_mark.line + 1,
	          k->start_mark.column + 1, where, esc);
	return 0;
}

/* ---- duplicate keys ---- */

struct keyref {
	const char *t;
	size_t len;
	yaml_mark_t m;
};

static int keyref_cmp(const void *x, const void *y)
{
	const struct keyref *a = x, *b = y;
	size_t l = a->len < b->len ? a->len : b->len;
	int r = memcmp(a->t, b->t, l);
	if (r != 0)
		return r;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return a->m.index < b->m.index ? -1 : (a->m.index > b->m.index);
}

/* Refuses a mapping anywhere in the document that repeats a key (sorted, so
 * a huge mapping costs n log n, not n^2). */
static int check_duplicates(struct ctx *c)
{
	struct keyref *keys = NULL;
	size_t cap = 0;
	int rc = -1;
	for (yaml_node_t *n = c->y.doc->nodes.start; n < c->y.doc->nodes.top; n++) {
		size_t cnt = 0;
		if (n->type != YAML_MAPPING_NODE)
			continue;
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yamlnode_get(&c->y, p->key);
			if (k == NULL || k->type != YAML_SCALAR_NODE)
				continue;
			if (strlen(yamlnode_text(k)) != k->data.scalar.length) {
				yamlnode_fail(&c->y, k->start_mark, NULL, "a key contains a NUL character");
				goto out;
			}
			if (k->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
			    strcmp(yamlnode_text(k), "<<") == 0) {
				/* YAML 1.1 merge keys would make the reference see other keys than we do */
				yamlnode_fail(&c->y, k->start_mark, NULL,
				              "YAML merge keys (<<) are not supported");
				goto out;
			}
			if (cnt == cap) {
				size_t ncap = cap ? cap * 2 : 16;
				struct keyref *nk = realloc(keys, ncap * sizeof(*nk));
				if (nk == NULL) {
					yamlnode_oom(&c->y);
					goto out;
				}
				keys = nk;
				cap = ncap;
			}
			keys[cnt].t = yamlnode_text(k);
			keys[cnt].len = k->data.scalar.length;
			keys[cnt].m = k->start_mark;
			cnt++;
		}
		if (cnt < 2)
			continue;
		qsort(keys, cnt, sizeof(*keys), keyref_cmp);
		for (size_t i = 1; i < cnt; i++) {
			if (keys[i].len == keys[i - 1].len && memcmp(keys[i].t, keys[i - 1].t, keys[i].len) == 0) {
				char esc[SHOW];
				relpath_escape(keys[i].t, esc, sizeof(esc));
				yamlnode_fail(&c->y, keys[i].m, NULL,
				              "duplicate key '%s' (first at line %zu)", esc,
				              keys[i - 1].m.line + 1);
				goto out;
			}
		}
	}
	rc = 0;
out:
	free(keys);
	return rc;
}

/* ---- scalar rules ---- */

/* 1 when t is a YAML 1.1 number (int, hex, binary, float with '.') equal to zero. */
static int yaml_zero(const char *t)
{
	char b[64];
	size_t n = 0;
	const char *p;
	int digits = 0;
	for (p = t; *p; p++) {
		if (*p == '_')
			continue;
		if (n + 1 >= sizeof(b))
			return 0;
		b[n++] = *p;
	}
	b[n] = '\0';
	p = b;
	if (*p == '+' || *p == '-')
		p++;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'b') && p[2] != '\0') {
		const char *ok = p[1] == 'x' ? "0123456789abcdefABCDEF" : "01";
		if (strspn(p + 2, ok) != strlen(p + 2))
			return 0;
		return strspn(p + 2, "0") == strlen(p + 2);
	}
	for (; *p == '0' || (*p >= '1' && *p <= '9'); p++) {
		if (*p != '0')
			return 0;
		digits++;
	}
	if (*p == '\0')
		return digits > 0;
	if (*p != '.')
		return 0;
	for (p++; *p >= '0' && *p <= '9'; p++) {
		if (*p != '0')
			return 0;
		digits++;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!isdigit((unsigned char)*p))
			return 0;
		while (isdigit((unsigned char)*p))
			p++;
	}
	return *p == '\0' && digits > 0;
}

/* A user or group name: not numeric, no separators or control characters. */
static int check_name(struct ctx *c, yaml_node_t *v, const char *key, const char **out)
{
	const char *t = NULL;
	char esc[SHOW];
	if (yamlnode_scalar(&c->y, v, key, &t) != 0)
		return -1;
	relpath_escape(t, esc, sizeof(esc));
	if (t[0] == '\0' || strlen(t) > MAX_NAME)
		return yamlnode_fail(&c->y, v->start_mark, key, "expected a user or group name, got '%s'",
		                     esc);
	if (strspn(t, "0123456789") == strlen(t))
		return yamlnode_fail(&c->y, v->start_mark, key,
		                     "numeric id '%s' is not supported (the reference fails at install); "
		                     "use a name",
		                     esc);
	if (t[0] == '-' || strpbrk(t, "/: \t") != NULL)
		return yamlnode_fail(&c->y, v->start_mark, key, "'%s' is not a valid user or group name",
		                     esc);
	*out = t;
	return 0;
}

/* A path relative to the bundle root (leading '/' = root), normalised; must stay inside. */
static int bundle_path(struct ctx *c, yaml_node_t *v, const char *key, char **out)
{
	char norm[PATH_MAX];
	char esc[SHOW];
	const char *t = NULL;
	enum relpath_norm r;
	if (yamlnode_scalar(&c->y, v, key, &t) != 0)
		return -1;
	relpath_escape(t, esc, sizeof(esc));
	if (t[0] == '\0')
		return yamlnode_fail(&c->y, v->start_mark, key, "must not be empty");
	r = relpath_normalise(t, norm, sizeof(norm));
	if (r == RELPATH_NORM_ESCAPES)
		return yamlnode_fail(&c->y, v->start_mark, key,
		                     "'%s' leaves the bundle ('..' above its root)", esc);
	if (r != RELPATH_NORM_OK)
		return yamlnode_fail(&c->y, v->start_mark, key, "'%s' is too long", esc);
	return yamlnode_strdup(&c->y, norm, out);
}

/* An absolute host path, normalised. */
static int host_path(struct ctx *c, yaml_node_t *v, const char *key, char **out)
{
	char norm[PATH_MAX];
	char esc[SHOW];
	const char *t = NULL;
	if (yamlnode_scalar(&c->y, v, key, &t) != 0)
		return -1;
	relpath_escape(t, esc, sizeof(esc));
	if (t[0] != '/')
		return yamlnode_fail(
		    &c->y, v->start_mark, key,
		    "'%s' is relative; hoist requires an absolute path (the reference resolves "
		    "it against its own working directory)",
		    esc);
	if (relpath_normalise_abs(t, norm, sizeof(norm)) != 0)
		return yamlnode_fail(&c->y, v->start_mark, key, "'%s' is too long", esc);
	return yamlnode_strdup(&c->y, norm, out);
}

/* Checks that v is a mapping; "what" describes the expected content. */
static int want_map(struct ctx *c, yaml_node_t *v, const char *key, const char *what)
{
	if (v->type != YAML_MAPPING_NODE)
		return yamlnode_fail(&c->y, v->start_mark, key, "expected %s, got %s", what,
		                     yamlnode_kind(v));
	return 0;
}

/* A list, or null (= empty, *items NULL). */
static int want_list(struct ctx *c, yaml_node_t *v, const char *key, const char *what,
		     yaml_node_item_t **start, yaml_node_item_t **top)
{
	*start = *top = NULL;
	if (yamlnode_is_null(v))
		return 0;
	if (v->type != YAML_SEQUENCE_NODE)
		return yamlnode_fail(&c->y, v->start_mark, key, "expected %s, got %s", what,
		                     yamlnode_kind(v));
	*start = v->data.sequence.items.start;
	*top = v->data.sequence.items.top;
	return 0;
}

/* ---- sections ---- */

static int parse_files(struct ctx *c, yaml_node_t *v)
{
	yaml_node_item_t *it, *top;
	char key[128];
	if (want_list(c, v, "files", "a list of {source, destination}", &it, &top) != 0)
		return -1;
	for (size_t i = 0; it < top; it++, i++) {
		yaml_node_t *item = yamlnode_get(&c->y, *it);
		struct appspec_file *f;
		snprintf(key, sizeof(key), "files[%zu]", i);
		if (want_map(c, item, key, "a mapping with source and destination") != 0)
			return -1;
		if ((f = grow(c, &c->a->files, &c->a->n_files, sizeof(*f))) == NULL)
			return -1;
		f->line = (unsigned)item->start_mark.line + 1;
		f->col = (unsigned)item->start_mark.column + 1;
		for (yaml_node_pair_t *p = item->data.mapping.pairs.start; p < item->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yamlnode_get(&c->y, p->key), *val = yamlnode_get(&c->y, p->value);
			char sub[160];
			if (k->type != YAML_SCALAR_NODE)
				return yamlnode_fail(&c->y, k->start_mark, key, "keys must be plain names");
			key_join(sub, sizeof(sub), key, yamlnode_text(k));
			if (strcmp(yamlnode_text(k), "source") == 0) {
				if (bundle_path(c, val, sub, &f->source) != 0)
					return -1;
			} else if (strcmp(yamlnode_text(k), "destination") == 0) {
				if (host_path(c, val, sub, &f->destination) != 0)
					return -1;
			} else if (warn_unknown(c, k, key) != 0) {
				return -1;
			}
		}
		if (f->source == NULL)
			return yamlnode_fail(&c->y, item->start_mark, key, "source is required");
		if (f->destination == NULL)
			return yamlnode_fail(&c->y, item->start_mark, key, "destination is required");
	}
	return 0;
}

/* mode: the scalar's text, 1 to 4 octal digits (0644 is 0644, not YAML's 420). */
static int parse_mode(struct ctx *c, yaml_node_t *v, const char *key, int *mode)
{
	const char *t = NULL;
	char esc[SHOW];
	size_t n;
	if (yamlnode_is_null(v)) {
		*mode = -1;
		return 0;
	}
	if (yamlnode_scalar(&c->y, v, key, &t) != 0)
		return -1;
	n = strlen(t);
	relpath_escape(t, esc, sizeof(esc));
	if (n < 1 || n > 4 || strspn(t, "01234567") != n)
		return yamlnode_fail(&c->y, v->start_mark, key,
		                     "expected 1 to 4 octal digits such as 644 or 0755, got '%s'", esc);
	*mode = (int)strtol(t, NULL, 8);
	return 0;
}

static int parse_type(struct ctx *c, yaml_node_t *v, const char *key, unsigned *mask)
{
	yaml_node_item_t *it, *top;
	if (yamlnode_is_null(v)) {
		*mask = PERM_TYPE_FILE | PERM_TYPE_DIRECTORY;
		return 0;
	}
	if (want_list(c, v, key, "a list such as [file, directory]", &it, &top) != 0)
		return -1;
	*mask = 0;
	for (; it < top; it++) {
		yaml_node_t *t = yamlnode_get(&c->y, *it);
		const char *s = NULL;
		char esc[SHOW];
		if (yamlnode_scalar(&c->y, t, key, &s) != 0)
			return -1;
		relpath_escape(s, esc, sizeof(esc));
		if (strcmp(s, "file") == 0)
			*mask |= PERM_TYPE_FILE;
		else if (strcmp(s, "directory") == 0)
			*mask |= PERM_TYPE_DIRECTORY;
		else
			return yamlnode_fail(&c->y, t->start_mark, key,
			                     "expected file or directory, got '%s'", esc);
	}
	return 0;
}

static int parse_except(struct ctx *c, yaml_node_t *v, const char *key, struct appspec_permission *pm)
{
	yaml_node_item_t *it, *top;
	if (want_list(c, v, key, "a list of patterns", &it, &top) != 0)
		return -1;
	for (; it < top; it++) {
		const char *s = NULL;
		char **slot;
		if (yamlnode_scalar(&c->y, yamlnode_get(&c->y, *it), key, &s) != 0)
			return -1;
		if ((slot = grow(c, &pm->except, &pm->n_except, sizeof(*slot))) == NULL ||
		    yamlnode_strdup(&c->y, s, slot) != 0)
			return -1;
	}
	return 0;
}

/* One key of a permissions entry. */
static int parse_perm_key(struct ctx *c, struct appspec_permission *pm, yaml_node_t *k, yaml_node_t *v,
			  const char *key)
{
	const char *name = yamlnode_text(k);
	const char *s = NULL;
	char sub[160];
	key_join(sub, sizeof(sub), key, name);
	if (strcmp(name, "object") == 0)
		return host_path(c, v, sub, &pm->object);
	if (strcmp(name, "pattern") == 0) {
		if (yamlnode_is_null(v))
			return 0; /* the default "**" */
		return yamlnode_scalar(&c->y, v, sub, &s) != 0 ? -1 : yamlnode_strdup(&c->y, s, &pm->pattern);
	}
	if (strcmp(name, "except") == 0)
		return parse_except(c, v, sub, pm);
	if (strcmp(name, "owner") == 0 || strcmp(name, "group") == 0) {
		char **dst = name[0] == 'o' ? &pm->owner : &pm->group;
		if (yamlnode_is_null(v))
			return 0;
		return check_name(c, v, sub, &s) != 0 ? -1 : yamlnode_strdup(&c->y, s, dst);
	}
	if (strcmp(name, "mode") == 0)
		return parse_mode(c, v, sub, &pm->mode);
	if (strcmp(name, "type") == 0)
		return parse_type(c, v, sub, &pm->type_mask);
	if (strcmp(name, "acls") == 0 || strcmp(name, "context") == 0) {
		if (yamlnode_is_null(v))
			return 0;
		return yamlnode_fail(&c->y, k->start_mark, sub,
		                     "not supported by hoist; use a hook script (%s)",
		                     name[0] == 'a' ? "setfacl" : "semanage fcontext / restorecon");
	}
	return warn_unknown(c, k, key);
}

static int parse_permissions(struct ctx *c, yaml_node_t *v)
{
	yaml_node_item_t *it, *top;
	char key[128];
	if (want_list(c, v, "permissions", "a list of permission entries", &it, &top) != 0)
		return -1;
	for (size_t i = 0; it < top; it++, i++) {
		yaml_node_t *item = yamlnode_get(&c->y, *it);
		struct appspec_permission *pm;
		snprintf(key, sizeof(key), "permissions[%zu]", i);
		if (want_map(c, item, key, "a mapping with object and settings") != 0)
			return -1;
		if ((pm = grow(c, &c->a->permissions, &c->a->n_permissions, sizeof(*pm))) == NULL)
			return -1;
		pm->mode = -1;
		pm->type_mask = PERM_TYPE_FILE | PERM_TYPE_DIRECTORY;
		pm->line = (unsigned)item->start_mark.line + 1;
		pm->col = (unsigned)item->start_mark.column + 1;
		for (yaml_node_pair_t *p = item->data.mapping.pairs.start; p < item->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yamlnode_get(&c->y, p->key);
			if (k->type != YAML_SCALAR_NODE)
				return yamlnode_fail(&c->y, k->start_mark, key, "keys must be plain names");
			if (parse_perm_key(c, pm, k, yamlnode_get(&c->y, p->value), key) != 0)
				return -1;
		}
		if (pm->object == NULL)
			return yamlnode_fail(&c->y, item->start_mark, key, "object is required");
		if (pm->pattern == NULL && yamlnode_strdup(&c->y, "**", &pm->pattern) != 0)
			return -1;
	}
	return 0;
}

/* timeout: decimal seconds, optionally followed by "s"; 1 .. INT_MAX. */
static int parse_timeout(struct ctx *c, yaml_node_t *v, const char *key, unsigned *out)
{
	const char *t = NULL;
	char esc[SHOW];
	size_t nd;
	unsigned long long val = 0;
	if (yamlnode_is_null(v)) {
		*out = 3600;
		return 0;
	}
	if (v->type != YAML_SCALAR_NODE)
		return yamlnode_fail(&c->y, v->start_mark, key,
		                     "expected a positive number of seconds, got %s", yamlnode_kind(v));
	if (yamlnode_scalar(&c->y, v, key, &t) != 0)
		return -1;
	relpath_escape(t, esc, sizeof(esc));
	nd = strspn(t, "0123456789");
	if (nd == 0 || nd > 10 || !(t[nd] == '\0' || (t[nd] == 's' && t[nd + 1] == '\0')))
		return yamlnode_fail(&c->y, v->start_mark, key,
		                     "expected a positive number of seconds, got '%s'", esc);
	for (size_t i = 0; i < nd; i++)
		val = val * 10 + (unsigned)(t[i] - '0');
	if (val == 0 || val > INT_MAX)
		return yamlnode_fail(&c->y, v->start_mark, key,
		                     "expected a positive number of seconds, got '%s'", esc);
	*out = (unsigned)val;
	return 0;
}

/* sudo: a YAML boolean; accepted and ignored (hoist runs hooks as root or runas). */
static int parse_sudo(struct ctx *c, yaml_node_t *v, const char *key)
{
	static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y"};
	static const char *const no[] = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N"};
	if (yamlnode_is_null(v))
		return 0;
	if (v->type == YAML_SCALAR_NODE && v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
			if (strcmp(yamlnode_text(v), yes[i]) == 0) {
				log_warnx("%s:%zu:%zu: %s: ignored: hoist runs hooks as root, or as runas",
				          c->y.file, v->start_mark.line + 1, v->start_mark.column + 1, key);
				return 0;
			}
			if (strcmp(yamlnode_text(v), no[i]) == 0)
				return 0;
		}
	}
	return yamlnode_fail(&c->y, v->start_mark, key, "expected true or false");
}

static int parse_script(struct ctx *c, yaml_node_t *item, const char *key, struct appspec_script *s)
{
	s->timeout_s = 3600;
	s->line = (unsigned)item->start_mark.line + 1;
	s->col = (unsigned)item->start_mark.column + 1;
	for (yaml_node_pair_t *p = item->data.mapping.pairs.start; p < item->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yamlnode_get(&c->y, p->key), *v = yamlnode_get(&c->y, p->value);
		char sub[200];
		const char *name;
		if (k->type != YAML_SCALAR_NODE)
			return yamlnode_fail(&c->y, k->start_mark, key, "keys must be plain names");
		key_join(sub, sizeof(sub), key, yamlnode_text(k));
		if (strcmp(yamlnode_text(k), "location") == 0) {
			if (bundle_path(c, v, sub, &s->location) != 0)
				return -1;
			if (s->location[0] == '\0')
				return yamlnode_fail(&c->y, v->start_mark, sub,
				                     "names the bundle root, not a script");
		} else if (strcmp(yamlnode_text(k), "timeout") == 0) {
			if (parse_timeout(c, v, sub, &s->timeout_s) != 0)
				return -1;
		} else if (strcmp(yamlnode_text(k), "runas") == 0) {
			if (!yamlnode_is_null(v) && (check_name(c, v, sub, &name) != 0 ||
			                             yamlnode_strdup(&c->y, name, &s->runas) != 0))
				return -1;
		} else if (strcmp(yamlnode_text(k), "sudo") == 0) {
			if (parse_sudo(c, v, sub) != 0)
				return -1;
		} else if (warn_unknown(c, k, key) != 0) {
			return -1;
		}
	}
	if (s->location == NULL)
		return yamlnode_fail(&c->y, item->start_mark, key, "location is required");
	return 0;
}

/* The event list as text, for messages. */
static void events_list(char *out, size_t outsz)
{
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < appspec_n_events; i++) {
		int n = snprintf(out + o, outsz - o, "%s%s", i ? ", " : "", appspec_events[i]);
		if (n < 0 || (size_t)n >= outsz - o)
			return;
		o += (size_t)n;
	}
}

static int parse_hook(struct ctx *c, yaml_node_t *k, yaml_node_t *v)
{
	const char *ev = yamlnode_text(k);
	char key[160];
	char esc[100]; /* fits in key */
	size_t e;
	struct appspec_hook *h;
	relpath_escape(ev, esc, sizeof(esc));
	snprintf(key, sizeof(key), "hooks.%s", esc);
	for (e = 0; e < appspec_n_events; e++)
		if (strcmp(ev, appspec_events[e]) == 0)
			break;
	if (e == appspec_n_events) {
		char list[512];
		if (strcmp(ev, "Install") == 0 || strcmp(ev, "DownloadBundle") == 0)
			return yamlnode_fail(&c->y, k->start_mark, key,
			                     "%s is a built-in step of the agent and cannot have scripts",
			                     ev);
		if (check_lookalike(c, k, "hooks") != 0)
			return -1;
		events_list(list, sizeof(list));
		return yamlnode_fail(
		    &c->y, k->start_mark, key,
		    "unknown lifecycle event (the CodeDeploy agent refuses it too: \"appspec.yml "
		    "file contains unknown lifecycle events\"); known events: %s",
		    list);
	}
	if (yamlnode_is_null(v) ||
	    (v->type == YAML_SEQUENCE_NODE && v->data.sequence.items.start == v->data.sequence.items.top))
		return 0; /* like the reference: an empty hook is no hook */
	if (v->type == YAML_MAPPING_NODE)
		return yamlnode_fail(
		    &c->y, v->start_mark, key,
		    "expected a list of scripts (each item starting with '- location:'), got a "
		    "mapping");
	if (v->type != YAML_SEQUENCE_NODE)
		return yamlnode_fail(&c->y, v->start_mark, key, "expected a list of scripts, got %s",
		                     yamlnode_kind(v));
	if ((h = grow(c, &c->a->hooks, &c->a->n_hooks, sizeof(*h))) == NULL ||
	    yamlnode_strdup(&c->y, ev, &h->event) != 0)
		return -1;
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		yaml_node_t *item = yamlnode_get(&c->y, *it);
		struct appspec_script *s;
		char sub[200];
		snprintf(sub, sizeof(sub), "%s[%zu]", key, h->n_scripts);
		if (want_map(c, item, sub, "a mapping with location (and timeout, runas)") != 0)
			return -1;
		if ((s = grow(c, &h->scripts, &h->n_scripts, sizeof(*s))) == NULL)
			return -1;
		if (parse_script(c, item, sub, s) != 0)
			return -1;
	}
	return 0;
}

static int parse_hooks(struct ctx *c, yaml_node_t *v)
{
	if (yamlnode_is_null(v))
		return 0;
	if (want_map(c, v, "hooks", "a mapping from lifecycle event to a list of scripts") != 0)
		return -1;
	for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yamlnode_get(&c->y, p->key);
		if (k->type != YAML_SCALAR_NODE)
			return yamlnode_fail(&c->y, k->start_mark, "hooks",
			                     "event names must be plain names");
		if (parse_hook(c, k, yamlnode_get(&c->y, p->value)) != 0)
			return -1;
	}
	return 0;
}

static int parse_version(struct ctx *c, yaml_node_t *v)
{
	char esc[SHOW];
	if (v->type != YAML_SCALAR_NODE || yamlnode_is_null(v))
		return yamlnode_fail(&c->y, v->start_mark, "version", "expected 0.0, got %s",
		                     yamlnode_kind(v));
	relpath_escape(yamlnode_text(v), esc, sizeof(esc));
	if (v->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return yamlnode_fail(&c->y, v->start_mark, "version",
		                     "'%s' is quoted; write version: 0.0 without quotes (the reference "
		                     "rejects a quoted version too)",
		                     esc);
	if (!yaml_zero(yamlnode_text(v)))
		return yamlnode_fail(&c->y, v->start_mark, "version", "expected 0.0, got '%s'", esc);
	return 0;
}

static int parse_os(struct ctx *c, yaml_node_t *v)
{
	char esc[SHOW];
	if (v->type != YAML_SCALAR_NODE || yamlnode_is_null(v))
		return yamlnode_fail(&c->y, v->start_mark, "os", "expected linux, got %s", yamlnode_kind(v));
	if (strcmp(yamlnode_text(v), "linux") == 0)
		return 0;
	relpath_escape(yamlnode_text(v), esc, sizeof(esc));
	return yamlnode_fail(&c->y, v->start_mark, "os",
	                     "expected linux (lower case, as the reference requires), got '%s'", esc);
}

static int parse_feb(struct ctx *c, yaml_node_t *v)
{
	char esc[SHOW];
	if (yamlnode_is_null(v))
		return 0;
	if (v->type == YAML_SCALAR_NODE) {
		const char *t = yamlnode_text(v);
		if (strcmp(t, "DISALLOW") == 0)
			c->a->file_exists_behavior = FEB_DISALLOW;
		else if (strcmp(t, "OVERWRITE") == 0)
			c->a->file_exists_behavior = FEB_OVERWRITE;
		else if (strcmp(t, "RETAIN") == 0)
			c->a->file_exists_behavior = FEB_RETAIN;
		if (c->a->file_exists_behavior != FEB_UNSET)
			return 0;
	}
	relpath_escape(v->type == YAML_SCALAR_NODE ? yamlnode_text(v) : yamlnode_kind(v), esc, sizeof(esc));
	return yamlnode_fail(&c->y, v->start_mark, "file_exists_behavior",
	                     "expected DISALLOW, OVERWRITE or RETAIN (upper case, as the reference "
	                     "requires), got '%s'",
	                     esc);
}

static int parse_top(struct ctx *c, yaml_node_t *root)
{
	int have_version = 0, have_os = 0;
	if (root->type != YAML_MAPPING_NODE)
		return yamlnode_fail(
		    &c->y, root->start_mark, NULL,
		    "expected a mapping with version, os, files and hooks at the top, got %s",
		    yamlnode_kind(root));
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yamlnode_get(&c->y, p->key), *v = yamlnode_get(&c->y, p->value);
		const char *name;
		int r = 0;
		if (k->type != YAML_SCALAR_NODE)
			return yamlnode_fail(&c->y, k->start_mark, NULL,
			                     "top-level keys must be plain names");
		name = yamlnode_text(k);
		if (strcmp(name, "version") == 0) {
			have_version = 1;
			r = parse_version(c, v);
		} else if (strcmp(name, "os") == 0) {
			have_os = 1;
			r = parse_os(c, v);
		} else if (strcmp(name, "files") == 0) {
			r = parse_files(c, v);
		} else if (strcmp(name, "permissions") == 0) {
			r = parse_permissions(c, v);
		} else if (strcmp(name, "hooks") == 0) {
			r = parse_hooks(c, v);
		} else if (strcmp(name, "file_exists_behavior") == 0) {
			r = parse_feb(c, v);
		} else {
			r = warn_unknown(c, k, "top level");
		}
		if (r != 0)
			return -1;
	}
	if (!have_version)
		return yamlnode_fail(&c->y, root->start_mark, "version", "is required (version: 0.0)");
	if (!have_os)
		return yamlnode_fail(&c->y, root->start_mark, "os", "is required (os: linux)");
	return 0;
}

/* ---- YAML layer ---- */

/* Reports a refusal of yamlguard (or a libyaml error) at its position. */
static int yaml_refused(struct ctx *c, const struct yaml_verdict *v)
{
	if (v->out_of_memory)
		return yamlnode_oom(&c->y);
	return yamlnode_fail(&c->y, v->mark, NULL, "%s", v->msg);
}

/* Event pass before the document is built (yamlguard.h). */
static int prescan(struct ctx *c, const char *t, size_t len)
{
	struct yaml_verdict v;
	return yaml_guard(t, len, MAX_DEPTH, &v) == 0 ? 0 : yaml_refused(c, &v);
}

int appspec_parse(const char *t, size_t len, const char *filename, struct appspec **out,
		  struct herr *err)
{
	yaml_document_t doc;
	struct yaml_verdict v;
	struct ctx c;
	yaml_node_t *root;
	int have_doc = 0, rc = -1, loaded;
	size_t i;

	*out = NULL;
	memset(&c, 0, sizeof(c));
	c.y.file = filename != NULL ? filename : "appspec.yml";
	c.y.err = err;
	c.y.doc = &doc;
	if (len > APPSPEC_MAX_BYTES)
		return herr_set(err, HOIST_EXIT_BAD_BUNDLE, "%s is larger than %d bytes", c.y.file,
		                APPSPEC_MAX_BYTES);
	for (i = 0; i < len && isspace((unsigned char)t[i]); i++)
		;
	if (i == len)
		return herr_set(err, HOIST_EXIT_BAD_BUNDLE,
		                "%s:1:1: application specification file was empty", c.y.file);
	if (prescan(&c, t, len) != 0)
		return -1;
	if ((c.a = calloc(1, sizeof(*c.a))) == NULL || yamlnode_strdup(&c.y, c.y.file, &c.a->filename) != 0) {
		yamlnode_oom(&c.y);
		goto out;
	}
	loaded = yamlnode_load(&c.y, t, len, &v);
	if (loaded != 0) {
		if (loaded > 0)
			yaml_refused(&c, &v);
		goto out;
	}
	have_doc = 1;
	root = yaml_document_get_root_node(&doc);
	if (root == NULL || yamlnode_is_null(root)) {
		herr_set(err, HOIST_EXIT_BAD_BUNDLE, "%s:1:1: application specification file was empty",
		         c.y.file);
		goto out;
	}
	if (check_duplicates(&c) != 0 || parse_top(&c, root) != 0)
		goto out;
	*out = c.a;
	c.a = NULL;
	rc = 0;
out:
	if (have_doc)
		yaml_document_delete(&doc);
	appspec_free(c.a);
	return rc;
}

const struct appspec_hook *appspec_hook(const struct appspec *a, const char *event)
{
	for (size_t i = 0; a != NULL && i < a->n_hooks; i++)
		if (strcmp(a->hooks[i].event, event) == 0)
			return &a->hooks[i];
	return NULL;
}

void appspec_free(struct appspec *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->n_files; i++) {
		free(a->files[i].source);
		free(a->files[i].destination);
	}
	for (size_t i = 0; i < a->n_permissions; i++) {
		struct appspec_permission *pm = &a->permissions[i];
		free(pm->object);
		free(pm->pattern);
		for (size_t j = 0; j < pm->n_except; j++)
			free(pm->except[j]);
		free(pm->except);
		free(pm->owner);
		free(pm->group);
	}
	for (size_t i = 0; i < a->n_hooks; i++) {
		for (size_t j = 0; j < a->hooks[i].n_scripts; j++) {
			free(a->hooks[i].scripts[j].location);
			free(a->hooks[i].scripts[j].runas);
		}
		free(a->hooks[i].scripts);
		free(a->hooks[i].event);
	}
	free(a->files);
	free(a->permissions);
	free(a->hooks);
	free(a->filename);
	free(a);
}

/* ---- the appspec inside an unpacked bundle ---- */

/* Reads the open file fd (at most APPSPEC_MAX_BYTES) into a malloc'd buffer. */
static int read_bounded(int fd, const char *name, char **out, size_t *outlen, struct herr *err)
{
	size_t cap = 65536, len = 0;
	char *b = malloc(cap);
	if (b == NULL)
		return herr_set(err, HOIST_EXIT_INTERNAL, "out of memory reading %s", name);
	for (;;) {
		ssize_t n;
		if (len == cap) {
			char *nb;
			if (cap > APPSPEC_MAX_BYTES) {
				free(b);
				return herr_set(err, HOIST_EXIT_BAD_BUNDLE, "%s is larger than %d bytes", name,
						APPSPEC_MAX_BYTES);
			}
			nb = realloc(b, cap * 2);
			if (nb == NULL) {
				free(b);
				return herr_set(err, HOIST_EXIT_INTERNAL, "out of memory reading %s", name);
			}
			b = nb;
			cap *= 2;
		}
		n = read(fd, b + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			free(b);
			return herr_errno(err, HOIST_EXIT_IO, e, "cannot read %s", name);
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > APPSPEC_MAX_BYTES) {
		free(b);
		return herr_set(err, HOIST_EXIT_BAD_BUNDLE, "%s is larger than %d bytes", name,
				APPSPEC_MAX_BYTES);
	}
	*out = b;
	*outlen = len;
	return 0;
}

/* lstat of name at the bundle root: 1 present, 0 absent, -1 error. */
static int present(int rootfd, const char *name, struct stat *st, struct herr *err)
{
	if (fstatat(rootfd, name, st, AT_SYMLINK_NOFOLLOW) == 0)
		return 1;
	if (errno == ENOENT)
		return 0;
	return herr_errno(err, HOIST_EXIT_IO, errno, "cannot stat %s in the bundle", name);
}

/* Checks that a bundle path exists without passing through a symlink; when
 * want_reg, that it is a regular file (not a link). */
static int check_in_bundle(int rootfd, const struct appspec *a, const char *rel, unsigned line,
			   unsigned col, const char *key, int want_reg, struct herr *err)
{
	char bad[PATH_MAX], ebad[SHOW], erel[SHOW];
	struct stat st;
	enum relpath_walk w = relpath_lookup(rootfd, rel, &st, bad, sizeof(bad));
	relpath_escape(bad, ebad, sizeof(ebad));
	relpath_escape(rel[0] ? rel : "/", erel, sizeof(erel));
	switch (w) {
	case RELPATH_FOUND:
		break;
	case RELPATH_MISSING:
		return herr_set(err, HOIST_EXIT_BAD_BUNDLE, "%s:%u:%u: %s: '%s' does not exist in the bundle",
				a->filename, line, col, key, erel);
	case RELPATH_THROUGH_LINK:
		return herr_set(err, HOIST_EXIT_BAD_BUNDLE,
				"%s:%u:%u: %s: '%s' goes through the symbolic link '%s' in the bundle "
				"(refused: it could lead outside)",
				a->filename, line, col, key, erel, ebad);
	case RELPATH_NOT_DIR:
		return herr_set(err, HOIST_EXIT_BAD_BUNDLE, "%s:%u:%u: %s: '%s' is not a directory in the bundle",
				a->filename, line, col, key, ebad);
	case RELPATH_ERROR:
		return herr_errno(err, HOIST_EXIT_IO, errno, "%s:%u:%u: %s: cannot look up '%s'", a->filename,
				  line, col, key, erel);
	}
	if (want_reg && S_ISLNK(st.st_mode))
		return herr_set(err, HOIST_EXIT_BAD_BUNDLE,
				"%s:%u:%u: %s: '%s' is a symbolic link; a hook script must be a regular file",
				a->filename, line, col, key, erel);
	if (want_reg && !S_ISREG(st.st_mode))
		return herr_set(err, HOIST_EXIT_BAD_BUNDLE, "%s:%u:%u: %s: '%s' is not a regular file",
				a->filename, line, col, key, erel);
	return 0;
}

int appspec_load_bundle(const char *bundle_root, struct appspec **out, struct herr *err)
{
	struct stat st_yml, st_yaml, st;
	struct appspec *a = NULL;
	const char *name;
	char *text_buf = NULL;
	size_t len = 0;
	int rootfd = -1, fd = -1, rc = -1, yml, yaml;

	*out = NULL;
	rootfd = open(bundle_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return herr_errno(err, HOIST_EXIT_IO, errno, "cannot open bundle directory %s", bundle_root);
	if ((yml = present(rootfd, "appspec.yml", &st_yml, err)) < 0 ||
	    (yaml = present(rootfd, "appspec.yaml", &st_yaml, err)) < 0)
		goto out;
	if (yml && yaml) {
		herr_set(err, HOIST_EXIT_BAD_BUNDLE,
			 "the bundle has both appspec.yml and appspec.yaml; keep one (the reference's install "
			 "and hook steps would read different files)");
		goto out;
	}
	if (!yml && !yaml) {
		herr_set(err, HOIST_EXIT_BAD_BUNDLE, "no appspec.yml (or appspec.yaml) at the root of the bundle");
		goto out;
	}
	name = yml ? "appspec.yml" : "appspec.yaml";
	st = yml ? st_yml : st_yaml;
	if (S_ISLNK(st.st_mode) || !S_ISREG(st.st_mode)) {
		herr_set(err, HOIST_EXIT_BAD_BUNDLE, "%s is %s; it must be a regular file", name,
			 S_ISLNK(st.st_mode) ? "a symbolic link" : "not a regular file");
		goto out;
	}
	fd = openat(rootfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		herr_errno(err, HOIST_EXIT_IO, errno, "cannot open %s in the bundle", name);
		goto out;
	}
	if (read_bounded(fd, name, &text_buf, &len, err) != 0 ||
	    appspec_parse(text_buf, len, name, &a, err) != 0)
		goto out;
	for (size_t i = 0; i < a->n_files; i++) {
		char key[64];
		snprintf(key, sizeof(key), "files[%zu].source", i);
		if (check_in_bundle(rootfd, a, a->files[i].source, a->files[i].line, a->files[i].col, key, 0,
				    err) != 0)
			goto out;
	}
	for (size_t i = 0; i < a->n_hooks; i++) {
		for (size_t j = 0; j < a->hooks[i].n_scripts; j++) {
			const struct appspec_script *s = &a->hooks[i].scripts[j];
			char key[128];
			snprintf(key, sizeof(key), "hooks.%s[%zu].location", a->hooks[i].event, j);
			if (check_in_bundle(rootfd, a, s->location, s->line, s->col, key, 1, err) != 0)
				goto out;
		}
	}
	*out = a;
	a = NULL;
	rc = 0;
out:
	appspec_free(a);
	free(text_buf);
	if (fd >= 0)
		close(fd);
	close(rootfd);
	return rc;
}
