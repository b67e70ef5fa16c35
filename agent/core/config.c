/* config.c - hoist.conf, the environment and --set overrides, in that order.
 *
 * One table describes every key (name, type, where it is stored, limits);
 * the file parser, the environment mapping and config_set all go through
 * it, so a value is checked the same way wherever it comes from. */
#include "config.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "exitcodes.h"
#include "fsutil.h"
#include "strutil.h"

#define CONFIG_MAX_FILE (64 * 1024)
#define CONFIG_MAX_VALUE 1024 /* paths, URLs */
#define CONFIG_MAX_KEYLEN 64
#define SHOW 64 /* characters of a bad value quoted in a message */

enum ktype {
	K_PATH,          /* absolute path */
	K_PATH_OR_EMPTY, /* absolute path, or "" for none */
	K_URL,           /* http:// or https:// URL */
	K_URL_OR_EMPTY,
	K_REGION, /* "" or like us-east-1 */
	K_BOOL,
	K_UINT,    /* unsigned, plain integer */
	K_SIZE,    /* uint64_t bytes, optional K/M/G/KiB/MiB/GiB */
	K_COUNT64, /* uint64_t, plain integer */
	K_SAME_VERSION,
	K_REQUIRE_SIG,
	K_TEXT, /* printable, no spaces (names, s3:// URLs checked where used) */
};

/* What the message about a bad number says was expected. */
enum kexpect { X_NONE, X_MS, X_S, X_WHOLE, X_BPS };
static const char *const EXPECT[] = {"a number", "a number of milliseconds", "a number of seconds",
                                     "a whole number", "a number of bytes per second"};

/* The name is held in place and the rest in small integers: a table of
 * pointers costs the position-independent stub a relocation per pointer
 * (docs/performance.md#stub-size). KEY() refuses to compile a name that
 * would not fit with its NUL. */
#define KEY_NAME_ROW 24
struct key {
	char name[KEY_NAME_ROW];
	uint8_t type;   /* enum ktype */
	uint16_t off;   /* offsetof the field in struct hoist_config */
	uint8_t min;    /* numbers: smallest allowed value */
	uint8_t expect; /* numbers: enum kexpect */
};
_Static_assert(sizeof(struct hoist_config) <= UINT16_MAX, "struct key's off is 16 bits");

/* A row; the sizeof of a negative-sized array is a compile error, so a name of
 * KEY_NAME_ROW characters or more (which would lose its NUL) cannot build. */
#define KEY(name, type, field, min, expect)                                                              \
	{name, type, offsetof(struct hoist_config, field),                                                 \
	 (min) + 0 * sizeof(char[sizeof(name) <= KEY_NAME_ROW ? 1 : -1]), expect}
static const struct key KEYS[] = {
    KEY("root", K_PATH_OR_EMPTY, root, 0, X_NONE),
    KEY("state_dir", K_PATH, state_dir, 0, X_NONE),
    KEY("cache_dir", K_PATH, cache_dir, 0, X_NONE),
    KEY("log_dir", K_PATH, log_dir, 0, X_NONE),
    KEY("agent_path", K_PATH, agent_path, 0, X_NONE),
    KEY("imds_endpoint", K_URL, imds_endpoint, 0, X_NONE),
    KEY("imds_v1_disabled", K_BOOL, imds_v1_disabled, 0, X_NONE),
    KEY("imds_timeout_ms", K_UINT, imds_timeout_ms, 1, X_MS),
    KEY("imds_deadline_s", K_UINT, imds_deadline_s, 1, X_S),
    KEY("imds_retries", K_UINT, imds_retries, 0, X_WHOLE),
    KEY("region", K_REGION, region, 0, X_NONE),
    KEY("s3_endpoint", K_URL_OR_EMPTY, s3_endpoint, 0, X_NONE),
    KEY("ca_bundle", K_PATH_OR_EMPTY, ca_bundle, 0, X_NONE),
    KEY("max_bundle_bytes", K_SIZE, max_bundle_bytes, 1, X_NONE),
    KEY("connect_timeout_s", K_UINT, connect_timeout_s, 1, X_S),
    KEY("low_speed_timeout_s", K_UINT, low_speed_timeout_s, 1, X_S),
    KEY("low_speed_bytes_s", K_UINT, low_speed_bytes_s, 1, X_BPS),
    KEY("download_deadline_s", K_UINT, download_deadline_s, 0, X_S),
    KEY("download_retries", K_UINT, download_retries, 0, X_WHOLE),
    KEY("same_version", K_SAME_VERSION, same_version, 0, X_NONE),
    KEY("lifecycle_hook", K_TEXT, lifecycle_hook, 0, X_NONE),
    KEY("autoscaling_group", K_TEXT, autoscaling_group, 0, X_NONE),
    KEY("autoscaling_endpoint", K_URL_OR_EMPTY, autoscaling_endpoint, 0, X_NONE),
    KEY("lifecycle_heartbeat_s", K_UINT, lifecycle_heartbeat_s, 1, X_S),
    KEY("report", K_TEXT, report, 0, X_NONE),
    KEY("notify", K_URL_OR_EMPTY, notify, 0, X_NONE),
    KEY("keep_revisions", K_UINT, keep_revisions, 1, X_WHOLE),
    KEY("keep_bytes", K_SIZE, keep_bytes, 0, X_NONE),
    KEY("hook_grace_s", K_UINT, hook_grace_s, 0, X_S),
    KEY("max_entries", K_COUNT64, max_entries, 1, X_WHOLE),
    KEY("max_extract_bytes", K_SIZE, max_extract_bytes, 1, X_NONE),
    KEY("max_path_len", K_UINT, max_path_len, 1, X_WHOLE),
    KEY("allow_setid", K_BOOL, allow_setid, 0, X_NONE),
    KEY("install_links", K_BOOL, install_links, 0, X_NONE),
    KEY("trusted_keys_dir", K_PATH, trusted_keys_dir, 0, X_NONE),
    KEY("require_signature", K_REQUIRE_SIG, require_signature, 0, X_NONE),
};
#undef KEY
#define NKEYS (sizeof(KEYS) / sizeof(KEYS[0]))

/* The string field at off. */
static char **str_field(struct hoist_config *c, size_t off)
{
	return (char **)(void *)((char *)c + off);
}

/* Replaces a string field with a copy of v; -1 on out of memory. */
static int set_str(char **field, const char *v)
{
	char *d = strdup(v);
	if (d == NULL)
		return -1;
	free(*field);
	*field = d;
	return 0;
}

/* Overwrites then frees a string that may hold a secret. */
static void wipe_free(char **p)
{
	if (*p != NULL) {
		OPENSSL_cleanse(*p, strlen(*p));
		free(*p);
		*p = NULL;
	}
}

/* Fills defaults. */
void config_init(struct hoist_config *c)
{
	memset(c, 0, sizeof(*c));
	c->root = strdup("");
	c->state_dir = strdup("/var/lib/hoist");
	c->cache_dir = strdup("/var/lib/hoist/bundles");
	c->log_dir = strdup("/var/log/hoist");
	c->agent_path = strdup("/usr/sbin/hoist");
	c->imds_endpoint = strdup("http://169.254.169.254");
	c->imds_v1_disabled = true;
	c->imds_timeout_ms = 1000;
	c->imds_deadline_s = 20;
	c->imds_retries = 5;
	c->region = strdup("");
	c->s3_endpoint = strdup("");
	c->ca_bundle = strdup("");
	c->max_bundle_bytes = UINT64_C(4) << 30;
	c->connect_timeout_s = 5;
	c->low_speed_timeout_s = 30;
	c->low_speed_bytes_s = 1024;
	c->download_deadline_s = 3600;
	c->download_retries = 5;
	c->same_version = SAME_VERSION_SKIP;
	c->lifecycle_heartbeat_s = 300;
	c->keep_revisions = 5;
	c->keep_bytes = UINT64_C(2) << 30;
	c->hook_grace_s = 10;
	c->install_links = true;
	c->max_entries = 100000;
	c->max_extract_bytes = UINT64_C(8) << 30;
	c->max_path_len = 1024;
	c->allow_setid = false;
	c->trusted_keys_dir = strdup("/etc/hoist/trusted-keys");
	c->require_signature = REQUIRE_SIG_AUTO;
}

/* 0 when config_init's allocations all succeeded. */
static int config_complete(const struct hoist_config *c, struct herr *err)
{
	if (c->root == NULL || c->state_dir == NULL || c->cache_dir == NULL || c->log_dir == NULL ||
	    c->agent_path == NULL || c->imds_endpoint == NULL || c->region == NULL ||
	    c->s3_endpoint == NULL || c->ca_bundle == NULL || c->trusted_keys_dir == NULL)
		return herr_set(err, HOIST_EXIT_INTERNAL, "configuration: out of memory");
	return 0;
}

/* Frees every string (secrets wiped first) and clears the struct. */
void config_free(struct hoist_config *c)
{
	size_t i;
	if (c == NULL)
		return;
	free(c->root);
	free(c->state_dir);
	free(c->cache_dir);
	free(c->log_dir);
	free(c->agent_path);
	free(c->imds_endpoint);
	free(c->region);
	free(c->s3_endpoint);
	free(c->ca_bundle);
	free(c->trusted_keys_dir);
	free(c->lifecycle_hook);
	free(c->autoscaling_group);
	free(c->autoscaling_endpoint);
	free(c->report);
	free(c->notify);
	free(c->access_key_id);
	wipe_free(&c->secret_access_key);
	wipe_free(&c->session_token);
	for (i = 0; i < c->n_warnings; i++)
		free(c->warnings[i]);
	memset(c, 0, sizeof(*c));
}

/* Parses a plain unsigned decimal integer into *v; -1 bad, -2 overflow. */
static int parse_u64(const char *s, size_t n, uint64_t *v)
{
	*v = 0;
	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		unsigned d = (unsigned)(s[i] - '0');
		if (*v > (UINT64_MAX - d) / 10)
			return -2;
		*v = *v * 10 + d;
	}
	return 0;
}

/* Parses a size: digits with an optional K/M/G/KiB/MiB/GiB suffix (powers of 1024). */
static int parse_size(const char *s, uint64_t *v)
{
	static const struct {
		char suffix[4]; /* in place: no relocation in the position-independent stub */
		unsigned char shift;
	} sfx[] = {{"K", 10}, {"KiB", 10}, {"M", 20}, {"MiB", 20}, {"G", 30}, {"GiB", 30}};
	size_t n = 0;
	unsigned shift = 0;
	int r;
	while (s[n] >= '0' && s[n] <= '9')
		n++;
	if (s[n] != '\0') {
		size_t i;
		for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++)
			if (strcmp(s + n, sfx[i].suffix) == 0)
				break;
		if (i == sizeof(sfx) / sizeof(sfx[0]))
			return -1;
		shift = sfx[i].shift;
	}
	if ((r = parse_u64(s, n, v)) != 0)
		return r;
	if (shift > 0 && *v > (UINT64_MAX >> shift))
		return -2;
	*v <<= shift;
	return 0;
}

/* true/false/yes/no/1/0 into *b; -1 otherwise. */
static int parse_bool(const char *s, bool *b)
{
	if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0 || strcmp(s, "1") == 0)
		*b = true;
	else if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0 || strcmp(s, "0") == 0)
		*b = false;
	else
		return -1;
	return 0;
}

/* 1 for an absolute path of bounded length without control characters. */
static int path_ok(const char *s)
{
	return s[0] == '/' && strlen(s) < CONFIG_MAX_VALUE && str_printable(s);
}

/* 1 for a region name like us-east-1 or cn-north-1: lower-case letters, digits, '-'. */
static int region_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 32 || s[0] == '-' || s[n - 1] == '-')
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
			return 0;
	return 1;
}

/* The table entry of a key, or NULL. */
static const struct key *find_key(const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(KEYS[i].name, name) == 0)
			return &KEYS[i];
	return NULL;
}

/* Checks and stores one value; messages are "KEY: expected ..., got 'VALUE'". */
static int set_value(struct hoist_config *c, const struct key *k, const char *v, struct herr *err)
{
	void *field = (char *)c + k->off;
	uint64_t n = 0;
	bool b = false;
	int r;

	switch ((enum ktype)k->type) {
	case K_PATH:
	case K_PATH_OR_EMPTY:
		if (!(k->type == K_PATH_OR_EMPTY && v[0] == '\0') && !path_ok(v))
			return herr_set(err, HOIST_EXIT_CONFIG, "%s: expected an absolute path%s, got '%.*s'",
			                k->name, k->type == K_PATH_OR_EMPTY ? " or \"\"" : "", SHOW, v);
		break;
	case K_URL:
	case K_URL_OR_EMPTY:
		if (!(k->type == K_URL_OR_EMPTY && v[0] == '\0') && !str_http_url_ok(v, CONFIG_MAX_VALUE))
			return herr_set(err, HOIST_EXIT_CONFIG,
			                "%s: expected an http:// or https:// URL, got '%.*s'", k->name, SHOW,
			                v);
		break;
	case K_TEXT:
		if (!str_printable(v) || strpbrk(v, " \t") != NULL || strlen(v) > CONFIG_MAX_VALUE)
			return herr_set(err, HOIST_EXIT_CONFIG,
			                "%s: expected a value without spaces or control characters", k->name);
		break;
	case K_REGION:
		if (v[0] != '\0' && !region_ok(v))
			return herr_set(err, HOIST_EXIT_CONFIG,
			                "%s: expected a region like us-east-1, got '%.*s'", k->name, SHOW, v);
		break;
	case K_BOOL:
		if (parse_bool(v, &b) != 0)
			return herr_set(err, HOIST_EXIT_CONFIG,
			                "%s: expected true or false (or yes/no, 1/0), got '%.*s'", k->name,
			                SHOW, v);
		*(bool *)field = b;
		return 0;
	case K_REQUIRE_SIG:
		if (strcmp(v, "auto") == 0)
			*(enum require_signature *)field = REQUIRE_SIG_AUTO;
		else if (parse_bool(v, &b) == 0)
			*(enum require_signature *)field = b ? REQUIRE_SIG_YES : REQUIRE_SIG_NO;
		else
			return herr_set(err, HOIST_EXIT_CONFIG, "%s: expected auto, yes or no, got '%.*s'",
			                k->name, SHOW, v);
		return 0;
	case K_SAME_VERSION:
		if (strcmp(v, "skip") == 0)
			*(enum same_version_policy *)field = SAME_VERSION_SKIP;
		else if (strcmp(v, "redeploy") == 0)
			*(enum same_version_policy *)field = SAME_VERSION_REDEPLOY;
		else
			return herr_set(err, HOIST_EXIT_CONFIG, "%s: expected skip or redeploy, got '%.*s'",
			                k->name, SHOW, v);
		return 0;
	case K_SIZE:
		r = parse_size(v, &n);
		if (r == -1)
			return herr_set(err, HOIST_EXIT_CONFIG,
			                "%s: expected a size in bytes (a number, optionally with K, M, G, "
			                "KiB, MiB or GiB), got '%.*s'",
			                k->name, SHOW, v);
		if (r == -2)
			return herr_set(err, HOIST_EXIT_CONFIG, "%s: '%.*s' is too large", k->name, SHOW, v);
		if (n < k->min)
			return herr_set(err, HOIST_EXIT_CONFIG, "%s: must be at least %llu, got '%.*s'",
			                k->name, (unsigned long long)k->min, SHOW, v);
		*(uint64_t *)field = n;
		return 0;
	case K_UINT:
	case K_COUNT64:
		r = parse_u64(v, strlen(v), &n);
		if (r == -1)
			return herr_set(err, HOIST_EXIT_CONFIG, "%s: expected %s, got '%.*s'", k->name,
			                EXPECT[k->expect], SHOW, v);
		if (r == -2 || (k->type == K_UINT && n > UINT_MAX))
			return herr_set(err, HOIST_EXIT_CONFIG, "%s: '%.*s' is too large (at most %llu)",
			                k->name, SHOW, v,
			                k->type == K_UINT ? (unsigned long long)UINT_MAX
			                                  : (unsigned long long)UINT64_MAX);
		if (n < k->min)
			return herr_set(err, HOIST_EXIT_CONFIG, "%s: must be at least %llu, got '%.*s'",
			                k->name, (unsigned long long)k->min, SHOW, v);
		if (k->type == K_UINT)
			*(unsigned *)field = (unsigned)n;
		else
			*(uint64_t *)field = n;
		return 0;
	}
	/* the string kinds, checked above */
	if (set_str(str_field(c, k->off), v) != 0)
		return herr_set(err, HOIST_EXIT_INTERNAL, "%s: out of memory", k->name);
	return 0;
}

/* Sets one key as the file would; state_dir also moves an underived cache_dir. */
int config_set(struct hoist_config *c, const char *key, const char *value, struct herr *err)
{
	const struct key *k = find_key(key);
	char derived[CONFIG_MAX_VALUE + 16];

	if (k == NULL)
		return herr_set(err, HOIST_EXIT_CONFIG, "unknown setting '%.*s'", SHOW, key);
	if (config_complete(c, err) != 0)
		return -1;
	if (set_value(c, k, value, err) != 0)
		return -1;
	if (strcmp(key, "cache_dir") == 0)
		c->cache_dir_set = true;
	if (strcmp(key, "state_dir") == 0 && !c->cache_dir_set) {
		if (fs_path_join(derived, sizeof(derived), c->state_dir, "bundles") != 0)
			return herr_set(err, HOIST_EXIT_CONFIG, "state_dir: path too long");
		if (set_str(&c->cache_dir, derived) != 0)
			return herr_set(err, HOIST_EXIT_INTERNAL, "cache_dir: out of memory");
	}
	return 0;
}

/* Records "key (line N)" for the caller to warn about; past 16 the rest are dropped. */
static void add_warning(struct hoist_config *c, const char *key, unsigned line)
{
	char w[CONFIG_MAX_KEYLEN + 32];
	int n;
	if (c->n_warnings >= sizeof(c->warnings) / sizeof(c->warnings[0]))
		return;
	n = snprintf(w, sizeof(w), "%s (line %u)", key, line);
	if (n < 0 || (size_t)n >= sizeof(w))
		return;
	if ((c->warnings[c->n_warnings] = strdup(w)) != NULL)
		c->n_warnings++;
}

/* Pure: applies the text of a config file; filename is for messages. */
int config_parse(struct hoist_config *c, const char *text, size_t len, const char *filename, struct herr *err)
{
	unsigned seen[NKEYS] = {0}; /* line where each key was set, 0 = not yet */
	const char *p = text, *end = text + len;
	unsigned lineno = 0;
	char key[CONFIG_MAX_KEYLEN + 1], value[CONFIG_MAX_VALUE + 1];

	if (filename == NULL)
		filename = "hoist.conf";
	if (config_complete(c, err) != 0)
		return -1;
	if (len > CONFIG_MAX_FILE)
		return herr_set(err, HOIST_EXIT_CONFIG, "%s: larger than %d bytes", filename,
		                CONFIG_MAX_FILE);
	if (len > 0 && memchr(text, '\0', len) != NULL)
		return herr_set(err, HOIST_EXIT_CONFIG, "%s: contains a NUL byte", filename);
	/* a UTF-8 byte order mark from an editor is harmless */
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	while (p < end) {
		const char *ls, *le, *ks, *ke, *vs, *ve;
		str_next_line(&p, end, &ls, &le);
		lineno++;
		str_trim(&ls, &le);
		if (ls == le || *ls == '#')
			continue;
		if (str_split_kv(ls, le, &ks, &ke, &vs, &ve) != 0)
			return herr_set(err, HOIST_EXIT_CONFIG, "%s line %u: expected key = value", filename,
			                lineno);
		if (ks == ke || (size_t)(ke - ks) > CONFIG_MAX_KEYLEN)
			return herr_set(err, HOIST_EXIT_CONFIG, "%s line %u: missing or overlong key",
			                filename, lineno);
		for (const char *q = ks; q < ke; q++)
			if (!((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '_'))
				return herr_set(
				    err, HOIST_EXIT_CONFIG,
				    "%s line %u: key '%.*s' has characters other than a-z, 0-9 and _",
				    filename, lineno, (int)(ke - ks), ks);
		memcpy(key, ks, (size_t)(ke - ks));
		key[ke - ks] = '\0';
		/* "value" in double quotes: the quotes are not part of it */
		if (ve - vs >= 2 && *vs == '"' && ve[-1] == '"') {
			vs++;
			ve--;
		}
		if ((size_t)(ve - vs) > CONFIG_MAX_VALUE)
			return herr_set(err, HOIST_EXIT_CONFIG, "%s line %u: %s: value longer than %d bytes",
			                filename, lineno, key, CONFIG_MAX_VALUE);
		memcpy(value, vs, (size_t)(ve - vs));
		value[ve - vs] = '\0';

		const struct key *k = find_key(key);
		if (k == NULL) {
			add_warning(c, key, lineno);
			continue;
		}
		size_t idx = (size_t)(k - KEYS);
		if (seen[idx] != 0)
			return herr_set(err, HOIST_EXIT_CONFIG,
			                "%s line %u: %s: duplicate key (also on line %u)", filename, lineno,
			                key, seen[idx]);
		seen[idx] = lineno;
		if (config_set(c, key, value, err) != 0)
			return herr_prefix(err, "%s line %u", filename, lineno);
	}
	return 0;
}

/* Reads path (missing -> 0, defaults kept) and applies it. */
int config_load_file(struct hoist_config *c, const char *path, struct herr *err)
{
	struct buf b;
	int rc = -1, ex;

	buf_init(&b, CONFIG_MAX_FILE);
	ex = fs_exists(path);
	if (ex == 0) {
		rc = 0;
		goto out;
	}
	if (fs_read_file(path, CONFIG_MAX_FILE, 0, &b, err) != 0)
		goto out;
	rc = config_parse(c, b.data ? b.data : "", b.len, path, err);
out:
	buf_free(&b);
	return rc;
}

/* The value of name in envp ("K=V"), NULL when absent or empty (empty means unset, as
 * the AWS SDKs treat it). */
static const char *env_get(char *const *envp, const char *name)
{
	size_t n = strlen(name);
	if (envp == NULL)
		return NULL;
	for (; *envp != NULL; envp++) {
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return (*envp)[n + 1] != '\0' ? *envp + n + 1 : NULL;
	}
	return NULL;
}

/* Sets key from environment variable var; errors name the variable. */
static int env_set(struct hoist_config *c, const char *key, const char *var, const char *v, struct herr *err)
{
	if (config_set(c, key, v, err) != 0)
		return herr_prefix(err, "environment %s", var);
	return 0;
}

/* ASCII lower-cased copy of a short value into out; -1 if it does not fit. */
static int lower_copy(const char *s, char *out, size_t outsz)
{
	size_t i;
	for (i = 0; s[i] != '\0'; i++) {
		if (i + 1 >= outsz)
			return -1;
		out[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
	}
	out[i] = '\0';
	return 0;
}

/* Pure: applies environment variables from envp ("K=V" strings, NULL-terminated). */
int config_apply_env(struct hoist_config *c, char *const *envp, struct herr *err)
{
	const char *v, *akid, *secret, *token;
	char low[8];

	if (config_complete(c, err) != 0)
		return -1;
	if ((v = env_get(envp, "HOIST_ROOT")) != NULL && env_set(c, "root", "HOIST_ROOT", v, err) != 0)
		return -1;
	if ((v = env_get(envp, "AWS_EC2_METADATA_SERVICE_ENDPOINT")) != NULL &&
	    env_set(c, "imds_endpoint", "AWS_EC2_METADATA_SERVICE_ENDPOINT", v, err) != 0)
		return -1;
	if ((v = env_get(envp, "AWS_EC2_METADATA_V1_DISABLED")) != NULL) {
		/* the SDKs take true/false in any case */
		if (lower_copy(v, low, sizeof(low)) != 0 ||
		    (strcmp(low, "true") != 0 && strcmp(low, "false") != 0))
			return herr_set(
			    err, HOIST_EXIT_CONFIG,
			    "environment AWS_EC2_METADATA_V1_DISABLED: expected true or false, got '%.*s'",
			    SHOW, v);
		c->imds_v1_disabled = strcmp(low, "true") == 0;
	}
	if ((v = env_get(envp, "AWS_REGION")) != NULL) {
		if (env_set(c, "region", "AWS_REGION", v, err) != 0)
			return -1;
	} else if ((v = env_get(envp, "AWS_DEFAULT_REGION")) != NULL &&
	           env_set(c, "region", "AWS_DEFAULT_REGION", v, err) != 0) {
		return -1;
	}
	if ((v = env_get(envp, "AWS_ENDPOINT_URL_S3")) != NULL) {
		if (env_set(c, "s3_endpoint", "AWS_ENDPOINT_URL_S3", v, err) != 0)
			return -1;
	} else if ((v = env_get(envp, "AWS_ENDPOINT_URL")) != NULL &&
	           env_set(c, "s3_endpoint", "AWS_ENDPOINT_URL", v, err) != 0) {
		return -1;
	}
	if ((v = env_get(envp, "AWS_ENDPOINT_URL_AUTO_SCALING")) != NULL &&
	    env_set(c, "autoscaling_endpoint", "AWS_ENDPOINT_URL_AUTO_SCALING", v, err) != 0)
		return -1;
	if ((v = env_get(envp, "AWS_CA_BUNDLE")) != NULL &&
	    env_set(c, "ca_bundle", "AWS_CA_BUNDLE", v, err) != 0)
		return -1;

	/* Static keys: both halves or neither; the values are secrets and never quoted. */
	akid = env_get(envp, "AWS_ACCESS_KEY_ID");
	secret = env_get(envp, "AWS_SECRET_ACCESS_KEY");
	token = env_get(envp, "AWS_SESSION_TOKEN");
	if ((akid == NULL) != (secret == NULL))
		return herr_set(err, HOIST_EXIT_CONFIG,
		                "environment: %s is set without %s (set both or neither)",
		                akid ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
		                akid ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
	if (token != NULL && akid == NULL)
		return herr_set(err, HOIST_EXIT_CONFIG,
		                "environment: AWS_SESSION_TOKEN is set without AWS_ACCESS_KEY_ID and "
		                "AWS_SECRET_ACCESS_KEY");
	if (akid != NULL) {
		wipe_free(&c->secret_access_key);
		wipe_free(&c->session_token);
		if (set_str(&c->access_key_id, akid) != 0 || set_str(&c->secret_access_key, secret) != 0 ||
		    (token != NULL && set_str(&c->session_token, token) != 0))
			return herr_set(err, HOIST_EXIT_INTERNAL, "environment: out of memory");
	}
	return 0;
}

/* Resolves a host path under root into out; -1 if it does not fit. */
int config_host_path(const struct hoist_config *c, const char *abs_path, char *out, size_t outsz)
{
	return fs_rooted(out, outsz, c->root, abs_path);
}
