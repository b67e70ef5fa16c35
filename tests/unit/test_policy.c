/* test_policy.c - the deploy policy: parsing (vectors of good and bad files),
 * pattern matching, the default deny list, allow lists, runas, limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "exitcodes.h"
#include "herr.h"
#include "policy.h"

static int parse(struct policy *p, const char *text, struct herr *err)
{
	memset(err, 0, sizeof(*err));
	assert_int_equal(policy_init(p, "/etc/hoist/policy.conf"), 0);
	return policy_parse(p, text, strlen(text), err);
}

static void test_defaults(void **state)
{
	struct policy p;
	struct herr e;
	bool na;
	(void)state;
	assert_int_equal(parse(&p, "", &e), 0);
	assert_true(p.default_deny);
	assert_true(p.max_extract_bytes == (UINT64_C(8) << 30));
	assert_int_equal(p.max_extract_ratio, 100);
	assert_true(p.extract_floor_bytes == (UINT64_C(128) << 20));
	assert_true(p.min_free_bytes == (UINT64_C(64) << 20));
	/* the documented default deny list */
	static const char *const denied[] = {"/boot/vmlinuz", "/proc/sys/kernel/x", "/sys/x", "/dev/sda",
	                                     "/etc/shadow", "/etc/gshadow", "/etc/sudoers",
	                                     "/etc/sudoers.d/app", "/root/.ssh/authorized_keys",
	                                     "/home/bob/.ssh/authorized_keys", "/etc/ssh/ssh_host_rsa_key",
	                                     "/etc/ssh/ssh_host_ed25519_key.pub", "/etc/ld.so.preload",
	                                     "/etc/hoist/policy.conf", "/boot"};
	for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
		const struct policy_rule *r = policy_path_refused(&p, denied[i], &na);
		if (r == NULL)
			fail_msg("%s not denied by default", denied[i]);
		assert_int_equal(r->line, 0);
		assert_false(na);
	}
	static const char *const fine[] = {"/srv/app/x", "/etc/app.conf", "/etc/ssh/sshd_config.d/app.conf",
	                                   "/bootstrap", "/home/bob/app", "/devel", "/etc/shadowsocks", "/"};
	for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++)
		if (policy_path_refused(&p, fine[i], &na) != NULL)
			fail_msg("%s denied by default", fine[i]);
	assert_true(policy_runas_ok(&p, "anyone"));
	assert_true(policy_runas_ok(&p, NULL));
	assert_null(policy_allowed(&p, POLICY_ALLOW_SETID, "/usr/bin/x"));
	policy_free(&p);
}

static void test_pattern_match(void **state)
{
	static const struct {
		const char *pattern, *path;
		int want;
	} v[] = {
	    {"/srv", "/srv", 1},           {"/srv", "/srv/a/b", 1},        {"/srv", "/srvx", 0},
	    {"/srv/", "/srv/a", 0},        {"/etc/ssh/*key*", "/etc/ssh/k", 0},
	    {"/etc/ssh/*key*", "/etc/ssh/host_key", 1},                    {"/home/*/.ssh", "/home/a/.ssh/k", 1},
	    {"/home/*/.ssh", "/home/a/b/.ssh", 0},                          {"/a/*", "/a", 0},
	    {"/a/*", "/a/b/c", 1},         {"/", "/anything", 1},           {"/x", "/", 0},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (policy_pattern_match(v[i].pattern, v[i].path) != v[i].want)
			fail_msg("pattern %s path %s: want %d", v[i].pattern, v[i].path, v[i].want);
}

static void test_rules_and_lines(void **state)
{
	struct policy p;
	struct herr e;
	bool na;
	const struct policy_rule *r;
	char where[256];
	(void)state;
	assert_int_equal(parse(&p,
	                       "# the image's policy\n"
	                       "deny_path = /opt/secret\n"
	                       "allow_path = /srv\n"
	                       "allow_path = \"/opt/\"\n"
	                       "\n"
	                       "allow_runas = app  www-data\n"
	                       "allow_setid = /srv/bin/ping*\n"
	                       "allow_world_writable = /srv/spool\n"
	                       "max_extract_ratio = 20\n"
	                       "extract_floor_bytes = 16M\n"
	                       "max_extract_bytes = 2G\n"
	                       "min_free_bytes = 1024K\r\n",
	                       &e),
	                 0);
	r = policy_path_refused(&p, "/opt/secret/key", &na);
	assert_non_null(r);
	assert_false(na);
	assert_int_equal(r->line, 2);
	assert_string_equal(policy_where(&p, r->line, where, sizeof(where)), "/etc/hoist/policy.conf:2");
	assert_null(policy_path_refused(&p, "/opt/app/x", &na));
	assert_null(policy_path_refused(&p, "/srv/x", &na));
	r = policy_path_refused(&p, "/usr/local/bin/x", &na);
	assert_non_null(r);
	assert_true(na); /* not under any allow_path: the first allow_path rule names it */
	assert_int_equal(r->line, 3);
	/* the default deny list still applies inside an allowed tree */
	r = policy_path_refused(&p, "/etc/shadow", &na);
	assert_non_null(r);
	assert_int_equal(r->line, 0);
	assert_true(policy_runas_ok(&p, "app"));
	assert_true(policy_runas_ok(&p, "www-data"));
	assert_false(policy_runas_ok(&p, "root"));
	assert_false(policy_runas_ok(&p, NULL));
	assert_false(policy_runas_ok(&p, "ap"));
	assert_non_null(policy_allowed(&p, POLICY_ALLOW_SETID, "/srv/bin/ping6"));
	assert_null(policy_allowed(&p, POLICY_ALLOW_SETID, "/srv/bin/sh"));
	assert_non_null(policy_allowed(&p, POLICY_ALLOW_WORLD_WRITABLE, "/srv/spool/in"));
	assert_int_equal(p.max_extract_ratio, 20);
	assert_true(p.extract_floor_bytes == (UINT64_C(16) << 20));
	assert_true(p.max_extract_bytes == (UINT64_C(2) << 30));
	assert_true(p.min_free_bytes == (UINT64_C(1) << 20));
	assert_int_equal(p.limits_line[1], 9);
	policy_free(&p);

	assert_int_equal(parse(&p, "default_deny = false\n", &e), 0);
	assert_null(policy_path_refused(&p, "/etc/shadow", &na));
	policy_free(&p);
}

static void test_bad_files(void **state)
{
	static const struct {
		const char *text, *frag;
	} v[] = {
	    {"deny_paths = /x\n", "policy.conf:1: unknown policy key 'deny_paths'"},
	    {"\nallow_path = srv\n", "policy.conf:2: allow_path: 'srv' is not an absolute path"},
	    {"deny_path = /a/../etc\n", "not an absolute path pattern"},
	    {"deny_path = /a/?\n", "only '*' is a wildcard"},
	    {"deny_path = /a/\x01\n", "not an absolute path"},
	    {"max_extract_ratio = 0\n", "max_extract_ratio: '0' is not a ratio"},
	    {"max_extract_bytes = 8T\n", "is not a size"},
	    {"default_deny = maybe\n", "default_deny must be true or false"},
	    {"allow_runas =\n", "allow_runas needs user names"},
	    {"just words\n", "policy.conf:1: expected key = value"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct policy p;
		struct herr e;
		int rc = parse(&p, v[i].text, &e);
		if (rc == 0 || e.code != HOIST_EXIT_CONFIG || strstr(e.msg, v[i].frag) == NULL)
			fail_msg("'%s': rc %d code %d msg '%s'", v[i].text, rc, e.code, e.msg);
		policy_free(&p);
	}
	{
		struct policy p;
		struct herr e;
		char nul[] = "deny_path = /x\0\n";
		assert_int_equal(policy_init(&p, NULL), 0);
		assert_int_not_equal(policy_parse(&p, nul, sizeof(nul) - 1, &e), 0);
		assert_non_null(strstr(e.msg, "NUL"));
		policy_free(&p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_pattern_match),
	    cmocka_unit_test(test_rules_and_lines),
	    cmocka_unit_test(test_bad_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
