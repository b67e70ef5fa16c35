/* hookenv.c - building a hook's environment (pure; tests/unit/test_hookenv.c). */
#include "hookenv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

#define HOOKENV_MAX 24

/* Appends "name=value" to env (NULL value: skipped); -1 when out of memory. */
static int add(char **env, size_t *n, const char *name, const char *value)
{
	struct buf b;
	if (value == NULL)
		return 0;
	buf_init(&b, 65536);
	if (buf_printf(&b, "%s=%s", name, value) != 0) {
		buf_free(&b);
		return -1;
	}
	env[(*n)++] = buf_steal(&b);
	return 0;
}

/* NULL or "" counts as not given. */
static const char *given(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : NULL;
}

char **hookenv_build(const struct hookenv *h, const char *event, const char *home, const char *user)
{
	char **env = calloc(HOOKENV_MAX + 1, sizeof(*env));
	char app_env[512];
	const char *app = given(h->application), *group = given(h->group), *group_id = given(h->group_id);
	size_t n = 0;
	int bad = 0;

	if (env == NULL)
		return NULL;
	/* The reference always sets the three names; a manual deploy without the
	 * flags gets the documented defaults (hookenv.h). */
	if (group == NULL && app != NULL && given(h->environment) != NULL &&
	    (size_t)snprintf(app_env, sizeof(app_env), "%s-%s", app, h->environment) < sizeof(app_env))
		group = app_env; /* what hoist-boot passes: APPLICATION-ENVIRONMENT */
	if (group_id == NULL)
		group_id = group != NULL ? group : HOOKENV_DEFAULT_GROUP_ID;
	if (group == NULL)
		group = HOOKENV_DEFAULT_GROUP;
	if (app == NULL)
		app = HOOKENV_DEFAULT_APPLICATION;
	bad |= add(env, &n, "PATH", HOOKENV_PATH);
	bad |= add(env, &n, "LANG", "C.UTF-8");
	bad |= add(env, &n, "HOME", home ? home : "/");
	bad |= add(env, &n, "USER", user ? user : "root");
	bad |= add(env, &n, "LOGNAME", user ? user : "root");
	bad |= add(env, &n, "LIFECYCLE_EVENT", event);
	bad |= add(env, &n, "DEPLOYMENT_ID", h->deployment_id ? h->deployment_id : "");
	bad |= add(env, &n, "APPLICATION_NAME", app);
	bad |= add(env, &n, "DEPLOYMENT_GROUP_NAME", group);
	bad |= add(env, &n, "DEPLOYMENT_GROUP_ID", group_id);
	bad |= add(env, &n, "BUNDLE_BUCKET", h->bucket);
	bad |= add(env, &n, "BUNDLE_KEY", h->key);
	bad |= add(env, &n, "BUNDLE_VERSION", h->bundle_version);
	bad |= add(env, &n, "BUNDLE_ETAG", h->etag);
	bad |= add(env, &n, "HOIST_VERSION", h->version ? h->version : "");
	bad |= add(env, &n, "HOIST_ENVIRONMENT", h->environment ? h->environment : "");
	bad |= add(env, &n, "HOIST_REVISION_DIR", h->revision_dir ? h->revision_dir : "");
	bad |= add(env, &n, "HOIST_ROOT", h->root ? h->root : "");
	if (bad) {
		hookenv_free(env);
		return NULL;
	}
	return env;
}

void hookenv_free(char **envp)
{
	if (envp == NULL)
		return;
	for (size_t i = 0; envp[i] != NULL; i++)
		free(envp[i]);
	free(envp);
}
