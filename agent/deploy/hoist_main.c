/* hoist_main.c - the agent: parses the command line, loads settings, takes the
 * deployment lock and runs one command (deploy.h, query.h). Only main exits. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "deploy.h"
#include "exitcodes.h"
#include "hooks.h"
#include "fsutil.h"
#include "herr.h"
#include "lock.h"
#include "log.h"
#include "policy.h"
#include "preflight.h"
#include "query.h"

#define HOIST_AGENT_VERSION "0.1.0"

extern char **environ;

/* fds 0-2 must exist so that no file we open becomes stdout by accident. */
static void fd_hygiene(void)
{
	for (int fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) == -1 && errno == EBADF) {
			int n = open("/dev/null", O_RDWR);
			if (n < 0)
				_exit(HOIST_EXIT_INTERNAL);
		}
	}
	signal(SIGPIPE, SIG_IGN);
}

/* Settings: the file (under the root prefix unless --config names it), then the
 * environment, then flags; env and flags are applied twice so the root they
 * name decides where the file is read from, and they still win over it. */
static int load_config(const struct cli *c, struct hoist_config *cfg, struct herr *err)
{
	char path[PATH_MAX];
	const char *file = c->config ? c->config : getenv("HOIST_CONFIG");
	config_init(cfg);
	if (config_apply_env(cfg, environ, err) != 0)
		return -1;
	if (c->root != NULL && config_set(cfg, "root", c->root, err) != 0)
		return -1;
	if (file == NULL) {
		if (config_host_path(cfg, HOIST_DEFAULT_CONFIG, path, sizeof(path)) != 0)
			return herr_set(err, HOIST_EXIT_CONFIG, "root prefix too long");
		file = path;
	}
	if (config_load_file(cfg, file, err) != 0 || config_apply_env(cfg, environ, err) != 0)
		return -1;
	if (c->root != NULL && config_set(cfg, "root", c->root, err) != 0)
		return -1;
	if (c->state_dir != NULL && config_set(cfg, "state_dir", c->state_dir, err) != 0)
		return -1;
	for (size_t i = 0; i < cfg->n_warnings; i++)
		log_warnx("%s: unknown setting %s (ignored)", file, cfg->warnings[i]);
	if (cfg->root[0] != '\0' && cfg->root[0] != '/')
		return herr_set(err, HOIST_EXIT_CONFIG, "root prefix '%s' must be an absolute path",
		                cfg->root);
	return 0;
}

/* Creates the state directory and its fixed subdirectories. The state
 * directory and revisions/ may be traversed by anyone (0711, 0755): hooks
 * that run as another user must reach their scripts in revisions/V/tree.
 * Staging and the download cache are root's alone. */
static int prepare_state(const char *state, struct herr *err)
{
	static const struct {
		const char *name;
		mode_t mode;
	} subs[] = {{"tmp", 0700}, {"revisions", 0755}, {"bundles", 0700}};
	char p[PATH_MAX];
	if (fs_mkdir_p(state, 0711, err) != 0)
		return -1;
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		if (fs_path_join(p, sizeof(p), state, subs[i].name) != 0)
			return herr_set(err, HOIST_EXIT_IO, "state path too long");
		if (fs_mkdir_p(p, subs[i].mode, err) != 0)
			return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct hoist_config cfg;
	struct policy policy;
	struct herr err;
	struct cli c;
	char state[PATH_MAX];
	int code = HOIST_EXIT_INTERNAL, lockfd = -1;
	bool cfg_loaded = false, policy_loaded = false;

	fd_hygiene();
	log_init("hoist", LOG_LEVEL_INFO);
	herr_clear(&err);
	if (hook_signals_forward(&err) != 0) {
		fprintf(stderr, "hoist: %s\n", err.msg);
		return HOIST_EXIT_INTERNAL;
	}
	if (cli_parse(argc, argv, &c, &err) != 0) {
		fprintf(stderr, "hoist: %s\n", err.msg);
		return HOIST_EXIT_USAGE;
	}
	if (c.help) {
		fputs(cli_usage(c.cmd), stdout);
		return 0;
	}
	if (c.version && c.cmd == CMD_NONE) {
		printf("hoist %s\n", HOIST_AGENT_VERSION);
		return 0;
	}
	log_set_level(c.verbosity > 0 ? LOG_LEVEL_DEBUG : c.verbosity < 0 ? LOG_LEVEL_WARN : LOG_LEVEL_INFO);
	if (load_config(&c, &cfg, &err) != 0) {
		code = err.code ? err.code : HOIST_EXIT_CONFIG;
		cfg_loaded = true;
		goto out;
	}
	cfg_loaded = true;
	if (config_host_path(&cfg, cfg.state_dir, state, sizeof(state)) != 0) {
		code = herr_set(&err, HOIST_EXIT_CONFIG,
		                "state_dir '%s' must be absolute and fit under the root", cfg.state_dir)
		           ? HOIST_EXIT_CONFIG
		           : 0;
		goto out;
	}
	switch (c.cmd) {
	case CMD_STATUS:
		code = query_status(state, c.json, stdout, &err);
		goto out;
	case CMD_LIST:
		code = query_list(state, stdout, &err);
		goto out;
	default:
		break;
	}
	/* The image's deploy policy binds every command that checks or deploys a bundle. */
	policy_loaded = true;
	if (preflight_load_policy(&cfg, &policy, &err) != 0 && c.cmd != CMD_VALIDATE && c.cmd != CMD_PREFLIGHT) {
		code = err.code;
		goto out;
	}
	if (c.cmd == CMD_VALIDATE || c.cmd == CMD_PREFLIGHT) {
		/* a bad policy is the first check's refusal, reported like the others */
		struct herr perr = err;
		struct preflight_req q = {.path = c.path,
		                          .cfg = &cfg,
		                          .policy = &policy,
		                          .policy_file = policy.file,
		                          .policy_error = perr.code != 0 ? &perr : NULL,
		                          .state = state,
		                          .json = c.json,
		                          .verbose_checks = c.cmd == CMD_PREFLIGHT};
		herr_clear(&err);
		code = query_preflight(&q, stdout, &err);
		goto out;
	}
	if (prepare_state(state, &err) != 0) {
		code = err.code;
		goto out;
	}
	lockfd = lock_acquire(state, &err);
	if (lockfd < 0) {
		code = err.code;
		goto out;
	}
	{
		struct deploy_ctx ctx = {.cfg = &cfg, .policy = &policy, .root = cfg.root, .state = state};
		if (c.cmd == CMD_DEPLOY) {
			struct deploy_req r = {.bundle = c.bundle,
			                       .version = c.version_name,
			                       .environment = c.environment,
			                       .application = c.application,
			                       .group = c.group,
			                       .sha256 = c.sha256,
			                       .bucket = c.bucket,
			                       .key = c.key,
			                       .etag = c.etag,
			                       .no_rollback = c.no_rollback,
			                       .ignore_stop_failures = c.ignore_stop_failures};
			code = deploy_run(&ctx, &r, &err);
		} else if (c.cmd == CMD_ROLLBACK) {
			code = deploy_rollback(&ctx, c.to, c.no_rollback, &err);
		} else {
			bool did;
			code = deploy_recover(&ctx, &did, &err);
			if (code == 0 && !did)
				printf("nothing to recover\n");
		}
	}
out:
	if (code != 0 && err.msg[0])
		log_error("%s", err.msg);
	lock_release(lockfd);
	if (policy_loaded)
		policy_free(&policy);
	if (cfg_loaded)
		config_free(&cfg);
	return code;
}
