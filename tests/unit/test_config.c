/* test_config.c - hoist.conf parsing, value checks, environment mapping and
 * precedence, defaults, and the derived cache_dir. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "exitcodes.h"
#include "herr.h"

/* envp entries are char *; the literals are never written to. */
#define E(s) ((char *)(uintptr_t)(s))

/* Parses text into a fresh config (the caller frees); returns config_parse's result. */
static int parse(struct hoist_config *c, const char *text, struct herr *err)
{
	config_init(c);
	memset(err, 0, sizeof(*err));
	return config_parse(c, text, strlen(text), "hoist.conf", err);
}

static void test_defaults(void **state)
{
	struct hoist_config c;
	(void)state;
	config_init(&c);
	assert_string_equal(c.root, "");
	assert_string_equal(c.state_dir, "/var/lib/hoist");
	assert_string_equal(c.cache_dir, "/var/lib/hoist/bundles");
	assert_string_equal(c.log_dir, "/var/log/hoist");
	assert_string_equal(c.agent_path, "/usr/sbin/hoist");
	assert_string_equal(c.imds_endpoint, "http://169.254.169.254");
	assert_true(c.imds_v1_disabled);
	assert_int_equal(c.imds_timeout_ms, 1000);
	assert_int_equal(c.imds_deadline_s, 20);
	assert_int_equal(c.imds_retries, 5);
	assert_string_equal(c.region, "");
	assert_string_equal(c.s3_endpoint, "");
	assert_string_equal(c.ca_bundle, "");
	assert_true(c.max_bundle_bytes == 4294967296ULL);
	assert_int_equal(c.connect_timeout_s, 5);
	assert_int_equal(c.low_speed_timeout_s, 30);
	assert_int_equal(c.low_speed_bytes_s, 1024);
	assert_int_equal(c.download_deadline_s, 3600);
	assert_int_equal(c.download_retries, 5);
	assert_null(c.access_key_id);
	assert_null(c.secret_access_key);
	assert_null(c.session_token);
	assert_int_equal(c.same_version, SAME_VERSION_SKIP);
	assert_int_equal(c.keep_revisions, 5);
	assert_true(c.keep_bytes == 2147483648ULL);
	assert_int_equal(c.hook_grace_s, 10);
	assert_true(c.max_entries == 100000);
	assert_true(c.max_extract_bytes == 8589934592ULL);
	assert_int_equal(c.max_path_len, 1024);
	assert_false(c.allow_setid);
	assert_int_equal(c.n_warnings, 0);
	config_free(&c);
}

/* Every key in one file, with comments, blank lines, quotes, CRLF and spacing. */
static void test_every_key(void **state)
{
	const char *text = "\xef\xbb\xbf# hoist.conf\n"
	                   "root = /srv/root\n"
	                   "state_dir=/data/hoist\r\n"
	                   "cache_dir = \"/cache/b\"\n"
	                   "log_dir = /data/log\n"
	                   "\n"
	                   "   # indented comment\n"
	                   "agent_path = /opt/hoist/bin/hoist\n"
	                   "imds_endpoint = http://127.0.0.1:8080\n"
	                   "imds_v1_disabled = no\n"
	                   "imds_timeout_ms = 250\n"
	                   "imds_deadline_s = 7\n"
	                   "imds_retries = 0\n"
	                   "region = eu-central-1\n"
	                   "s3_endpoint = https://s3.local:9000\n"
	                   "ca_bundle = /etc/ssl/ca.pem\n"
	                   "max_bundle_bytes = 512MiB\n"
	                   "connect_timeout_s = 3\n"
	                   "low_speed_timeout_s = 60\n"
	                   "download_retries = 2\n"
	                   "same_version = redeploy\n"
	                   "keep_revisions = 3\n"
	                   "keep_bytes = 1G\n"
	                   "hook_grace_s = 0\n"
	                   "max_entries = 5000\n"
	                   "max_extract_bytes = 16GiB\n"
	                   "max_path_len = 512\n"
	                   "allow_setid = yes\n";
	struct hoist_config c;
	struct herr err;
	(void)state;
	if (parse(&c, text, &err) != 0)
		fail_msg("%s", err.msg);
	assert_string_equal(c.root, "/srv/root");
	assert_string_equal(c.state_dir, "/data/hoist");
	assert_string_equal(c.cache_dir, "/cache/b");
	assert_string_equal(c.log_dir, "/data/log");
	assert_string_equal(c.agent_path, "/opt/hoist/bin/hoist");
	assert_string_equal(c.imds_endpoint, "http://127.0.0.1:8080");
	assert_false(c.imds_v1_disabled);
	assert_int_equal(c.imds_timeout_ms, 250);
	assert_int_equal(c.imds_deadline_s, 7);
	assert_int_equal(c.imds_retries, 0);
	assert_string_equal(c.region, "eu-central-1");
	assert_string_equal(c.s3_endpoint, "https://s3.local:9000");
	assert_string_equal(c.ca_bundle, "/etc/ssl/ca.pem");
	assert_true(c.max_bundle_bytes == 512ULL << 20);
	assert_int_equal(c.connect_timeout_s, 3);
	assert_int_equal(c.low_speed_timeout_s, 60);
	assert_int_equal(c.download_retries, 2);
	assert_int_equal(c.same_version, SAME_VERSION_REDEPLOY);
	assert_int_equal(c.keep_revisions, 3);
	assert_true(c.keep_bytes == 1ULL << 30);
	assert_int_equal(c.hook_grace_s, 0);
	assert_true(c.max_entries == 5000);
	assert_true(c.max_extract_bytes == 16ULL << 30);
	assert_int_equal(c.max_path_len, 512);
	assert_true(c.allow_setid);
	assert_int_equal(c.n_warnings, 0);
	config_free(&c);
}

/* Accepted spellings of booleans and sizes. */
static void test_value_forms(void **state)
{
	static const struct {
		const char *v;
		uint64_t want;
	} sizes[] = {
	    {"1", 1},
	    {"4K", 4096},
	    {"4KiB", 4096},
	    {"3M", 3 << 20},
	    {"3MiB", 3 << 20},
	    {"2G", 2ULL << 30},
	    {"2GiB", 2ULL << 30},
	    {"17179869183G", 17179869183ULL << 30},
	    {"18446744073709551615", UINT64_MAX},
	};
	static const struct {
		const char *v;
		bool want;
	} bools[] = {{"true", 1}, {"yes", 1}, {"1", 1}, {"false", 0}, {"no", 0}, {"0", 0}};
	struct hoist_config c;
	struct herr err = {0};
	(void)state;
	config_init(&c);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		assert_int_equal(config_set(&c, "max_bundle_bytes", sizes[i].v, &err), 0);
		assert_true(c.max_bundle_bytes == sizes[i].want);
	}
	for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
		assert_int_equal(config_set(&c, "allow_setid", bools[i].v, &err), 0);
		assert_int_equal(c.allow_setid, bools[i].want);
	}
	assert_int_equal(config_set(&c, "imds_retries", "4294967295", &err), 0);
	assert_true(c.imds_retries == 4294967295U);
	assert_int_equal(config_set(&c, "same_version", "skip", &err), 0);
	assert_int_equal(c.same_version, SAME_VERSION_SKIP);
	assert_int_equal(config_set(&c, "ca_bundle", "", &err), 0); /* "" = none */
	assert_string_equal(c.ca_bundle, "");
	assert_int_equal(config_set(&c, "s3_endpoint", "", &err), 0);
	assert_int_equal(config_set(&c, "root", "", &err), 0);
	assert_int_equal(config_set(&c, "keep_bytes", "0", &err), 0);
	config_free(&c);
}

/* The exact message of the documented example. */
static void test_message_format(void **state)
{
	struct hoist_config c;
	struct herr err;
	(void)state;
	assert_int_equal(parse(&c, "# a\n\nregion = us-east-1\n\n\n\nimds_timeout_ms = fast\n", &err), -1);
	assert_int_equal(err.code, HOIST_EXIT_CONFIG);
	assert_string_equal(
	    err.msg, "hoist.conf line 7: imds_timeout_ms: expected a number of milliseconds, got 'fast'");
	config_free(&c);
}

/* Every bad value: exit code 3, and the message names line, key and problem. */
static void test_bad_values(void **state)
{
	static const struct {
		const char *key, *value, *frag;
	} t[] = {
	    {"root", "relative/root", "expected an absolute path"},
	    {"state_dir", "", "expected an absolute path, got ''"},
	    {"state_dir", "var/lib/hoist", "expected an absolute path"},
	    {"cache_dir", "./b", "expected an absolute path"},
	    {"log_dir", "~/log", "expected an absolute path"},
	    {"agent_path", "hoist", "expected an absolute path"},
	    {"ca_bundle", "ca.pem", "expected an absolute path or \"\""},
	    {"imds_endpoint", "169.254.169.254", "expected an http:// or https:// URL"},
	    {"imds_endpoint", "ftp://x", "expected an http:// or https:// URL"},
	    {"imds_endpoint", "http://", "expected an http:// or https:// URL"},
	    {"imds_endpoint", "", "expected an http:// or https:// URL"},
	    {"s3_endpoint", "https://a b", "expected an http:// or https:// URL"},
	    {"s3_endpoint", "HTTPS://s3", "expected an http:// or https:// URL"},
	    {"region", "US-EAST-1", "expected a region like us-east-1"},
	    {"region", "us east 1", "expected a region like us-east-1"},
	    {"region", "-us", "expected a region"},
	    {"imds_v1_disabled", "TRUE", "expected true or false"},
	    {"allow_setid", "on", "expected true or false"},
	    {"allow_setid", "", "expected true or false"},
	    {"imds_timeout_ms", "fast", "expected a number of milliseconds, got 'fast'"},
	    {"imds_timeout_ms", "0", "must be at least 1"},
	    {"imds_timeout_ms", "-5", "expected a number of milliseconds"},
	    {"imds_timeout_ms", "1.5", "expected a number of milliseconds"},
	    {"imds_timeout_ms", "10ms", "expected a number of milliseconds"},
	    {"imds_deadline_s", "0", "must be at least 1"},
	    {"imds_deadline_s", "", "expected a number of seconds"},
	    {"imds_retries", "4294967296", "is too large (at most 4294967295)"},
	    {"imds_retries", "+1", "expected a whole number"},
	    {"connect_timeout_s", "99999999999999999999999", "is too large"},
	    {"low_speed_timeout_s", "1e3", "expected a number of seconds"},
	    {"download_retries", "five", "expected a whole number"},
	    {"low_speed_bytes_s", "0", "must be at least 1"},
	    {"download_deadline_s", "1h", "expected a number of seconds"},
	    {"keep_revisions", "0", "must be at least 1"},
	    {"hook_grace_s", "10s", "expected a number of seconds"},
	    {"max_path_len", "0x400", "expected a whole number"},
	    {"max_entries", "18446744073709551616", "is too large"},
	    {"max_entries", "1K", "expected a whole number"},
	    {"max_bundle_bytes", "4 GiB", "expected a size in bytes"},
	    {"max_bundle_bytes", "4k", "expected a size in bytes"},
	    {"max_bundle_bytes", "4KB", "expected a size in bytes"},
	    {"max_bundle_bytes", "4T", "expected a size in bytes"},
	    {"max_bundle_bytes", "G", "expected a size in bytes"},
	    {"max_bundle_bytes", "-1", "expected a size in bytes"},
	    {"max_bundle_bytes", "0", "must be at least 1"},
	    {"max_bundle_bytes", "17179869184G", "is too large"},
	    {"keep_bytes", "18446744073709551616", "is too large"},
	    {"max_extract_bytes", "1.5G", "expected a size in bytes"},
	    {"same_version", "Skip", "expected skip or redeploy"},
	    {"same_version", "always", "expected skip or redeploy"},
	};
	char text[512], frag[256];
	struct hoist_config c;
	struct herr err;
	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(text, sizeof(text), "# comment\n\n%s = %s\n", t[i].key, t[i].value);
		if (parse(&c, text, &err) == 0)
			fail_msg("accepted %s = %s", t[i].key, t[i].value);
		assert_int_equal(err.code, HOIST_EXIT_CONFIG);
		snprintf(frag, sizeof(frag), "hoist.conf line 3: %s: ", t[i].key);
		if (strncmp(err.msg, frag, strlen(frag)) != 0 || strstr(err.msg, t[i].frag) == NULL)
			fail_msg("%s = %s: message \"%s\" lacks \"%s\" / \"%s\"", t[i].key, t[i].value,
			         err.msg, frag, t[i].frag);
		config_free(&c);
	}
}

/* Structure errors in the file itself. */
static void test_bad_lines(void **state)
{
	static const struct {
		const char *text, *msg;
	} t[] = {
	    {"region = us-east-1\nthis line has no equals\n", "hoist.conf line 2: expected key = value"},
	    {"= value\n", "hoist.conf line 1: missing or overlong key"},
	    {"Region = us-east-1\n",
	     "hoist.conf line 1: key 'Region' has characters other than a-z, 0-9 and _"},
	    {"imds retries = 3\n", "hoist.conf line 1: key 'imds retries' has characters"},
	    {"region = us-east-1\n# x\nstate_dir = /a\n\nregion = eu-west-1\n",
	     "hoist.conf line 5: region: duplicate key (also on line 1)"},
	};
	struct hoist_config c;
	struct herr err;
	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(parse(&c, t[i].text, &err), -1);
		assert_int_equal(err.code, HOIST_EXIT_CONFIG);
		if (strncmp(err.msg, t[i].msg, strlen(t[i].msg)) != 0)
			fail_msg("got \"%s\" want \"%s\"", err.msg, t[i].msg);
		config_free(&c);
	}
	/* a NUL byte in the file */
	config_init(&c);
	assert_int_equal(config_parse(&c, "region = a\0b\n", 13, "x.conf", &err), -1);
	assert_non_null(strstr(err.msg, "x.conf: contains a NUL byte"));
	config_free(&c);
}

/* Unknown keys are warnings with their line, never errors; at most 16 are kept. */
static void test_unknown_keys_warn(void **state)
{
	struct hoist_config c;
	struct herr err;
	char text[2048];
	size_t off = 0;
	(void)state;
	assert_int_equal(parse(&c, "region = us-east-1\n\ncolour = blue\nfuture_key = 1\n", &err), 0);
	assert_int_equal(c.n_warnings, 2);
	assert_string_equal(c.warnings[0], "colour (line 3)");
	assert_string_equal(c.warnings[1], "future_key (line 4)");
	assert_string_equal(c.region, "us-east-1");
	config_free(&c);
	for (int i = 0; i < 40; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off, "k%d = v\n", i);
	assert_int_equal(parse(&c, text, &err), 0);
	assert_int_equal(c.n_warnings, 16);
	assert_string_equal(c.warnings[15], "k15 (line 16)");
	config_free(&c);
	/* config_set (flags) refuses unknown keys: a typo on the command line is an error */
	config_init(&c);
	assert_int_equal(config_set(&c, "regoin", "x", &err), -1);
	assert_int_equal(err.code, HOIST_EXIT_CONFIG);
	assert_non_null(strstr(err.msg, "unknown setting 'regoin'"));
	config_free(&c);
}

/* cache_dir follows state_dir unless it was set itself, whatever the order. */
static void test_cache_dir_derived(void **state)
{
	struct hoist_config c;
	struct herr err;
	(void)state;
	assert_int_equal(parse(&c, "state_dir = /data/h\n", &err), 0);
	assert_string_equal(c.cache_dir, "/data/h/bundles");
	config_free(&c);
	assert_int_equal(parse(&c, "state_dir = /data/h/\n", &err), 0);
	assert_string_equal(c.cache_dir, "/data/h/bundles");
	config_free(&c);
	assert_int_equal(parse(&c, "cache_dir = /c\nstate_dir = /data/h\n", &err), 0);
	assert_string_equal(c.cache_dir, "/c");
	config_free(&c);
	assert_int_equal(parse(&c, "state_dir = /data/h\ncache_dir = /c\n", &err), 0);
	assert_string_equal(c.cache_dir, "/c");
	/* a later --state-dir flag moves a derived cache_dir only */
	config_free(&c);
	assert_int_equal(parse(&c, "state_dir = /data/h\n", &err), 0);
	assert_int_equal(config_set(&c, "state_dir", "/other", &err), 0);
	assert_string_equal(c.cache_dir, "/other/bundles");
	config_free(&c);
}

static void test_missing_file_is_defaults(void **state)
{
	struct hoist_config c;
	struct herr err = {0};
	(void)state;
	config_init(&c);
	assert_int_equal(config_load_file(&c, "/nonexistent/hoist/hoist.conf", &err), 0);
	assert_string_equal(c.state_dir, "/var/lib/hoist");
	assert_int_equal(c.imds_timeout_ms, 1000);
	config_free(&c);
}

static void test_load_file(void **state)
{
	char path[] = "/tmp/hoist-test-config-XXXXXX";
	const char *text = "state_dir = /x\nimds_retries = many\n";
	struct hoist_config c;
	struct herr err = {0};
	int fd = mkstemp(path);
	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	config_init(&c);
	assert_int_equal(config_load_file(&c, path, &err), -1);
	assert_int_equal(err.code, HOIST_EXIT_CONFIG);
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, " line 2: imds_retries: expected a whole number, got 'many'"));
	config_free(&c);
	unlink(path);
}

/* Environment: mapping, fallbacks, precedence over the file, errors naming the variable. */
static void test_env(void **state)
{
	struct hoist_config c;
	struct herr err;
	(void)state;
	{
		char *env[] = {E("PATH=/bin"),
		               E("AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:1338"),
		               E("AWS_EC2_METADATA_V1_DISABLED=False"),
		               E("AWS_DEFAULT_REGION=eu-west-3"),
		               E("AWS_REGION=ap-south-1"),
		               E("AWS_ENDPOINT_URL=http://generic:1"),
		               E("AWS_ENDPOINT_URL_S3=http://127.0.0.1:5000"),
		               E("AWS_CA_BUNDLE=/etc/ca.pem"),
		               E("AWS_ACCESS_KEY_ID=AKIDENV"),
		               E("AWS_SECRET_ACCESS_KEY=SECRETENV"),
		               E("AWS_SESSION_TOKEN=TOKENENV"),
		               E("HOIST_ROOT=/tmp/root"),
		               NULL};
		/* the file says otherwise; the environment wins */
		assert_int_equal(parse(&c,
		                       "region = us-east-1\nimds_endpoint = http://file\n"
		                       "s3_endpoint = http://file\nroot = /fileroot\n",
		                       &err),
		                 0);
		assert_int_equal(config_apply_env(&c, env, &err), 0);
		assert_string_equal(c.imds_endpoint, "http://127.0.0.1:1338");
		assert_false(c.imds_v1_disabled);
		assert_string_equal(c.region, "ap-south-1");
		assert_string_equal(c.s3_endpoint, "http://127.0.0.1:5000");
		assert_string_equal(c.ca_bundle, "/etc/ca.pem");
		assert_string_equal(c.access_key_id, "AKIDENV");
		assert_string_equal(c.secret_access_key, "SECRETENV");
		assert_string_equal(c.session_token, "TOKENENV");
		assert_string_equal(c.root, "/tmp/root");
		/* flags come last (config_set) and win over the environment */
		assert_int_equal(config_set(&c, "region", "us-west-2", &err), 0);
		assert_string_equal(c.region, "us-west-2");
		config_free(&c);
	}
	{
		char *env[] = {E("AWS_DEFAULT_REGION=eu-west-3"), E("AWS_ENDPOINT_URL=http://generic:1"),
		               E("AWS_REGION="), E("AWS_EC2_METADATA_V1_DISABLED=true"), NULL};
		assert_int_equal(parse(&c, "imds_v1_disabled = false\n", &err), 0);
		assert_int_equal(config_apply_env(&c, env, &err), 0);
		assert_string_equal(c.region, "eu-west-3"); /* empty AWS_REGION counts as unset */
		assert_string_equal(c.s3_endpoint, "http://generic:1");
		assert_true(c.imds_v1_disabled);
		assert_null(c.access_key_id);
		config_free(&c);
	}
	{
		char *env[] = {NULL};
		assert_int_equal(parse(&c, "region = us-east-1\n", &err), 0);
		assert_int_equal(config_apply_env(&c, env, &err), 0);
		assert_string_equal(c.region, "us-east-1");
		config_free(&c);
	}
}

static void test_env_errors(void **state)
{
	static const struct {
		const char *var;
		const char *frag;
	} t[] = {
	    {"AWS_EC2_METADATA_SERVICE_ENDPOINT=169.254.169.254",
	     "environment AWS_EC2_METADATA_SERVICE_ENDPOINT: imds_endpoint: expected an http:// or https:// "
	     "URL"},
	    {"AWS_EC2_METADATA_V1_DISABLED=yes",
	     "environment AWS_EC2_METADATA_V1_DISABLED: expected true or false, got 'yes'"},
	    {"AWS_REGION=Mars", "environment AWS_REGION: region: expected a region"},
	    {"AWS_DEFAULT_REGION=us_east_1", "environment AWS_DEFAULT_REGION: region:"},
	    {"AWS_ENDPOINT_URL_S3=s3.local", "environment AWS_ENDPOINT_URL_S3: s3_endpoint:"},
	    {"AWS_ENDPOINT_URL=s3.local", "environment AWS_ENDPOINT_URL: s3_endpoint:"},
	    {"AWS_CA_BUNDLE=ca.pem", "environment AWS_CA_BUNDLE: ca_bundle: expected an absolute path"},
	    {"HOIST_ROOT=relative", "environment HOIST_ROOT: root: expected an absolute path"},
	};
	struct hoist_config c;
	struct herr err;
	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *env[] = {(char *)(uintptr_t)t[i].var, NULL};
		config_init(&c);
		assert_int_equal(config_apply_env(&c, env, &err), -1);
		assert_int_equal(err.code, HOIST_EXIT_CONFIG);
		if (strstr(err.msg, t[i].frag) == NULL)
			fail_msg("%s: got \"%s\"", t[i].var, err.msg);
		config_free(&c);
	}
}

/* Half a key pair, or a token alone, is an error that never shows the values. */
static void test_env_credentials_pairing(void **state)
{
	char *only_key[] = {E("AWS_ACCESS_KEY_ID=AKIDSECRETVAL"), NULL};
	char *only_secret[] = {E("AWS_SECRET_ACCESS_KEY=SECRETVAL"), NULL};
	char *only_token[] = {E("AWS_SESSION_TOKEN=TOKENVAL"), NULL};
	char *pair[] = {E("AWS_ACCESS_KEY_ID=AKID2"), E("AWS_SECRET_ACCESS_KEY=S2"), NULL};
	struct hoist_config c;
	struct herr err;
	(void)state;
	config_init(&c);
	assert_int_equal(config_apply_env(&c, only_key, &err), -1);
	assert_int_equal(err.code, HOIST_EXIT_CONFIG);
	assert_non_null(strstr(err.msg, "AWS_ACCESS_KEY_ID is set without AWS_SECRET_ACCESS_KEY"));
	assert_null(strstr(err.msg, "AKIDSECRETVAL"));
	assert_int_equal(config_apply_env(&c, only_secret, &err), -1);
	assert_non_null(strstr(err.msg, "AWS_SECRET_ACCESS_KEY is set without AWS_ACCESS_KEY_ID"));
	assert_null(strstr(err.msg, "SECRETVAL"));
	assert_int_equal(config_apply_env(&c, only_token, &err), -1);
	assert_non_null(strstr(err.msg, "AWS_SESSION_TOKEN is set without"));
	assert_null(strstr(err.msg, "TOKENVAL"));
	assert_null(c.access_key_id);
	assert_int_equal(config_apply_env(&c, pair, &err), 0);
	assert_string_equal(c.access_key_id, "AKID2");
	assert_string_equal(c.secret_access_key, "S2");
	assert_null(c.session_token);
	config_free(&c);
}

static void test_host_path(void **state)
{
	struct hoist_config c;
	struct herr err;
	char out[64];
	(void)state;
	config_init(&c);
	assert_int_equal(config_host_path(&c, "/var/lib/hoist", out, sizeof(out)), 0);
	assert_string_equal(out, "/var/lib/hoist");
	assert_int_equal(config_set(&c, "root", "/tmp/r", &err), 0);
	assert_int_equal(config_host_path(&c, "/var/lib/hoist", out, sizeof(out)), 0);
	assert_string_equal(out, "/tmp/r/var/lib/hoist");
	assert_int_equal(config_host_path(&c, "/var/lib/hoist", out, 8), -1);
	assert_int_equal(config_host_path(&c, "relative", out, sizeof(out)), -1);
	config_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_every_key),
	    cmocka_unit_test(test_value_forms),
	    cmocka_unit_test(test_message_format),
	    cmocka_unit_test(test_bad_values),
	    cmocka_unit_test(test_bad_lines),
	    cmocka_unit_test(test_unknown_keys_warn),
	    cmocka_unit_test(test_cache_dir_derived),
	    cmocka_unit_test(test_missing_file_is_defaults),
	    cmocka_unit_test(test_load_file),
	    cmocka_unit_test(test_env),
	    cmocka_unit_test(test_env_errors),
	    cmocka_unit_test(test_env_credentials_pairing),
	    cmocka_unit_test(test_host_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
