/* policy.c - parsing and matching of the deploy policy (rules in policy.h). */
#include "policy.h"

#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitcodes.h"
#include "strutil.h"

#define POLICY_MAX_FILE (256 * 1024)
#define POLICY_MAX_VALUE 1024
#define POLICY_MAX_RULES 4096

/* Paths no bundle should write on any host: the kernel's and devices' trees,
 * the password and sudo databases, the keys that let someone log in, the
 * dynamic loader's preload list, and hoist's own settings and policy. */
const char *const policy_default_deny[] = {
    "/boot",          "/proc",          "/sys",         "/dev",
    "/etc/shadow",    "/etc/shadow-",   "/etc/gshadow", "/etc/gshadow-",
    "/etc/passwd",    "/etc/group",     "/etc/sudoers", "/etc/sudoers.d",
    "/root/.ssh",     "/home/*/.ssh",   "/etc/ssh/*key*", "/etc/ld.so.preload",
    "/etc/hoist",     NULL,
};

static const struct {
	const char *name;
	enum policy_kind kind;
} path_keys[] = {
    {"deny_path", POLICY_DENY_PATH},
    {"allow_path", POLICY_ALLOW_PATH},
    {"allow_setid", POLICY_ALLOW_SETID},
    {"allow_world_writable", POLICY_ALLOW_WORLD_WRITABLE},
    {"allow_runas", POLICY_ALLOW_RUNAS},
};

const char *policy_kind_name(enum policy_kind kind)
{
	for (size_t i = 0; i < sizeof(path_keys) / sizeof(path_keys[0]); i++)
		if (path_keys[i].kind == kind)
			return path_keys[i].name;
	return "?";
}

int policy_init(struct policy *p, const char *file)
{
	memset(p, 0, sizeof(*p));
	p->file = strdup(file != NULL ? file : HOIST_DEFAULT_POLICY);
	p->default_deny = true;
	p->max_extract_bytes = UINT64_C(8) << 30;
	p->max_extract_ratio = 100;
	p->extract_floor_bytes = UINT64_C(128) << 20;
	p->min_free_bytes = UINT64_C(64) << 20;
	return p->file != NULL ? 0 : -1;
}

void policy_free(struct policy *p)
{
	for (size_t i = 0; i < p->n_rules; i++)
		free(p->rules[i].value);
	free(p->rules);
	free(p->file);
	memset(p, 0, sizeof(*p));
}

/* Digits with an optional K/M/G suffix (powers of 1024); -1 when malformed or too large. */
static int parse_size(const char *s, uint64_t *v)
{
	unsigned shift = 0;
	size_t n = 0;
	*v = 0;
	for (; s[n] >= '0' && s[n] <= '9'; n++) {
		unsigned d = (unsigned)(s[n] - '0');
		if (*v > (UINT64_MAX - d) / 10)
			return -1;
		*v = *v * 10 + d;
	}
	if (n == 0)
		return -1;
	if (strcmp(s + n, "K") == 0 || strcmp(s + n, "KiB") == 0)
		shift = 10;
	else if (strcmp(s + n, "M") == 0 || strcmp(s + n, "MiB") == 0)
		shift = 20;
	else if (strcmp(s + n, "G") == 0 || strcmp(s + n, "GiB") == 0)
		shift = 30;
	else if (s[n] != '\0')
		return -1;
	if (shift > 0 && *v > (UINT64_MAX >> shift))
		return -1;
	*v <<= shift;
	return 0;
}

/* A pattern is absolute, printable, has no "." or ".." component and no
 * fnmatch class or escape (only '*' is special, like appspec globs). */
static int pattern_ok(const char *s)
{
	if (s[0] != '/' || !str_printable(s) || strpbrk(s, "?[]\\") != NULL)
		return 0;
	for (const char *c = s; *c != '\0';) {
		size_t n;
		while (*c == '/')
			c++;
		n = strcspn(c, "/");
		if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return 0;
		c += n;
	}
	return 1;
}

static int add_rule(struct policy *p, enum policy_kind kind, const char *v, size_t n, unsigned line,
                    struct herr *err)
{
	struct policy_rule *nr;
	if (p->n_rules >= POLICY_MAX_RULES)
		return herr_set(err, HOIST_EXIT_CONFIG, "%s:%u: more than %d rules", p->file, line,
		                POLICY_MAX_RULES);
	nr = realloc(p->rules, (p->n_rules + 1) * sizeof(*nr));
	if (nr == NULL)
		return herr_set(err, HOIST_EXIT_INTERNAL, "out of memory reading %s", p->file);
	p->rules = nr;
	nr = &p->rules[p->n_rules];
	nr->kind = kind;
	nr->line = line;
	nr->value = strndup(v, n);
	if (nr->value == NULL)
		return herr_set(err, HOIST_EXIT_INTERNAL, "out of memory reading %s", p->file);
	p->n_rules++;
	return 0;
}

/* One "key = value" line; value already unquoted. */
static int apply(struct policy *p, const char *key, const char *value, unsigned line, struct herr *err)
{
	static const char *const limits[] = {"max_extract_bytes", "max_extract_ratio", "extract_floor_bytes",
	                                     "min_free_bytes"};
	for (size_t i = 0; i < sizeof(path_keys) / sizeof(path_keys[0]); i++) {
		if (strcmp(key, path_keys[i].name) != 0)
			continue;
		if (path_keys[i].kind == POLICY_ALLOW_RUNAS) {
			/* names separated by spaces; each one a rule of its own */
			const char *s = value;
			if (*s == '\0')
				return herr_set(err, HOIST_EXIT_CONFIG, "%s:%u: allow_runas needs user names",
				                p->file, line);
			while (*s != '\0') {
				size_t n = strcspn(s, " \t");
				if (n > 0 && add_rule(p, POLICY_ALLOW_RUNAS, s, n, line, err) != 0)
					return -1;
				s += n;
				s += strspn(s, " \t");
			}
			return 0;
		}
		if (!pattern_ok(value))
			return herr_set(err, HOIST_EXIT_CONFIG,
			                "%s:%u: %s: '%s' is not an absolute path pattern (only '*' is a "
			                "wildcard; no '.' or '..' components)",
			                p->file, line, key, value);
		/* "/srv/" is "/srv": a trailing slash would otherwise never match */
		size_t n = strlen(value);
		while (n > 1 && value[n - 1] == '/')
			n--;
		return add_rule(p, path_keys[i].kind, value, n, line, err);
	}
	if (strcmp(key, "default_deny") == 0) {
		if (strcmp(value, "true") == 0 || strcmp(value, "yes") == 0)
			p->default_deny = true;
		else if (strcmp(value, "false") == 0 || strcmp(value, "no") == 0)
			p->default_deny = false;
		else
			return herr_set(err, HOIST_EXIT_CONFIG, "%s:%u: default_deny must be true or false",
			                p->file, line);
		p->default_deny_line = line;
		return 0;
	}
	for (size_t i = 0; i < 4; i++) {
		uint64_t v;
		if (strcmp(key, limits[i]) != 0)
			continue;
		if (parse_size(value, &v) != 0 || (i == 1 && (v == 0 || v > 1000000)))
			return herr_set(err, HOIST_EXIT_CONFIG, "%s:%u: %s: '%s' is not a %s", p->file, line,
			                key, value, i == 1 ? "ratio from 1 to 1000000" : "size (digits, K, M, G)");
		if (i == 0)
			p->max_extract_bytes = v;
		else if (i == 1)
			p->max_extract_ratio = (unsigned)v;
		else if (i == 2)
			p->extract_floor_bytes = v;
		else
			p->min_free_bytes = v;
		p->limits_line[i] = line;
		return 0;
	}
	return herr_set(err, HOIST_EXIT_CONFIG,
	                "%s:%u: unknown policy key '%s' (a policy refuses what it does not understand)",
	                p->file, line, key);
}

int policy_parse(struct policy *p, const char *text, size_t len, struct herr *err)
{
	const char *s = text, *end = text + len;
	unsigned line = 0;

	if (len > POLICY_MAX_FILE)
		return herr_set(err, HOIST_EXIT_CONFIG, "%s: larger than %d bytes", p->file, POLICY_MAX_FILE);
	if (len > 0 && memchr(text, '\0', len) != NULL)
		return herr_set(err, HOIST_EXIT_CONFIG, "%s: contains a NUL byte", p->file);
	if (len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *ls = s, *le = nl ? nl : end, *eq, *ke, *vs;
		char key[64], value[POLICY_MAX_VALUE + 1];
		s = nl ? nl + 1 : end;
		line++;
		while (ls < le && (*ls == ' ' || *ls == '\t'))
			ls++;
		while (le > ls && (le[-1] == ' ' || le[-1] == '\t' || le[-1] == '\r'))
			le--;
		if (ls == le || *ls == '#')
			continue;
		eq = memchr(ls, '=', (size_t)(le - ls));
		if (eq == NULL)
			return herr_set(err, HOIST_EXIT_CONFIG, "%s:%u: expected key = value", p->file, line);
		ke = eq;
		while (ke > ls && (ke[-1] == ' ' || ke[-1] == '\t'))
			ke--;
		vs = eq + 1;
		while (vs < le && (*vs == ' ' || *vs == '\t'))
			vs++;
		if (ke == ls || (size_t)(ke - ls) >= sizeof(key))
			return herr_set(err, HOIST_EXIT_CONFIG, "%s:%u: missing or overlong key", p->file, line);
		if (le - vs >= 2 && *vs == '"' && le[-1] == '"') {
			vs++;
			le--;
		}
		if ((size_t)(le - vs) > POLICY_MAX_VALUE)
			return herr_set(err, HOIST_EXIT_CONFIG, "%s:%u: value longer than %d bytes", p->file,
			                line, POLICY_MAX_VALUE);
		memcpy(key, ls, (size_t)(ke - ls));
		key[ke - ls] = '\0';
		memcpy(value, vs, (size_t)(le - vs));
		value[le - vs] = '\0';
		if (apply(p, key, value, line, err) != 0)
			return -1;
	}
	return 0;
}

int policy_pattern_match(const char *pattern, const char *path)
{
	char prefix[PATH_MAX];
	size_t len = strlen(path);
	if (len >= sizeof(prefix))
		return 0;
	/* the path itself, then each ancestor ("/a/b/c", "/a/b", "/a") */
	memcpy(prefix, path, len + 1);
	while (len > 1) {
		if (fnmatch(pattern, prefix, FNM_PATHNAME) == 0)
			return 1;
		while (len > 0 && prefix[len - 1] != '/')
			len--;
		if (len > 1)
			len--; /* drop the slash, but keep "/" itself */
		prefix[len] = '\0';
	}
	return strcmp(pattern, "/") == 0;
}

const struct policy_rule *policy_path_refused(const struct policy *p, const char *path, bool *not_allowed)
{
	static struct policy_rule builtin[sizeof(policy_default_deny) / sizeof(policy_default_deny[0])];
	const struct policy_rule *first_allow = NULL;
	bool allowed = false;

	*not_allowed = false;
	if (p->default_deny) {
		for (size_t i = 0; policy_default_deny[i] != NULL; i++) {
			if (policy_pattern_match(policy_default_deny[i], path)) {
				builtin[i].kind = POLICY_DENY_PATH;
				builtin[i].value = (char *)(uintptr_t)policy_default_deny[i];
				builtin[i].line = 0;
				return &builtin[i];
			}
		}
	}
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct policy_rule *r = &p->rules[i];
		if (r->kind == POLICY_DENY_PATH && policy_pattern_match(r->value, path))
			return r;
		if (r->kind == POLICY_ALLOW_PATH) {
			if (first_allow == NULL)
				first_allow = r;
			if (policy_pattern_match(r->value, path))
				allowed = true;
		}
	}
	if (first_allow != NULL && !allowed) {
		*not_allowed = true;
		return first_allow;
	}
	return NULL;
}

const struct policy_rule *policy_allowed(const struct policy *p, enum policy_kind kind, const char *path)
{
	for (size_t i = 0; i < p->n_rules; i++)
		if (p->rules[i].kind == kind && policy_pattern_match(p->rules[i].value, path))
			return &p->rules[i];
	return NULL;
}

int policy_runas_ok(const struct policy *p, const char *user)
{
	bool any = false;
	const char *u = user != NULL ? user : "root";
	for (size_t i = 0; i < p->n_rules; i++) {
		if (p->rules[i].kind != POLICY_ALLOW_RUNAS)
			continue;
		any = true;
		if (strcmp(p->rules[i].value, u) == 0)
			return 1;
	}
	return !any;
}

const char *policy_where(const struct policy *p, unsigned line, char *out, size_t outsz)
{
	if (line == 0)
		snprintf(out, outsz, "built-in default deny list; default_deny = false in %s drops it",
		         p->file);
	else
		snprintf(out, outsz, "%s:%u", p->file, line);
	return out;
}
