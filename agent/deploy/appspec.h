/* appspec.h - the AWS CodeDeploy AppSpec 0.0 (os: linux), parsed with libyaml.
 *
 * Accepts every appspec the reference agent accepts (see
 * ../shared/reference/codedeploy-agent.md section 1) and refuses unsafe
 * ones with errors that name the file, line and column. Pure: the parser
 * works on a buffer; appspec_load_bundle adds the file-system checks.
 * All errors are HOIST_EXIT_BAD_BUNDLE (HOIST_EXIT_IO for read failures).
 *
 * Where hoist differs from the reference (docs/appspec.md has the table):
 *   - mode is read from the scalar's TEXT: `mode: 0644` is 0644 (the
 *     reference's YAML 1.1 reads octal 420 and silently uses mode 0420);
 *   - timeout is decimal digits with an optional "s" ("30", "30s"); the
 *     reference's to_i also takes "30 minutes" as 30 and 1.5 as 1; hoist
 *     refuses those; `timeout: 030` is 30 seconds (text), not octal 24;
 *   - `sudo` is accepted (booleans only) and ignored with a warning: hoist
 *     runs hooks as root or as runas, which is what sudo/su gave;
 *   - `acls` and `context` are refused: not supported, use a hook script;
 *   - numeric owner/group are refused at parse time (the reference fails
 *     later, at install);
 *   - a relative files.destination and a files.source or hook location
 *     whose ".." leaves the bundle are refused;
 *   - unknown hook events are an error listing the known ones (the
 *     reference refuses them at Install: "appspec.yml file contains unknown
 *     lifecycle events"); Install and DownloadBundle are built-in steps and
 *     cannot have scripts;
 *   - a key that equals a known key (or event) once invisible or non-ASCII
 *     spaces are removed (`files:` indented with U+00A0) is refused, naming
 *     the character and its line:col (the reference ignores the key, and
 *     with it the whole section);
 *   - a hook written as a mapping is a clear error (the reference crashes);
 *   - duplicate mapping keys are an error naming both lines (the reference
 *     keeps the last); YAML aliases, tags and a second document are refused;
 *   - the file is limited to 1 MiB; both appspec.yml and appspec.yaml
 *     present is an error; a symlinked appspec is refused.
 * Unknown top-level keys and unknown keys inside entries are ignored like
 * the reference, with a warning. */
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
	unsigned col;       /* added: line:col of the list item, 1-based */
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
	unsigned col;       /* added */
};

struct appspec_script {
	char *location;     /* bundle-relative, normalised, no leading '/' */
	unsigned timeout_s; /* default 3600 */
	char *runas;        /* NULL = root (the agent's user) */
	unsigned line;
	unsigned col;       /* added */
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

#define APPSPEC_MAX_BYTES (1024 * 1024)

/* Parses a document (filename only for messages; NULL = "appspec.yml"). */
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
