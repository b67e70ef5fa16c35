/* appspec.h - the AWS CodeDeploy AppSpec 0.0 (os: linux), parsed with libyaml.
 *
 * Accepts every appspec the reference agent accepts (see
 * ../shared/reference/codedeploy-agent.md section 1) and refuses unsafe
 * ones with errors that name the file, line and column. Pure: the parser
 * works on a buffer; appspec_load_bundle adds the file-system checks. */
#ifndef HOIST_APPSPEC_H
#define HOIST_APPSPEC_H

#include <stdbool.h>
#include <stddef.h>

#include "herr.h"

enum file_exists_behavior { FEB_UNSET = 0, FEB_DISALLOW, FEB_OVERWRITE, FEB_RETAIN };

#define PERM_TYPE_FILE 1u
#define PERM_TYPE_DIRECTORY 2u

struct appspec_file {
	char *source;       /* bundle-relative, normalised, no leading '/', "" = bundle root */
	char *destination;  /* absolute host path, normalised */
	unsigned line;
};

struct appspec_permission {
	char *object;       /* absolute host path */
	char *pattern;      /* default "**" */
	char **except;      /* simple globs */
	size_t n_except;
	char *owner;        /* NULL = unchanged */
	char *group;        /* NULL = unchanged */
	int mode;           /* -1 = unchanged, else 0..07777 */
	unsigned type_mask; /* PERM_TYPE_*; default both */
	unsigned line;
};

struct appspec_script {
	char *location;     /* bundle-relative, normalised, no leading '/' */
	unsigned timeout_s; /* default 3600 */
	char *runas;        /* NULL = root (the agent's user) */
	unsigned line;
};

struct appspec_hook {
	char *event;        /* one of the known lifecycle events */
	struct appspec_script *scripts;
	size_t n_scripts;
};

struct appspec {
	char *filename;     /* "appspec.yml" or "appspec.yaml" */
	enum file_exists_behavior file_exists_behavior;
	struct appspec_file *files;
	size_t n_files;
	struct appspec_permission *permissions;
	size_t n_permissions;
	struct appspec_hook *hooks;
	size_t n_hooks;
};

/* Lifecycle events in the reference's in-place order, traffic hooks included. */
extern const char *const appspec_events[];
extern const size_t appspec_n_events;

/* Parses a document (filename only for messages). */
int appspec_parse(const char *text, size_t len, const char *filename, struct appspec **out,
		  struct herr *err);
/* Finds appspec.yml (or appspec.yaml when it is the only one) in an
 * unpacked bundle, refuses symlinks, parses it and checks that every
 * files.source exists inside the bundle and every hook location is a
 * regular file inside it (no symlinks). */
int appspec_load_bundle(const char *bundle_root, struct appspec **out, struct herr *err);
/* The scripts for an event, or NULL when it has none. */
const struct appspec_hook *appspec_hook(const struct appspec *a, const char *event);
void appspec_free(struct appspec *a);

#endif
