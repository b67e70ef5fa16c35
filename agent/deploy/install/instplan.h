/* instplan.h - the plan behind install.h's opaque struct install_plan:
 * one action per path to create, copy or link, checked against the host and
 * the previous revision's installed list. Built by instplan.c, carried out
 * by install.c.
 *
 * Choices beyond the reference (see install.h):
 *   - copied files keep the bundle's mode without setuid/setgid (hoist does
 *     not keep the archive's owner, so the bits would apply to root); a
 *     permissions mode may set them, and is re-applied after chown;
 *   - created directories get 0755; a directory the previous revision
 *     created stays owned (recorded, permissions apply) even if undo could
 *     not remove it;
 *   - symlinks are never chmod'ed or chown'ed by permissions;
 *   - symlinks on the host are followed only in the components of a files
 *     destination that hoist did not create (/var -> /data); inside the
 *     copied tree or in a directory hoist owns they are refused. */
#ifndef HOIST_INSTPLAN_H
#define HOIST_INSTPLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "install.h"
#include "perms.h"

#define DIR_MODE 0755 /* created directories (the reference: mkdir with umask 022) */

enum act_kind { ACT_DIR, ACT_FILE, ACT_LINK };

struct action {
	enum act_kind kind;
	char *path;          /* host path without the root prefix */
	char *src;           /* FILE: path in the tree; LINK: the link's target text */
	int mode;            /* FILE: bundle mode without setuid/setgid; DIR: DIR_MODE */
	unsigned line;       /* the files entry (appspec line) */
	size_t follow_depth; /* leading components that may be pre-existing symlinks */
	bool owned;          /* created/copied by this revision (recorded, permissions apply) */
	bool skip;           /* RETAIN, or a directory already planned by another entry */
	int perm;            /* index of the permissions entry that reaches it, or -1 */
};

struct install_plan {
	char *root;
	char *tree;
	char *prev_list;
	char *new_list;
	const char *specname;
	struct action *a; /* in creation order: a directory before what it holds */
	size_t n;
	size_t cap;
	size_t *uniq; /* indices of kept actions sorted by path */
	size_t n_uniq;
	struct perm_rule *rules;
	size_t n_rules;
	bool links; /* install_plan_set_links: hard links to the tree where safe */
	const struct appspec *link_spec; /* its hook scripts are never linked */
	bool record_tree; /* install_plan_record_tree: tree.list */
};

/* Builds and checks the plan (install_plan's work). */
int instplan_build(const struct install_opts *opts, struct install_plan **out, struct herr *err);
/* The kept action for path, or NULL. */
struct action *instplan_find(const struct install_plan *pl, const char *path);
void instplan_free(struct install_plan *pl);

#endif
