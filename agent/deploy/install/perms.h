/* perms.h - the appspec `permissions` section: owner/group resolution,
 * the reference agent's matching rules (install.h, reference section 1.4)
 * and applying mode and ownership to an open file descriptor. */
#ifndef HOIST_PERMS_H
#define HOIST_PERMS_H

#include <stdbool.h>
#include <sys/types.h>

#include "appspec.h"
#include "herr.h"

struct perm_rule {
	const struct appspec_permission *p;
	uid_t uid; /* valid when has_uid */
	gid_t gid; /* valid when has_gid */
	bool has_uid;
	bool has_gid;
};

/* Resolves owner/group names of every entry with getpwnam/getgrnam; an
 * unknown name is an error naming the appspec line. *out has
 * spec->n_permissions rules (NULL when none). */
int perms_resolve(const struct appspec *spec, struct perm_rule **out, struct herr *err);
/* Simple glob: only '*' is a wildcard (any run of characters); everything
 * else, '?' and '[' included, matches itself. */
bool perms_glob(const char *pattern, const char *name);
/* Whether entry p reaches path (is_dir: the path is a directory). When
 * object_is_file, only the object itself matches; otherwise only paths below
 * the object: every one for pattern "**", else direct children whose name
 * matches pattern; except is matched like a pattern; the type filter applies. */
bool perms_match(const struct appspec_permission *p, bool object_is_file, const char *path, bool is_dir);
/* Checks what the reference requires of an entry whose object is a copied
 * file: pattern "**", no except, type includes file. */
int perms_check_file_object(const struct appspec *spec, const struct appspec_permission *p, struct herr *err);
/* chmod, then chown, then chmod again when the mode has setuid/setgid bits
 * (Linux chown clears them; the reference leaves them cleared). */
int perms_apply_fd(int fd, const struct perm_rule *r, const char *path, struct herr *err);
/* The final mode a path will get: the rule's mode if it sets one, else base. */
int perms_final_mode(const struct perm_rule *r, int base);

#endif
