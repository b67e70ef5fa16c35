/* test_appspec.c - the AppSpec parser: a table of valid and invalid documents
 * (exit code, FILE:LINE:COL and message), the parsed structure of a full
 * document, the reference's quirks, and appspec_load_bundle's file checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "appspec.h"
#include "exitcodes.h"
#include "fsutil.h"
#include "herr.h"
#include "log.h"

#define HEAD "version: 0.0\nos: linux\n"
#define HOOK(ev, body) HEAD "hooks:\n  " ev ":\n    - location: scripts/a.sh\n" body

struct tcase {
	const char *name;
	const char *doc;
	int code;          /* 0 = must parse */
	const char *where; /* "appspec.yml:L:C: " prefix expected, or NULL */
	const char *frag;  /* fragment of the message */
};

static const struct tcase cases[] = {
	/* accepted, like the reference */
	{"minimal", HEAD, 0, NULL, NULL},
	{"version 0", "version: 0\nos: linux\n", 0, NULL, NULL},
	{"version 0.00 and 0x0", "version: 0.00\nos: linux\nx: 1\n", 0, NULL, NULL},
	{"version hex zero", "version: 0x0\nos: linux\n", 0, NULL, NULL},
	{"os quoted", "version: 0.0\nos: 'linux'\n", 0, NULL, NULL},
	{"unknown top key ignored", HEAD "resources: [1, 2]\nfoo: {a: b}\n", 0, NULL, NULL},
	{"null sections", HEAD "files:\npermissions:\nhooks:\nfile_exists_behavior:\n", 0, NULL, NULL},
	{"null hook ignored", HEAD "hooks:\n  BeforeInstall:\n  AfterInstall: []\n", 0, NULL, NULL},
	{"timeout 30s", HOOK("ApplicationStart", "      timeout: 30s\n"), 0, NULL, NULL},
	{"timeout quoted", HOOK("ApplicationStart", "      timeout: '45'\n"), 0, NULL, NULL},
	{"sudo accepted", HOOK("ApplicationStart", "      sudo: true\n      runas: app\n"), 0, NULL, NULL},
	{"unknown script key", HOOK("ApplicationStart", "      color: red\n"), 0, NULL, NULL},
	{"unknown key with NBSP is still just unknown", HEAD "x\xc2\xa0y: 1\n", 0, NULL, NULL},
	{"acls null", HEAD "permissions:\n  - object: /a\n    acls:\n", 0, NULL, NULL},
	{"pattern null", HEAD "permissions:\n  - object: /a\n    pattern:\n    except:\n", 0, NULL, NULL},
	{"CRLF", "version: 0.0\r\nos: linux\r\n", 0, NULL, NULL},

	/* refused, as the reference refuses */
	{"empty", "", HOIST_EXIT_BAD_BUNDLE, "appspec.yml:1:1: ", "application specification file was empty"},
	{"whitespace", "  \n\t\n", HOIST_EXIT_BAD_BUNDLE, "appspec.yml:1:1: ",
	 "application specification file was empty"},
	{"comment only", "# nothing\n", HOIST_EXIT_BAD_BUNDLE, "appspec.yml:1:1: ",
	 "application specification file was empty"},
	{"quoted version", "version: \"0.0\"\nos: linux\n", HOIST_EXIT_BAD_BUNDLE, "appspec.yml:1:10: ",
	 "version: '0.0' is quoted; write version: 0.0 without quotes"},
	{"version 1.0", "version: 1.0\nos: linux\n", HOIST_EXIT_BAD_BUNDLE, "appspec.yml:1:10: ",
	 "version: expected 0.0, got '1.0'"},
	{"version word", "version: zero\nos: linux\n", HOIST_EXIT_BAD_BUNDLE, "appspec.yml:1:10: ",
	 "got 'zero'"},
	{"version missing", "os: linux\n", HOIST_EXIT_BAD_BUNDLE, "appspec.yml:1:1: ", "version: is required"},
	{"os Linux", "version: 0.0\nos: Linux\n", HOIST_EXIT_BAD_BUNDLE, "appspec.yml:2:5: ",
	 "os: expected linux (lower case, as the reference requires), got 'Linux'"},
	{"os windows", "version: 0.0\nos: windows\n", HOIST_EXIT_BAD_BUNDLE, "appspec.yml:2:5: ", "got 'windows'"},
	{"os missing", "version: 0.0\n", HOIST_EXIT_BAD_BUNDLE, "appspec.yml:1:1: ", "os: is required"},
	{"overwrite lower case", HEAD "file_exists_behavior: overwrite\n", HOIST_EXIT_BAD_BUNDLE,
	 "appspec.yml:3:23: ", "file_exists_behavior: expected DISALLOW, OVERWRITE or RETAIN"},
	{"top is a list", "- version: 0.0\n", HOIST_EXIT_BAD_BUNDLE, "appspec.yml:1:1: ",
	 "expected a mapping with version"},
	{"files not a list", HEAD "files: app\n", HOIST_EXIT_BAD_BUNDLE, "appspec.yml:3:8: ",
	 "files: expected a list"},
	{"files no destination", HEAD "files:\n  - source: app\n", HOIST_EXIT_BAD_BUNDLE, "appspec.yml:4:5: ",
	 "files[0]: destination is required"},
	{"files no source", HEAD "files:\n  - destination: /srv\n", HOIST_EXIT_BAD_BUNDLE,
	 "appspec.yml:4:5: ", "files[0]: source is required"},
	{"files relative destination", HEAD "files:\n  - source: /\n    destination: srv/app\n",
	 HOIST_EXIT_BAD_BUNDLE, "appspec.yml:5:18: ",
	 "files[0].destination: 'srv/app' is relative; hoist requires an absolute path"},
	{"files source escapes", HEAD "files:\n  - source: app/../../etc\n    destination: /srv\n",
	 HOIST_EXIT_BAD_BUNDLE, "appspec.yml:4:13: ",
	 "files[0].source: 'app/../../etc' leaves the bundle"},
	{"files source control char", HEAD "files:\n  - source: \"a\\nb\"\n    destination: /srv\n",
	 HOIST_EXIT_BAD_BUNDLE, "appspec.yml:4:13: ", "files[0].source: contains a control character"},
	{"hook as map", HEAD "hooks:\n  BeforeInstall:\n    location: a.sh\n", HOIST_EXIT_BAD_BUNDLE,
	 "appspec.yml:5:5: ", "hooks.BeforeInstall: expected a list of scripts (each item starting with"},
	{"hook as scalar", HEAD "hooks:\n  BeforeInstall: a.sh\n", HOIST_EXIT_BAD_BUNDLE,
	 "appspec.yml:4:18: ", "hooks.BeforeInstall: expected a list of scripts, got a scalar"},
	{"hooks as list", HEAD "hooks:\n  - BeforeInstall\n", HOIST_EXIT_BAD_BUNDLE, "appspec.yml:4:3: ",
	 "hooks: expected a mapping from lifecycle event"},
	{"unknown event", HEAD "hooks:\n  BeforeInstal:\n    - location: a.sh\n", HOIST_EXIT_BAD_BUNDLE,
	 "appspec.yml:4:3: ",
	 "hooks.BeforeInstal: unknown lifecycle event (the CodeDeploy agent refuses it too: \"appspec.yml "
	 "file contains unknown lifecycle events\"); known "
	 "events: BeforeBlockTraffic, AfterBlockTraffic, ApplicationStop, BeforeInstall"},
	/* keys that only look like known ones: invisible or non-ASCII spaces (issue 9 item 11) */
	{"files indented with NBSP", HEAD "\xc2\xa0\xc2\xa0" "files:\n  - source: /\n    destination: /srv\n",
	 HOIST_EXIT_BAD_BUNDLE, "appspec.yml:3:1: ",
	 "top level: key 'files' contains U+00A0 NO-BREAK SPACE"},
	{"NBSP after the key", HEAD "hooks\xc2\xa0:\n  BeforeInstall:\n    - location: a.sh\n",
	 HOIST_EXIT_BAD_BUNDLE, "appspec.yml:3:6: ", "key 'hooks' contains U+00A0"},
	{"zero width space in a key", HEAD "files:\n  - source: /\n    desti\xe2\x80\x8bnation: /srv\n",
	 HOIST_EXIT_BAD_BUNDLE, "appspec.yml:5:10: ", "key 'destination' contains U+200B ZERO WIDTH SPACE"},
	{"ideographic space in an event", HEAD "hooks:\n  \xe3\x80\x80" "BeforeInstall:\n    - location: a.sh\n",
	 HOIST_EXIT_BAD_BUNDLE, "appspec.yml:4:3: ", "key 'BeforeInstall' contains U+3000 IDEOGRAPHIC SPACE"},
	{"BOM inside a script key", HOOK("ApplicationStart", "      \xef\xbb\xbf" "timeout: 3\n"),
	 HOIST_EXIT_BAD_BUNDLE, "appspec.yml:6:7: ", "key 'timeout' contains U+FEFF"},
	{"narrow NBSP in a permissions key", HEAD "permissions:\n  - object: /a\n    \xe2\x80\xaf" "owner: app\n",
	 HOIST_EXIT_BAD_BUNDLE, "appspec.yml:5:5: ", "key 'owner' contains U+202F"},
	{"Install hook", HEAD "hooks:\n  Install:\n    - location: a.sh\n", HOIST_EXIT_BAD_BUNDLE,
	 "appspec.yml:4:3: ", "Install is a built-in step"},
	{"script is a scalar", HEAD "hooks:\n  BeforeInstall:\n    - a.sh\n", HOIST_EXIT_BAD_BUNDLE,
	 "appspec.yml:5:7: ", "hooks.BeforeInstall[0]: expected a mapping with location"},
	{"location missing", HEAD "hooks:\n  BeforeInstall:\n    - timeout: 5\n", HOIST_EXIT_BAD_BUNDLE,
	 "appspec.yml:5:7: ", "hooks.BeforeInstall[0]: location is required"},
	{"location escapes", HEAD "hooks:\n  BeforeInstall:\n    - location: ../run.sh\n",
	 HOIST_EXIT_BAD_BUNDLE, "appspec.yml:5:17: ", "hooks.BeforeInstall[0].location: '../run.sh' leaves"},
	{"location root", HEAD "hooks:\n  BeforeInstall:\n    - location: /\n", HOIST_EXIT_BAD_BUNDLE,
	 "appspec.yml:5:17: ", "names the bundle root"},
	{"timeout soon", HOOK("BeforeInstall", "      timeout: soon\n"), HOIST_EXIT_BAD_BUNDLE,
	 "appspec.yml:6:16: ",
	 "hooks.BeforeInstall[0].timeout: expected a positive number of seconds, got 'soon'"},
	{"timeout zero", HOOK("BeforeInstall", "      timeout: 0\n"), HOIST_EXIT_BAD_BUNDLE,
	 "appspec.yml:6:16: ", "got '0'"},
	{"timeout negative", HOOK("BeforeInstall", "      timeout: -5\n"), HOIST_EXIT_BAD_BUNDLE,
	 "appspec.yml:6:16: ", "got '-5'"},
	{"timeout fraction", HOOK("BeforeInstall", "      timeout: 1.5\n"), HOIST_EXIT_BAD_BUNDLE,
	 "appspec.yml:6:16: ", "got '1.5'"},
	{"timeout words", HOOK("BeforeInstall", "      timeout: 30 minutes\n"), HOIST_EXIT_BAD_BUNDLE,
	 "appspec.yml:6:16: ", "got '30 minutes'"},
	{"timeout list", HOOK("BeforeInstall", "      timeout: [1]\n"), HOIST_EXIT_BAD_BUNDLE,
	 "appspec.yml:6:16: ", "got a list"},
	{"sudo maybe", HOOK("BeforeInstall", "      sudo: maybe\n"), HOIST_EXIT_BAD_BUNDLE, "appspec.yml:6:13: ",
	 "sudo: expected true or false"},
	{"runas numeric", HOOK("BeforeInstall", "      runas: 0\n"), HOIST_EXIT_BAD_BUNDLE, "appspec.yml:6:14: ",
	 "runas: numeric id '0' is not supported"},
	{"runas with space", HOOK("BeforeInstall", "      runas: a b\n"), HOIST_EXIT_BAD_BUNDLE,
	 "appspec.yml:6:14: ", "not a valid user or group name"},
	{"perm no object", HEAD "permissions:\n  - mode: 644\n", HOIST_EXIT_BAD_BUNDLE, "appspec.yml:4:5: ",
	 "permissions[0]: object is required"},
	{"perm relative object", HEAD "permissions:\n  - object: var/app\n", HOIST_EXIT_BAD_BUNDLE,
	 "appspec.yml:4:13: ", "permissions[0].object: 'var/app' is relative"},
	{"perm numeric owner", HEAD "permissions:\n  - object: /a\n    owner: 1000\n", HOIST_EXIT_BAD_BUNDLE,
	 "appspec.yml:5:12: ", "permissions[0].owner: numeric id '1000' is not supported"},
	{"perm numeric group quoted", HEAD "permissions:\n  - object: /a\n    group: '50'\n",
	 HOIST_EXIT_BAD_BUNDLE, "appspec.yml:5:12: ", "permissions[0].group: numeric id '50'"},
	{"perm mode 999", HEAD "permissions:\n  - object: /a\n    mode: 999\n", HOIST_EXIT_BAD_BUNDLE,
	 "appspec.yml:5:11: ", "permissions[0].mode: expected 1 to 4 octal digits such as 644 or 0755, got '999'"},
	{"perm mode 5 digits", HEAD "permissions:\n  - object: /a\n    mode: 10644\n", HOIST_EXIT_BAD_BUNDLE,
	 "appspec.yml:5:11: ", "got '10644'"},
	{"perm mode rwx", HEAD "permissions:\n  - object: /a\n    mode: rwxr-xr-x\n", HOIST_EXIT_BAD_BUNDLE,
	 "appspec.yml:5:11: ", "got 'rwxr-xr-x'"},
	{"perm type socket", HEAD "permissions:\n  - object: /a\n    type: [file, socket]\n",
	 HOIST_EXIT_BAD_BUNDLE, "appspec.yml:5:18: ", "permissions[0].type: expected file or directory, got 'socket'"},
	{"perm type scalar", HEAD "permissions:\n  - object: /a\n    type: file\n", HOIST_EXIT_BAD_BUNDLE,
	 "appspec.yml:5:11: ", "permissions[0].type: expected a list such as [file, directory]"},
	{"perm except scalar", HEAD "permissions:\n  - object: /a\n    except: '*.log'\n",
	 HOIST_EXIT_BAD_BUNDLE, "appspec.yml:5:13: ", "permissions[0].except: expected a list"},
	{"perm acls", HEAD "permissions:\n  - object: /a\n    acls:\n      - u:app:rw\n", HOIST_EXIT_BAD_BUNDLE,
	 "appspec.yml:5:5: ", "permissions[0].acls: not supported by hoist; use a hook script (setfacl)"},
	{"perm context", HEAD "permissions:\n  - object: /a\n    context:\n      type: httpd_t\n",
	 HOIST_EXIT_BAD_BUNDLE, "appspec.yml:5:5: ", "permissions[0].context: not supported by hoist"},

	/* YAML-level refusals */
	{"duplicate top key", HEAD "version: 0.0\n", HOIST_EXIT_BAD_BUNDLE, "appspec.yml:3:1: ",
	 "duplicate key 'version' (first at line 1)"},
	{"duplicate event", HEAD "hooks:\n  AfterInstall:\n    - location: a\n  AfterInstall:\n    - location: b\n",
	 HOIST_EXIT_BAD_BUNDLE, "appspec.yml:6:3: ", "duplicate key 'AfterInstall' (first at line 4)"},
	{"duplicate in script", HOOK("AfterInstall", "      location: b.sh\n"), HOIST_EXIT_BAD_BUNDLE,
	 "appspec.yml:6:7: ", "duplicate key 'location' (first at line 5)"},
	{"alias", HEAD "x: &a [1, 2]\ny: *a\n", HOIST_EXIT_BAD_BUNDLE, "appspec.yml:4:4: ",
	 "YAML aliases (*a) are not supported"},
	{"merge key", HEAD "hooks:\n  <<: {BeforeInstall: [{location: a}]}\n", HOIST_EXIT_BAD_BUNDLE,
	 "appspec.yml:4:3: ", "YAML merge keys (<<) are not supported"},
	{"tag", "version: !!float 0.0\nos: linux\n", HOIST_EXIT_BAD_BUNDLE, "appspec.yml:1:10: ",
	 "YAML tags (tag:yaml.org,2002:float) are not supported"},
	{"second document", HEAD "---\nversion: 0.0\n", HOIST_EXIT_BAD_BUNDLE, "appspec.yml:3:1: ",
	 "more than one YAML document"},
	{"syntax error", HEAD "hooks:\n  BeforeInstall:\n    - location: a\n   timeout: 3\n",
	 HOIST_EXIT_BAD_BUNDLE, "appspec.yml:6:", "YAML syntax error: "},
	{"unclosed quote", "version: \"0.0\nos: linux\n", HOIST_EXIT_BAD_BUNDLE, "appspec.yml:",
	 "YAML syntax error: found unexpected end of stream"},
};

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct tcase *t = &cases[i];
		struct appspec *a = NULL;
		struct herr e = {0};
		int rc = appspec_parse(t->doc, strlen(t->doc), "appspec.yml", &a, &e);
		if (t->code == 0) {
			if (rc != 0 || a == NULL)
				fail_msg("case '%s': expected success, got: %s", t->name, e.msg);
		} else {
			if (rc != -1 || a != NULL || e.code != t->code)
				fail_msg("case '%s': expected code %d, got rc %d code %d msg '%s'", t->name, t->code,
					 rc, e.code, e.msg);
			if (t->where != NULL && strncmp(e.msg, t->where, strlen(t->where)) != 0)
				fail_msg("case '%s': expected prefix '%s', got '%s'", t->name, t->where, e.msg);
			if (strstr(e.msg, t->frag) == NULL)
				fail_msg("case '%s': expected '%s' in '%s'", t->name, t->frag, e.msg);
		}
		appspec_free(a);
	}
}

static const char full[] =
	"version: 0.0\n"
	"os: linux\n"
	"file_exists_behavior: OVERWRITE\n"
	"files:\n"
	"  - source: /\n"
	"    destination: /var/www/../app//\n"
	"  - source: ./config/./app.conf\n"
	"    destination: /etc/app\n"
	"permissions:\n"
	"  - object: /var/app\n"
	"    pattern: \"*.sh\"\n"
	"    except: [a.sh, b.sh]\n"
	"    owner: app\n"
	"    group: www-data\n"
	"    mode: 0644\n"
	"    type:\n"
	"      - file\n"
	"  - object: /var/app/bin\n"
	"    mode: 4755\n"
	"hooks:\n"
	"  AfterInstall:\n"
	"    - location: scripts/install.sh\n"
	"      timeout: 30s\n"
	"      runas: app\n"
	"    - location: /scripts/second.sh\n"
	"  ApplicationStop:\n"
	"    - location: scripts/stop.sh\n"
	"      timeout: 030\n";

static void test_full_document(void **state)
{
	struct appspec *a = NULL;
	struct herr e = {0};
	const struct appspec_hook *h;
	(void)state;
	if (appspec_parse(full, sizeof(full) - 1, "appspec.yaml", &a, &e) != 0)
		fail_msg("%s", e.msg);
	assert_string_equal(a->filename, "appspec.yaml");
	assert_int_equal(a->file_exists_behavior, FEB_OVERWRITE);
	assert_int_equal(a->n_files, 2);
	assert_string_equal(a->files[0].source, "");
	assert_string_equal(a->files[0].destination, "/var/app");
	assert_int_equal(a->files[0].line, 5);
	assert_int_equal(a->files[0].col, 5);
	assert_string_equal(a->files[1].source, "config/app.conf");
	assert_string_equal(a->files[1].destination, "/etc/app");
	assert_int_equal(a->n_permissions, 2);
	assert_string_equal(a->permissions[0].object, "/var/app");
	assert_string_equal(a->permissions[0].pattern, "*.sh");
	assert_int_equal(a->permissions[0].n_except, 2);
	assert_string_equal(a->permissions[0].except[1], "b.sh");
	assert_string_equal(a->permissions[0].owner, "app");
	assert_string_equal(a->permissions[0].group, "www-data");
	/* the reference's YAML reads 0644 as 420 and uses mode 0420; hoist reads the text */
	assert_int_equal(a->permissions[0].mode, 0644);
	assert_int_equal(a->permissions[0].type_mask, PERM_TYPE_FILE);
	assert_string_equal(a->permissions[1].pattern, "**");
	assert_null(a->permissions[1].owner);
	assert_int_equal(a->permissions[1].mode, 04755);
	assert_int_equal(a->permissions[1].type_mask, PERM_TYPE_FILE | PERM_TYPE_DIRECTORY);
	assert_int_equal(a->n_hooks, 2);
	h = appspec_hook(a, "AfterInstall");
	assert_non_null(h);
	assert_int_equal(h->n_scripts, 2);
	assert_string_equal(h->scripts[0].location, "scripts/install.sh");
	assert_int_equal(h->scripts[0].timeout_s, 30);
	assert_string_equal(h->scripts[0].runas, "app");
	assert_int_equal(h->scripts[0].line, 22);
	assert_string_equal(h->scripts[1].location, "scripts/second.sh");
	assert_int_equal(h->scripts[1].timeout_s, 3600);
	assert_null(h->scripts[1].runas);
	h = appspec_hook(a, "ApplicationStop");
	assert_non_null(h);
	assert_int_equal(h->scripts[0].timeout_s, 30); /* text, not YAML 1.1 octal 24 */
	assert_null(appspec_hook(a, "BeforeInstall"));
	appspec_free(a);
}

static void test_events_order(void **state)
{
	static const char *const want[] = {"BeforeBlockTraffic", "AfterBlockTraffic", "ApplicationStop",
					   "BeforeInstall", "AfterInstall", "ApplicationStart",
					   "ValidateService", "BeforeAllowTraffic", "AfterAllowTraffic"};
	(void)state;
	assert_int_equal(appspec_n_events, 9);
	for (size_t i = 0; i < 9; i++)
		assert_string_equal(appspec_events[i], want[i]);
}

static void test_null_hook_absent(void **state)
{
	struct appspec *a = NULL;
	struct herr e = {0};
	const char *doc = HEAD "hooks:\n  BeforeInstall:\n  AfterInstall:\n    - location: x.sh\n";
	(void)state;
	assert_int_equal(appspec_parse(doc, strlen(doc), NULL, &a, &e), 0);
	assert_string_equal(a->filename, "appspec.yml");
	assert_null(appspec_hook(a, "BeforeInstall"));
	assert_non_null(appspec_hook(a, "AfterInstall"));
	assert_int_equal(a->file_exists_behavior, FEB_UNSET);
	appspec_free(a);
}

static void test_bounds(void **state)
{
	struct appspec *a = NULL;
	struct herr e = {0};
	size_t n = APPSPEC_MAX_BYTES + 1;
	char *big = malloc(n);
	char deep[400];
	size_t o = 0;
	(void)state;
	assert_non_null(big);
	memset(big, '#', n);
	memcpy(big, HEAD, strlen(HEAD));
	assert_int_equal(appspec_parse(big, n, "appspec.yml", &a, &e), -1);
	assert_int_equal(e.code, HOIST_EXIT_BAD_BUNDLE);
	assert_non_null(strstr(e.msg, "larger than 1048576 bytes"));
	free(big);
	/* deep nesting is refused before any tree is built */
	o += (size_t)snprintf(deep, sizeof(deep), HEAD "x: ");
	for (int i = 0; i < 100; i++)
		deep[o++] = '[';
	for (int i = 0; i < 100; i++)
		deep[o++] = ']';
	deep[o++] = '\n';
	assert_int_equal(appspec_parse(deep, o, "appspec.yml", &a, &e), -1);
	assert_non_null(strstr(e.msg, "nested deeper than 64 levels"));
	/* a NUL byte inside the text */
	assert_int_equal(appspec_parse("version: 0.0\nos: li\0nux\n", 24, "appspec.yml", &a, &e), -1);
	assert_int_equal(e.code, HOIST_EXIT_BAD_BUNDLE);
	assert_non_null(strstr(e.msg, "appspec.yml:2:7: YAML syntax error"));
	assert_null(a);
}

/* ---- appspec_load_bundle ---- */

static char root[64];

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/hoist-test-appspec-XXXXXX");
	assert_non_null(mkdtemp(root));
	return 0;
}

static int teardown(void **state)
{
	struct herr e = {0};
	(void)state;
	assert_int_equal(fs_rm_rf(root, &e), 0);
	return 0;
}

static void put(const char *rel, const char *content)
{
	char p[256];
	struct herr e = {0};
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	assert_int_equal(fs_write_atomic(p, content, strlen(content), 0755, &e), 0);
}

static void mk(const char *rel)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	assert_int_equal(mkdir(p, 0755), 0);
}

static void ln(const char *target, const char *rel)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	assert_int_equal(symlink(target, p), 0);
}

static void load_fails(const char *frag)
{
	struct appspec *a = NULL;
	struct herr e = {0};
	if (appspec_load_bundle(root, &a, &e) != -1 || e.code != HOIST_EXIT_BAD_BUNDLE ||
	    strstr(e.msg, frag) == NULL)
		fail_msg("expected BAD_BUNDLE with '%s', got code %d '%s'", frag, e.code, e.msg);
	assert_null(a);
}

#define SPEC                                                                                            \
	HEAD "files:\n  - source: app\n    destination: /srv/app\n  - source: conf/link.conf\n"               \
	     "    destination: /etc\nhooks:\n  AfterInstall:\n    - location: scripts/run.sh\n"

static void make_bundle(void)
{
	mk("app");
	put("app/index.html", "hi");
	mk("conf");
	ln("/etc/passwd", "conf/link.conf"); /* a source that is itself a link: fine */
	mk("scripts");
	put("scripts/run.sh", "#!/bin/sh\n");
}

static void test_load_ok_and_yaml(void **state)
{
	struct appspec *a = NULL;
	struct herr e = {0};
	char p[256];
	(void)state;
	make_bundle();
	put("appspec.yml", SPEC);
	if (appspec_load_bundle(root, &a, &e) != 0)
		fail_msg("%s", e.msg);
	assert_string_equal(a->filename, "appspec.yml");
	assert_int_equal(a->n_files, 2);
	appspec_free(a);
	a = NULL;
	/* both names: refused, naming both */
	put("appspec.yaml", SPEC);
	load_fails("both appspec.yml and appspec.yaml");
	/* only appspec.yaml */
	snprintf(p, sizeof(p), "%s/appspec.yml", root);
	assert_int_equal(unlink(p), 0);
	if (appspec_load_bundle(root, &a, &e) != 0)
		fail_msg("%s", e.msg);
	assert_string_equal(a->filename, "appspec.yaml");
	appspec_free(a);
	/* neither */
	snprintf(p, sizeof(p), "%s/appspec.yaml", root);
	assert_int_equal(unlink(p), 0);
	load_fails("no appspec.yml (or appspec.yaml)");
}

static void test_load_refusals(void **state)
{
	char p[256];
	(void)state;
	make_bundle();
	put("real.yml", SPEC);
	ln("real.yml", "appspec.yml");
	load_fails("appspec.yml is a symbolic link");
	snprintf(p, sizeof(p), "%s/appspec.yml", root);
	assert_int_equal(unlink(p), 0);
	mk("appspec.yml");
	load_fails("appspec.yml is not a regular file");
	assert_int_equal(rmdir(p), 0);

	/* a parse error carries the file name */
	put("appspec.yml", HEAD "os: linux\n");
	load_fails("appspec.yml:3:1: duplicate key 'os'");

	put("appspec.yml", HEAD "files:\n  - source: missing\n    destination: /srv\n");
	load_fails("appspec.yml:4:5: files[0].source: 'missing' does not exist in the bundle");

	ln("/etc", "etclink");
	put("appspec.yml", HEAD "files:\n  - source: etclink/passwd\n    destination: /srv\n");
	load_fails("appspec.yml:4:5: files[0].source: 'etclink/passwd' goes through the symbolic link "
		   "'etclink' in the bundle");

	put("appspec.yml", HEAD "files:\n  - source: app/index.html/x\n    destination: /srv\n");
	load_fails("'app/index.html' is not a directory");

	put("appspec.yml", HOOK("BeforeInstall", ""));
	load_fails("appspec.yml:5:7: hooks.BeforeInstall[0].location: 'scripts/a.sh' does not exist");

	ln("run.sh", "scripts/a.sh");
	load_fails("'scripts/a.sh' is a symbolic link; a hook script must be a regular file");

	put("appspec.yml", HEAD "hooks:\n  BeforeInstall:\n    - location: scripts\n");
	load_fails("'scripts' is not a regular file");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_full_document),
		cmocka_unit_test(test_events_order),
		cmocka_unit_test(test_null_hook_absent),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test_setup_teardown(test_load_ok_and_yaml, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_refusals, setup, teardown),
	};
	log_init("test_appspec", LOG_LEVEL_ERROR);
	log_set_stderr(0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
