/* cli.c - argument parsing of the agent (pure; tested in tests/unit/test_cli.c). */
#include "cli.h"

#include <stddef.h>
#include <string.h>

#include "exitcodes.h"
#include "strutil.h"

static const char usage_main[] =
    "usage: hoist [--config FILE] [--root DIR] [--state-dir DIR] [-v|-q] COMMAND [options]\n"
    "commands:\n"
    "  deploy     install a bundle and run its lifecycle hooks\n"
    "  rollback   redeploy a kept revision from the local cache\n"
    "  status     show the last deployment (--json for machines)\n"
    "  list       list kept revisions\n"
    "  validate   check an appspec or a bundle without deploying\n"
    "  recover    finish or roll back an interrupted deployment\n"
    "  preflight  run every check a deployment makes (policy, bundle, host), change nothing\n"
    "  --version  print the version\n"
    "'hoist COMMAND --help' describes each command. --root DIR (or HOIST_ROOT) resolves every\n"
    "host path (state, install destinations) under DIR.\n";
static const char usage_deploy[] =
    "usage: hoist deploy --bundle FILE|DIR [--version V] [--environment E] [--application A]\n"
    "                    [--deployment-group G] [--no-rollback] [--ignore-stop-failures]\n"
    "                    [--sha256 HEX] [--bundle-bucket B] [--bundle-key K] [--bundle-etag T]\n"
    "FILE is a .tar, .tar.gz/.tgz or .zip; DIR an unpacked bundle. On failure the last good\n"
    "revision is redeployed (exit 13) unless --no-rollback (exit 14).\n";
static const char usage_rollback[] =
    "usage: hoist rollback [--to V] [--no-rollback]\n"
    "Redeploys a kept revision (default: the newest good one other than current) from the\n"
    "local cache; an unknown version exits 16.\n";
static const char usage_status[] =
    "usage: hoist status [--json]\n"
    "Shows the last deployment: result, each lifecycle step, the failed hook's output tail,\n"
    "the rollback outcome, current and last-good versions.\n";
static const char usage_list[] = "usage: hoist list\nLists kept revisions: version, size, time, result; "
                                 "* marks current, + last-good.\n";
static const char usage_validate[] =
    "usage: hoist validate PATH\n"
    "Runs every check deploy makes before it touches the host (bundle, appspec, install plan,\n"
    "owners, runas users, the deploy policy, free space) on an appspec.yml or a bundle (archive\n"
    "or directory), changing nothing; exits with the code deploy would (docs/exit-codes.md).\n";
static const char usage_preflight[] =
    "usage: hoist preflight BUNDLE [--json]\n"
    "The checks of validate, one line each (or one JSON object): policy, bundle, appspec,\n"
    "installed revision, install plan, runas users, policy paths, modes, free space and\n"
    "writability. Every deployment runs the same checks before it touches the host; same\n"
    "exit codes.\n";
static const char usage_recover[] =
    "usage: hoist recover\n"
    "Completes or rolls back a deployment that was interrupted (crash, kill -9).\n";

const char *cli_usage(enum cli_command cmd)
{
	switch (cmd) {
	case CMD_DEPLOY:
		return usage_deploy;
	case CMD_ROLLBACK:
		return usage_rollback;
	case CMD_STATUS:
		return usage_status;
	case CMD_LIST:
		return usage_list;
	case CMD_VALIDATE:
		return usage_validate;
	case CMD_RECOVER:
		return usage_recover;
	case CMD_PREFLIGHT:
		return usage_preflight;
	case CMD_NONE:
		break;
	}
	return usage_main;
}

int cli_version_ok(const char *s)
{
	/* the same rule as the user-data directive's version */
	return str_safe_token(s, 128);
}

struct valopt {
	const char *name;
	enum cli_command cmd; /* CMD_NONE = global */
	size_t off;
};

#define OFF(f) offsetof(struct cli, f)
static const struct valopt valopts[] = {
    {"--config", CMD_NONE, OFF(config)},
    {"--root", CMD_NONE, OFF(root)},
    {"--state-dir", CMD_NONE, OFF(state_dir)},
    {"--bundle", CMD_DEPLOY, OFF(bundle)},
    {"--version", CMD_DEPLOY, OFF(version_name)},
    {"--environment", CMD_DEPLOY, OFF(environment)},
    {"--application", CMD_DEPLOY, OFF(application)},
    {"--deployment-group", CMD_DEPLOY, OFF(group)},
    {"--sha256", CMD_DEPLOY, OFF(sha256)},
    {"--bundle-bucket", CMD_DEPLOY, OFF(bucket)},
    {"--bundle-key", CMD_DEPLOY, OFF(key)},
    {"--bundle-etag", CMD_DEPLOY, OFF(etag)},
    {"--to", CMD_ROLLBACK, OFF(to)},
};

struct flagopt {
	const char *name;
	enum cli_command cmd;
	size_t off;
};
static const struct flagopt flagopts[] = {
    {"--no-rollback", CMD_DEPLOY, OFF(no_rollback)},
    {"--no-rollback", CMD_ROLLBACK, OFF(no_rollback)},
    {"--ignore-stop-failures", CMD_DEPLOY, OFF(ignore_stop_failures)},
    {"--json", CMD_STATUS, OFF(json)},
    {"--json", CMD_PREFLIGHT, OFF(json)},
};

static const struct {
	const char *name;
	enum cli_command cmd;
} commands[] = {
    {"deploy", CMD_DEPLOY}, {"rollback", CMD_ROLLBACK}, {"status", CMD_STATUS},
    {"list", CMD_LIST},     {"validate", CMD_VALIDATE}, {"recover", CMD_RECOVER},
    {"preflight", CMD_PREFLIGHT},
};

/* Tries arg as a valued option of scope cmd; returns 1 if consumed (advancing *i), 0 if not one. */
static int take_value(struct cli *c, enum cli_command cmd, int argc, char *const argv[], int *i,
                      struct herr *err)
{
	const char *arg = argv[*i];
	for (size_t k = 0; k < sizeof(valopts) / sizeof(valopts[0]); k++) {
		size_t n = strlen(valopts[k].name);
		const char *val;
		if (valopts[k].cmd != cmd || strncmp(arg, valopts[k].name, n) != 0)
			continue;
		if (arg[n] == '=') {
			val = arg + n + 1;
		} else if (arg[n] == '\0') {
			if (*i + 1 >= argc)
				return herr_set(err, HOIST_EXIT_USAGE, "option %s needs a value", arg);
			val = argv[++*i];
		} else {
			continue;
		}
		if (val[0] == '\0')
			return herr_set(err, HOIST_EXIT_USAGE, "option %s needs a non-empty value",
			                valopts[k].name);
		memcpy((char *)c + valopts[k].off, &val, sizeof(val));
		return 1;
	}
	return 0;
}

/* Tries arg as a boolean flag of scope cmd; 1 if consumed. */
static int take_flag(struct cli *c, enum cli_command cmd, const char *arg)
{
	for (size_t k = 0; k < sizeof(flagopts) / sizeof(flagopts[0]); k++) {
		if (flagopts[k].cmd == cmd && strcmp(arg, flagopts[k].name) == 0) {
			*(bool *)((char *)c + flagopts[k].off) = true;
			return 1;
		}
	}
	return 0;
}

int cli_parse(int argc, char *const argv[], struct cli *c, struct herr *err)
{
	const char *cmdname = NULL;
	int i = 1;
	int r;

	memset(c, 0, sizeof(*c));
	/* Global options come before the command. */
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if ((r = take_value(c, CMD_NONE, argc, argv, &i, err)) < 0)
			return -1;
		if (r == 1)
			continue;
		if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0)
			c->verbosity = 1;
		else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0)
			c->verbosity = -1;
		else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
			c->help = true;
		else if (strcmp(a, "--version") == 0)
			c->version = true;
		else
			return herr_set(err, HOIST_EXIT_USAGE, "unknown option %s (see hoist --help)", a);
	}
	if (i >= argc) {
		if (c->help || c->version)
			return 0;
		return herr_set(err, HOIST_EXIT_USAGE, "no command given (see hoist --help)");
	}
	cmdname = argv[i];
	for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
		if (strcmp(argv[i], commands[k].name) == 0)
			c->cmd = commands[k].cmd;
	if (c->cmd == CMD_NONE)
		return herr_set(err, HOIST_EXIT_USAGE, "unknown command '%s' (see hoist --help)", argv[i]);
	for (i++; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			c->help = true;
			continue;
		}
		if ((r = take_value(c, c->cmd, argc, argv, &i, err)) < 0)
			return -1;
		if (r == 1 || take_flag(c, c->cmd, a))
			continue;
		if (a[0] == '-' && a[1] != '\0')
			return herr_set(err, HOIST_EXIT_USAGE,
			                "unknown option %s for %s (see hoist %s --help)", a, cmdname,
			                cmdname);
		if ((c->cmd == CMD_VALIDATE || c->cmd == CMD_PREFLIGHT) && c->path == NULL) {
			c->path = a;
			continue;
		}
		return herr_set(err, HOIST_EXIT_USAGE, "unexpected argument '%s'", a);
	}
	if (c->help)
		return 0;
	if (c->cmd == CMD_DEPLOY && c->bundle == NULL)
		return herr_set(err, HOIST_EXIT_USAGE, "deploy needs --bundle FILE|DIR");
	if ((c->cmd == CMD_VALIDATE || c->cmd == CMD_PREFLIGHT) && c->path == NULL)
		return herr_set(err, HOIST_EXIT_USAGE, "%s needs a PATH (appspec.yml, archive or directory)",
		                cmdname);
	if (c->version_name != NULL && !cli_version_ok(c->version_name))
		return herr_set(err, HOIST_EXIT_USAGE,
		                "--version '%.200s': use 1-128 characters of A-Z a-z 0-9 . _ + -",
		                c->version_name);
	if (c->to != NULL && !cli_version_ok(c->to))
		return herr_set(err, HOIST_EXIT_USAGE, "--to '%.200s' is not a valid version name", c->to);
	return 0;
}
