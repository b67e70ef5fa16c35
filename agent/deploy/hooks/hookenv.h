/* hookenv.h - the environment of a hook script: a clean base, never the agent's own.
 *
 * PATH (fixed), LANG=C.UTF-8, HOME/USER/LOGNAME of the user the script runs as,
 * then the CodeDeploy variables (LIFECYCLE_EVENT, DEPLOYMENT_ID, APPLICATION_NAME,
 * DEPLOYMENT_GROUP_NAME, DEPLOYMENT_GROUP_ID, BUNDLE_BUCKET/KEY/VERSION/ETAG when
 * known) and hoist's (HOIST_VERSION, HOIST_ENVIRONMENT, HOIST_REVISION_DIR,
 * HOIST_ROOT, "" when there is no root prefix). Nothing else leaks in:
 * credentials in the agent's environment never reach a script. */
#ifndef HOIST_HOOKENV_H
#define HOIST_HOOKENV_H

#define HOOKENV_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* A manual `hoist deploy` without --application / --deployment-group still
 * sets the three names, as the reference always does (codedeploy-local uses
 * "LocalFleet" and "default-local-deployment-group" too):
 *   APPLICATION_NAME       --application, else "hoist-local"
 *   DEPLOYMENT_GROUP_NAME  --deployment-group, else APPLICATION-ENVIRONMENT when
 *                          both are given (what hoist-boot passes), else "LocalFleet"
 *   DEPLOYMENT_GROUP_ID    the group name given or derived, else
 *                          "default-local-deployment-group" */
#define HOOKENV_DEFAULT_APPLICATION "hoist-local"
#define HOOKENV_DEFAULT_GROUP "LocalFleet"
#define HOOKENV_DEFAULT_GROUP_ID "default-local-deployment-group"

struct hookenv {
	const char *deployment_id;
	const char *application;
	const char *group;    /* DEPLOYMENT_GROUP_NAME */
	const char *group_id; /* DEPLOYMENT_GROUP_ID (hoist has no service ids: the name) */
	const char *bucket;   /* BUNDLE_* are set only when non-NULL */
	const char *key;
	const char *bundle_version;
	const char *etag;
	const char *version;      /* HOIST_VERSION */
	const char *environment;  /* HOIST_ENVIRONMENT */
	const char *revision_dir; /* HOIST_REVISION_DIR: the revision's unpacked tree */
	const char *root;         /* HOIST_ROOT */
};

/* Pure: builds a NULL-terminated "K=V" vector for one event; home/user are those
 * of the runas user. Returns NULL when out of memory. Free with hookenv_free. */
char **hookenv_build(const struct hookenv *h, const char *event, const char *home, const char *user);
void hookenv_free(char **envp);

#endif
