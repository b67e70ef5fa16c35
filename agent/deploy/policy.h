/* policy.h - the host's deploy policy (/etc/hoist/policy.conf under the root
 * prefix): what a bundle may install and run, fixed by the image, never by the
 * bundle. Pure: parsing a buffer and matching paths and names; the file read
 * and the host checks that use it are in preflight.c. docs/policy.md is the
 * reference.
 *
 * Format: "key = value" lines like hoist.conf ('#' comments, blank lines,
 * optional double quotes). Path keys may repeat, one pattern per line:
 *   deny_path = PATTERN            nothing is installed at or below a match
 *   allow_path = PATTERN           when any is given, every installed path must
 *                                  be at or below a match
 *   default_deny = true|false      the built-in deny list (default true)
 *   allow_runas = NAME [NAME...]   when any is given, hook runas users must be
 *                                  listed ("root" allows hooks without runas)
 *   allow_setid = PATTERN          paths that may end up setuid/setgid
 *   allow_world_writable = PATTERN paths that may end up world-writable (o+w)
 *   max_extract_bytes = SIZE       absolute cap on extracted bytes
 *   max_extract_ratio = N          extracted bytes <= N x the archive's size ...
 *   extract_floor_bytes = SIZE     ... or this much, whichever is larger
 *   min_free_bytes = SIZE          free space each file system keeps after Install
 * SIZE is digits with an optional K, M, G (powers of 1024). A PATTERN is an
 * absolute path in which '*' matches within one component (fnmatch with
 * FNM_PATHNAME); it matches a path when it matches the path or one of its
 * ancestors. Unknown keys are errors: a typo must not silently weaken the policy. */
#ifndef HOIST_POLICY_H
#define HOIST_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "herr.h"

#define HOIST_DEFAULT_POLICY "/etc/hoist/policy.conf"

enum policy_kind {
	POLICY_DENY_PATH = 0,
	POLICY_ALLOW_PATH,
	POLICY_ALLOW_SETID,
	POLICY_ALLOW_WORLD_WRITABLE,
	POLICY_ALLOW_RUNAS,
};

struct policy_rule {
	enum policy_kind kind;
	char *value;   /* the pattern or the user name */
	unsigned line; /* line in the policy file; 0 = the built-in default deny list */
};

struct policy {
	char *file; /* for messages: the file read, or the default path when none */
	struct policy_rule *rules;
	size_t n_rules;
	bool default_deny;
	unsigned default_deny_line; /* where default_deny was set (0: not set) */
	uint64_t max_extract_bytes; /* default 8 GiB */
	unsigned max_extract_ratio; /* default 100 */
	uint64_t extract_floor_bytes; /* default 128 MiB */
	uint64_t min_free_bytes;      /* default 64 MiB */
	unsigned limits_line[4];      /* lines of the four limits (0: default) */
};

/* The built-in deny list (NULL-terminated), documented in docs/policy.md. */
extern const char *const policy_default_deny[];

/* Defaults: built-in deny list on, nothing else restricted. file may be NULL. */
int policy_init(struct policy *p, const char *file);
/* Pure: applies a policy file's text. Errors are HOIST_EXIT_CONFIG with file:line. */
int policy_parse(struct policy *p, const char *text, size_t len, struct herr *err);
void policy_free(struct policy *p);

/* Pure: 1 when pattern matches path or one of its ancestors. */
int policy_pattern_match(const char *pattern, const char *path);
/* Pure: the rule that refuses installing at path, or NULL. *builtin says the
 * rule is from the default list (then rule->line is 0). When an allow list
 * exists and nothing in it matches, the first allow_path rule is returned
 * with *not_allowed set. */
const struct policy_rule *policy_path_refused(const struct policy *p, const char *path, bool *not_allowed);
/* Pure: the allow rule of kind that matches path, or NULL. */
const struct policy_rule *policy_allowed(const struct policy *p, enum policy_kind kind, const char *path);
/* Pure: 1 when hooks may run as user (NULL: no runas, i.e. root). */
int policy_runas_ok(const struct policy *p, const char *user);
/* "FILE:LINE", or "built-in default deny list" for line 0, into out. */
const char *policy_where(const struct policy *p, unsigned line, char *out, size_t outsz);
/* The key name of a kind, e.g. "deny_path". */
const char *policy_kind_name(enum policy_kind kind);

#endif
