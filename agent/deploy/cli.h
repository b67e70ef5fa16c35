/* cli.h - the agent's command line, parsed without side effects.
 *
 *   hoist [--config FILE] [--root DIR] [--state-dir DIR] [-v|-q] COMMAND [options]
 *   deploy --bundle FILE|DIR [--version V] [--environment E] [--application A]
 *          [--deployment-group G] [--sha256 HEX] [--bundle-bucket B] [--bundle-key K]
 *          [--bundle-etag T] [--no-rollback] [--ignore-stop-failures]
 *   rollback [--to V] [--no-rollback]   status [--json]   list   validate PATH   recover
 *   preflight BUNDLE [--json]
 * Every option also accepts the "--opt=value" form; --help works on each command. */
#ifndef HOIST_CLI_H
#define HOIST_CLI_H

#include <stdbool.h>

#include "herr.h"

enum cli_command {
	CMD_NONE = 0,
	CMD_DEPLOY,
	CMD_ROLLBACK,
	CMD_STATUS,
	CMD_LIST,
	CMD_VALIDATE,
	CMD_RECOVER,
	CMD_PREFLIGHT,
};

struct cli {
	/* global */
	const char *config;    /* NULL = HOIST_CONFIG or the default file */
	const char *root;      /* NULL = config/HOIST_ROOT */
	const char *state_dir; /* NULL = config */
	int verbosity;         /* -1 quiet, 0 normal, 1 debug */
	bool help;             /* --help (global or on the command) */
	bool version;          /* --version */
	enum cli_command cmd;
	/* deploy */
	const char *bundle;
	const char *version_name;
	const char *environment;
	const char *application;
	const char *group;
	const char *sha256;
	const char *bucket;
	const char *key;
	const char *etag;
	bool no_rollback;
	bool ignore_stop_failures;
	/* rollback */
	const char *to;
	/* status */
	bool json;
	/* validate, preflight (which also takes --json) */
	const char *path;
};

/* Pure: fills c from argv (argv[0] is the program). Errors are HOIST_EXIT_USAGE
 * and name the offending argument. Pointers refer into argv. */
int cli_parse(int argc, char *const argv[], struct cli *c, struct herr *err);
/* The usage text of a command (CMD_NONE: the program). */
const char *cli_usage(enum cli_command cmd);
/* Pure: 1 when s is a usable version name ([A-Za-z0-9._+-], 1..128, not "." or ".."). */
int cli_version_ok(const char *s);

#endif
