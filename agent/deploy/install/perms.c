/* perms.c - appspec permissions: resolution, matching, applying. */
#include "perms.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exitcodes.h"
#include "relpath.h"

/* appspec file name for messages. */
static const char *spec_name(const struct appspec *spec)
{
	return spec->filename ? spec->filename : "appspec.yml";
}

int perms_resolve(const struct appspec *spec, struct perm_rule **out, struct herr *err)
{
	struct perm_rule *r = NULL;
	int rc = -1;

	*out = NULL;
	if (spec->n_permissions == 0)
		return 0;
	r = calloc(spec->n_permissions, sizeof(*r));
	if (r == NULL)
		return herr_set(err, HOIST_EXIT_INTERNAL, "out of memory resolving permissions");
	for (size_t i = 0; i < spec->n_permissions; i++) {
		const struct appspec_permission *p = &spec->permissions[i];
		r[i].p = p;
		if (p->owner != NULL) {
			struct passwd *pw;
			errno = 0;
			pw = getpwnam(p->owner);
			if (pw == NULL) {
				herr_set(err, HOIST_EXIT_FAILED,
				         "%s line %u: permissions owner \"%s\" is not a "
				         "user on this host",
				         spec_name(spec), p->line, p->owner);
				goto out;
			}
			r[i].uid = pw->pw_uid;
			r[i].has_uid = true;
		}
		if (p->group != NULL) {
			struct group *gr;
			errno = 0;
			gr = getgrnam(p->group);
			if (gr == NULL) {
				herr_set(err, HOIST_EXIT_FAILED,
				         "%s line %u: permissions group \"%s\" is not a "
				         "group on this host",
				         spec_name(spec), p->line, p->group);
				goto out;
			}
			r[i].gid = gr->gr_gid;
			r[i].has_gid = true;
		}
	}
	*out = r;
	r = NULL;
	rc = 0;
out:
	free(r);
	return rc;
}

bool perms_glob(const char *pattern, const char *name)
{
	const char *star = NULL;
	const char *resume = NULL;
	/* iterative match with one backtrack point: linear-ish, no recursion */
	while (*name != '\0') {
		if (*pattern == '*') {
			star = pattern++;
			resume = name;
		} else if (*pattern == *name) {
			pattern++;
			name++;
		} else if (star != NULL) {
			pattern = star + 1;
			name = ++resume;
		} else {
			return false;
		}
	}
	while (*pattern == '*')
		pattern++;
	return *pattern == '\0';
}

/* The reference's simple-glob rule: a name with a '/' (not a direct child) never matches. */
static bool child_glob(const char *pattern, const char *rel)
{
	return strchr(rel, '/') == NULL && perms_glob(pattern, rel);
}

bool perms_match(const struct appspec_permission *p, bool object_is_file, const char *path, bool is_dir)
{
	size_t ol = strlen(p->object);
	const char *rel;
	unsigned need = is_dir ? PERM_TYPE_DIRECTORY : PERM_TYPE_FILE;
	unsigned mask = p->type_mask ? p->type_mask : (PERM_TYPE_FILE | PERM_TYPE_DIRECTORY);

	if ((mask & need) == 0)
		return false;
	if (object_is_file)
		return !is_dir && strcmp(path, p->object) == 0;
	while (ol > 1 && p->object[ol - 1] == '/')
		ol--;
	/* strictly below the object: the object directory itself never matches */
	if (ol == 1 && p->object[0] == '/')
		rel = path + 1;
	else if (strncmp(path, p->object, ol) == 0 && path[ol] == '/')
		rel = path + ol + 1;
	else
		return false;
	if (*rel == '\0')
		return false;
	if (p->pattern != NULL && strcmp(p->pattern, "**") != 0 && !child_glob(p->pattern, rel))
		return false;
	for (size_t i = 0; i < p->n_except; i++)
		if (child_glob(p->except[i], rel))
			return false;
	return true;
}

int perms_check_file_object(const struct appspec *spec, const struct appspec_permission *p, struct herr *err)
{
	unsigned mask = p->type_mask ? p->type_mask : (PERM_TYPE_FILE | PERM_TYPE_DIRECTORY);
	if ((p->pattern != NULL && strcmp(p->pattern, "**") != 0) || p->n_except != 0 ||
	    (mask & PERM_TYPE_FILE) == 0)
		return herr_set(err, HOIST_EXIT_BAD_BUNDLE,
		                "%s line %u: permissions object %s is a file, so pattern must be \"**\", "
		                "except must be empty and type must include file",
		                spec_name(spec), p->line, relpath_show(p->object));
	return 0;
}

int perms_final_mode(const struct perm_rule *r, int base)
{
	if (r != NULL && r->p->mode >= 0)
		return r->p->mode;
	return base;
}

int perms_apply_fd(int fd, const struct perm_rule *r, const char *path, struct herr *err)
{
	int mode = r->p->mode;
	/* order of the reference: chmod first, then chown */
	if (mode >= 0 && fchmod(fd, (mode_t)mode) != 0)
		return herr_errno(err, HOIST_EXIT_IO, errno, "cannot chmod %04o %s", (unsigned)mode,
		                  relpath_show(path));
	if (r->has_uid || r->has_gid) {
		uid_t u = r->has_uid ? r->uid : (uid_t)-1;
		gid_t g = r->has_gid ? r->gid : (gid_t)-1;
		if (fchown(fd, u, g) != 0)
			return herr_errno(err, HOIST_EXIT_IO, errno, "cannot chown %s to %s:%s", relpath_show(path),
			                  r->p->owner ? r->p->owner : "-", r->p->group ? r->p->group : "-");
		/* Linux clears setuid/setgid on chown; the reference leaves them cleared,
		 * hoist restores the mode the appspec asked for */
		if (mode >= 0 && (mode & (S_ISUID | S_ISGID)) != 0 && fchmod(fd, (mode_t)mode) != 0)
			return herr_errno(err, HOIST_EXIT_IO, errno, "cannot chmod %04o %s", (unsigned)mode,
			                  relpath_show(path));
	}
	return 0;
}
