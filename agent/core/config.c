/* config.c - settings of both programs (format in config.h).
 * NOTE (engine branch): written so the agent links; if another branch lands a
 * fuller config.c, that one wins. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "exitcodes.h"
#include "fsutil.h"

/* Replaces a string field with a copy of v. */
static int set_str(char **field, const char *v)
{
	char *d = strdup(v);
	if (d == NULL)
		return -1;
	free(*field);
	*field = d;
	return 0;
}

void config_init(struct hoist_config *c)
{
	memset(c, 0, sizeof(*c));
	(void)set_str(&c->root, "");
	(void)set_str(&c->state_dir, "/var/lib/hoist");
	(void)set_str(&c->cache_dir, "");
	(void)set_str(&c->log_dir, "/var/log/hoist");
	(void)set_str(&c->agent_path, "/usr/sbin/hoist");
	(void)set_str(&c->imds_endpoint, "http://169.254.169.254");
	(void)set_str(&c->region, "");
	(void)set_str(&c->s3_endpoint, "");
	(void)set_str(&c->ca_bundle, "");
	c->imds_v1_disabled = true;
	c->imds_timeout_ms = 1000;
	c->imds_deadline_s = 20;
	c->imds_retries = 5;
	c->max_bundle_bytes = 4294967296ull;
	c->connect_timeout_s = 5;
	c->low_speed_timeout_s = 30;
	c->download_retries = 5;
	c->same_version = SAME_VERSION_SKIP;
	c->keep_revisions = 5;
	c->keep_bytes = 2147483648ull;
	c->hook_grace_s = 10;
	c->max_entries = 100000;
	c->max_extract_bytes = 8589934592ull;
	c->max_path_len = 1024;
	c->allow_setid = false;
}

/* Parses an unsigned decimal within [lo, hi]. */
static int parse_u64(const char *v, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end = NULL;
	unsigned long long x;
	if (v[0] < '0' || v[0] > '9')
		return -1;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno != 0 || *end != '\0' || x < lo || x > hi)
		return -1;
	*out = x;
	return 0;
}

static int parse_bool(const char *v, bool *out)
{
	if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcmp(v, "yes") == 0)
		*out = true;
	else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0 || strcmp(v, "no") == 0)
		*out = false;
	else
		return -1;
	return 0;
}

struct key_u {
	const char *key;
	size_t off;
	int is64;
	uint64_t lo, hi;
};
#define U(k, f, lo, hi)                                                                                      \
	{                                                                                                    \
		k, offsetof(struct hoist_config, f), 0, lo, hi                                               \
	}
#define U64(k, f, lo, hi)                                                                                    \
	{                                                                                                    \
		k, offsetof(struct hoist_config, f), 1, lo, hi                                               \
	}
static const struct key_u ukeys[] = {
    U("imds_timeout_ms", imds_timeout_ms, 1, 600000),
    U("imds_deadline_s", imds_deadline_s, 1, 3600),
    U("imds_retries", imds_retries, 0, 100),
    U64("max_bundle_bytes", max_bundle_bytes, 1, UINT64_MAX),
    U("connect_timeout_s", connect_timeout_s, 1, 3600),
    U("low_speed_timeout_s", low_speed_timeout_s, 1, 3600),
    U("download_retries", download_retries, 0, 100),
    U("keep_revisions", keep_revisions, 1, 1000),
    U64("keep_bytes", keep_bytes, 0, UINT64_MAX),
    U("hook_grace_s", hook_grace_s, 0, 3600),
    U64("max_entries", max_entries, 1, UINT64_MAX),
    U64("max_extract_bytes", max_extract_bytes, 1, UINT64_MAX),
    U("max_path_len", max_path_len, 16, 4096),
};
struct key_s {
	const char *key;
	size_t off;
};
#define S(k, f)                                                                                              \
	{                                                                                                    \
		k, offsetof(struct hoist_config, f)                                                          \
	}
static const struct key_s skeys[] = {
    S("root", root),       S("state_dir", state_dir),     S("cache_dir", cache_dir),
    S("log_dir", log_dir), S("agent_path", agent_path),   S("imds_endpoint", imds_endpoint),
    S("region", region),   S("s3_endpoint", s3_endpoint), S("ca_bundle", ca_bundle),
};

int config_set(struct hoist_config *c, const char *key, const char *value, struct herr *err)
{
	for (size_t i = 0; i < sizeof(skeys) / sizeof(skeys[0]); i++) {
		if (strcmp(key, skeys[i].key) != 0)
			continue;
		if (set_str((char **)((char *)c + skeys[i].off), value) != 0)
			return herr_set(err, HOIST_EXIT_INTERNAL, "out of memory");
		return 0;
	}
	for (size_t i = 0; i < sizeof(ukeys) / sizeof(ukeys[0]); i++) {
		uint64_t x;
		if (strcmp(key, ukeys[i].key) != 0)
			continue;
		if (parse_u64(value, ukeys[i].lo, ukeys[i].hi, &x) != 0)
			return herr_set(err, HOIST_EXIT_CONFIG, "%s: '%.100s' is not a number in %llu..%llu",
			                key, value, (unsigned long long)ukeys[i].lo,
			                (unsigned long long)ukeys[i].hi);
		if (ukeys[i].is64)
			*(uint64_t *)((char *)c + ukeys[i].off) = x;
		else
			*(unsigned *)((char *)c + ukeys[i].off) = (unsigned)(x > UINT_MAX ? UINT_MAX : x);
		return 0;
	}
	if (strcmp(key, "imds_v1_disabled") == 0 || strcmp(key, "allow_setid") == 0) {
		bool *f = key[0] == 'i' ? &c->imds_v1_disabled : &c->allow_setid;
		if (parse_bool(value, f) != 0)
			return herr_set(err, HOIST_EXIT_CONFIG, "%s: '%.100s' is not true or false", key,
			                value);
		return 0;
	}
	if (strcmp(key, "same_version") == 0) {
		if (strcmp(value, "skip") == 0)
			c->same_version = SAME_VERSION_SKIP;
		else if (strcmp(value, "redeploy") == 0)
			c->same_version = SAME_VERSION_REDEPLOY;
		else
			return herr_set(err, HOIST_EXIT_CONFIG,
			                "same_version: '%.100s' is not skip or redeploy", value);
		return 0;
	}
	return 1; /* unknown key */
}

int config_parse(struct hoist_config *c, const char *text, size_t len, const char *filename, struct herr *err)
{
	const char *p = text, *end = text + len;
	unsigned lineno = 0;
	char line[4096];

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *k, *v, *eq, *e;
		int r;
		lineno++;
		if (n >= sizeof(line))
			return herr_set(err, HOIST_EXIT_CONFIG, "%s:%u: line too long", filename, lineno);
		memcpy(line, p, n);
		line[n] = '\0';
		p += n + (nl != NULL);
		k = line + strspn(line, " \t\r");
		if (*k == '#' || *k == '\0' || *k == '\r')
			continue;
		eq = strchr(k, '=');
		if (eq == NULL)
			return herr_set(err, HOIST_EXIT_CONFIG, "%s:%u: expected 'key = value'", filename,
			                lineno);
		for (e = eq; e > k && (e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		*e = '\0';
		v = eq + 1 + strspn(eq + 1, " \t");
		for (e = v + strlen(v); e > v && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'); e--)
			;
		*e = '\0';
		if (v[0] == '"' && e > v + 1 && e[-1] == '"') {
			e[-1] = '\0';
			v++;
		}
		r = config_set(c, k, v, err);
		if (r < 0)
			return herr_prefix(err, "%s:%u", filename, lineno);
		if (r == 1 && c->n_warnings < sizeof(c->warnings) / sizeof(c->warnings[0])) {
			struct buf b;
			buf_init(&b, 256);
			if (buf_printf(&b, "%.100s (line %u)", k, lineno) == 0)
				c->warnings[c->n_warnings++] = buf_steal(&b);
			buf_free(&b);
		}
	}
	return 0;
}

int config_load_file(struct hoist_config *c, const char *path, struct herr *err)
{
	struct buf b;
	int rc;
	buf_init(&b, 1u << 20);
	if (fs_exists(path) == 0) {
		buf_free(&b);
		return 0;
	}
	rc = fs_read_file(path, 1u << 20, 0, &b, err);
	if (rc == 0)
		rc = config_parse(c, b.data ? b.data : "", b.len, path, err);
	buf_free(&b);
	return rc;
}

/* Value of NAME in envp, or NULL. */
static const char *env_get(char *const *envp, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; envp && envp[i]; i++)
		if (strncmp(envp[i], name, n) == 0 && envp[i][n] == '=')
			return envp[i] + n + 1;
	return NULL;
}

int config_apply_env(struct hoist_config *c, char *const *envp, struct herr *err)
{
	static const struct {
		const char *env;
		const char *key;
	} map[] = {
	    {"AWS_EC2_METADATA_SERVICE_ENDPOINT", "imds_endpoint"},
	    {"AWS_EC2_METADATA_V1_DISABLED", "imds_v1_disabled"},
	    {"AWS_DEFAULT_REGION", "region"},
	    {"AWS_REGION", "region"},
	    {"AWS_ENDPOINT_URL", "s3_endpoint"},
	    {"AWS_ENDPOINT_URL_S3", "s3_endpoint"},
	    {"AWS_CA_BUNDLE", "ca_bundle"},
	    {"HOIST_ROOT", "root"},
	};
	const char *v;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if ((v = env_get(envp, map[i].env)) == NULL || v[0] == '\0')
			continue;
		if (config_set(c, map[i].key, v, err) != 0)
			return herr_prefix(err, "environment %s", map[i].env);
	}
	if (((v = env_get(envp, "AWS_ACCESS_KEY_ID")) && set_str(&c->access_key_id, v) != 0) ||
	    ((v = env_get(envp, "AWS_SECRET_ACCESS_KEY")) && set_str(&c->secret_access_key, v) != 0) ||
	    ((v = env_get(envp, "AWS_SESSION_TOKEN")) && set_str(&c->session_token, v) != 0))
		return herr_set(err, HOIST_EXIT_INTERNAL, "out of memory");
	return 0;
}

int config_host_path(const struct hoist_config *c, const char *abs_path, char *out, size_t outsz)
{
	return fs_rooted(out, outsz, c->root ? c->root : "", abs_path);
}

void config_free(struct hoist_config *c)
{
	char **s[] = {&c->root,          &c->state_dir,         &c->cache_dir,
	              &c->log_dir,       &c->agent_path,        &c->imds_endpoint,
	              &c->region,        &c->s3_endpoint,       &c->ca_bundle,
	              &c->access_key_id, &c->secret_access_key, &c->session_token};
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		free(*s[i]);
		*s[i] = NULL;
	}
	for (size_t i = 0; i < c->n_warnings; i++)
		free(c->warnings[i]);
	c->n_warnings = 0;
}
