/* deploy.c - deploy, rollback and recover (rules in deploy.h). */
#include "deploy.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "appspec.h"
#include "digest.h"
#include "exitcodes.h"
#include "buf.h"
#include "fsutil.h"
#include "health.h"
#include "history.h"
#include "hookenv.h"
#include "hooks.h"
#include "install.h"
#include "journal.h"
#include "kepttree.h"
#include "log.h"
#include "filemanifest.h"
#include "orphans.h"
#include "preflight.h"
#include "record.h"
#include "revisions.h"
#include "stage.h"
#include "status.h"

enum scripts_of { OF_INSTALLED, OF_NEW, OF_INSTALL_STEP, OF_HEALTH };

/* The in-place order; the first three use the installed (previous) revision. */
static const struct {
	const char *event;
	enum scripts_of of;
} order[] = {
    {"BeforeBlockTraffic", OF_INSTALLED}, {"AfterBlockTraffic", OF_INSTALLED},
    {"ApplicationStop", OF_INSTALLED},    {"BeforeInstall", OF_NEW},
    {"Install", OF_INSTALL_STEP},         {"AfterInstall", OF_NEW},
    {"ApplicationStart", OF_NEW},         {"ValidateService", OF_NEW},
    {"HealthCheck", OF_HEALTH}, /* hoist.yml (health.h), before traffic is allowed */
    {"BeforeAllowTraffic", OF_NEW},       {"AfterAllowTraffic", OF_NEW},
};

/* hoist restart runs only these steps, with the current revision as installed and new. */
static bool restart_step(const char *event)
{
	return strcmp(event, "ApplicationStop") == 0 || strcmp(event, "ApplicationStart") == 0 ||
	       strcmp(event, "ValidateService") == 0 || strcmp(event, "HealthCheck") == 0;
}

/* One deployment of one kept revision (its tree is in place). */
struct run {
	const struct deploy_ctx *ctx;
	const char *id;
	const char *kind;
	const char *version;
	struct rev_paths np;
	struct record *meta; /* the revision's meta: names for the hook environment */
	bool ignore_stop;
	struct deploy_status *st;
	struct journal *j;
	bool install_begun, install_ended;
	char installed[REV_NAME_MAX];
	struct rev_paths pp; /* the installed revision's paths (when installed[0]) */
	struct health_spec *health; /* the revision's hoist.yml, NULL without one */
	bool restart;               /* hoist restart: no Install, the same revision stops and starts */
};

/* Monotonic seconds, for durations. */
static double mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* STATE/name into out. */
static int state_path(const struct deploy_ctx *ctx, const char *name, char *out, struct herr *err)
{
	if (fs_path_join(out, PATH_MAX, ctx->state, name) != 0)
		return herr_set(err, HOIST_EXIT_IO, "state path too long: %.200s", ctx->state);
	return 0;
}

static const char *meta_get(const struct record *m, const char *k)
{
	const char *v = m ? record_get(m, k) : NULL;
	return v && v[0] ? v : NULL;
}

/* Sets a meta key, ignoring NULL values. */
static void meta_set(struct record *m, const char *k, const char *v)
{
	if (v != NULL)
		(void)record_set(m, k, v);
}

/* Updates result and time in a revision's meta and writes it (atomic, not
 * durable: meta only informs list and the default rollback target). */
static int meta_save(struct record *m, const char *path, const char *id, const char *result, struct herr *err)
{
	char when[48];
	struct timespec ts;
	struct buf b;
	int rc = -1;
	/* Nanoseconds: retention orders revisions deployed within the same second. */
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(when, sizeof(when), "%lld.%09ld", (long long)ts.tv_sec, ts.tv_nsec);
	meta_set(m, "deployment_id", id);
	meta_set(m, "deployed_at", when);
	meta_set(m, "result", result);
	buf_init(&b, RECORD_MAX_BYTES);
	for (size_t i = 0; i < m->n; i++) {
		if (buf_printf(&b, "%s=%s\n", m->keys[i], m->values[i]) != 0) {
			herr_set(err, HOIST_EXIT_INTERNAL, "meta %s too large", path);
			goto out;
		}
	}
	rc = fs_write_replace(path, b.data ? b.data : "", b.len, 0644, err);
out:
	buf_free(&b);
	return rc;
}

/* Fills the identity fields of a status. */
static void status_start(struct deploy_status *st, const char *id, const char *kind, const char *version,
                         const struct record *meta)
{
	memset(st, 0, sizeof(*st));
	status_copy(st->id, sizeof(st->id), id);
	status_copy(st->kind, sizeof(st->kind), kind);
	status_copy(st->version, sizeof(st->version), version);
	status_copy(st->environment, sizeof(st->environment), meta_get(meta, "environment"));
	status_copy(st->application, sizeof(st->application), meta_get(meta, "application"));
	status_copy(st->group, sizeof(st->group), meta_get(meta, "deployment_group"));
	status_copy(st->result, sizeof(st->result), "in-progress");
	st->started = (long long)time(NULL);
}

/* Writes the status to STATE and, when given, the revision directory; failures only warn. */
static void status_publish(const struct deploy_ctx *ctx, struct deploy_status *st, const char *revdir)
{
	struct herr e;
	herr_clear(&e);
	(void)rev_record_version(ctx->state, "current", st->current, sizeof(st->current), &e);
	(void)rev_record_version(ctx->state, "last-good", st->last_good, sizeof(st->last_good), &e);
	if (status_save(st, ctx->state, &e) != 0)
		log_warnx("cannot write status: %s", e.msg);
	if (revdir != NULL && status_save(st, revdir, &e) != 0)
		log_warnx("cannot write status: %s", e.msg);
	history_save(ctx->state, st);
}

/* Appends a step to the status; returns it (the last slot is reused when full). */
static struct status_step *step_add(struct deploy_status *st, const char *event, const char *revision)
{
	struct status_step *s =
	    &st->steps[st->n_steps < STATUS_MAX_STEPS ? st->n_steps++ : STATUS_MAX_STEPS - 1];
	memset(s, 0, sizeof(*s));
	status_copy(s->event, sizeof(s->event), event);
	status_copy(s->revision, sizeof(s->revision), revision);
	status_copy(s->result, sizeof(s->result), "running");
	s->started = (long long)time(NULL);
	return s;
}

/* HOME and name of the user a script runs as. */
static void runas_identity(const char *runas, char *home, size_t hcap, char *user, size_t ucap)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	int r = runas ? getpwnam_r(runas, &pw, buf, sizeof(buf), &res)
	              : getpwuid_r(geteuid(), &pw, buf, sizeof(buf), &res);
	status_copy(home, hcap, r == 0 && res ? pw.pw_dir : "/");
	status_copy(user, ucap, r == 0 && res ? pw.pw_name : (runas ? runas : "root"));
}

/* Like the CodeDeploy agent, gives a hook script without any execute bit
 * the execute bits matching its read bits, so bundles zipped on systems
 * that drop modes deploy unchanged. Only the revision's own unpacked copy
 * is touched; the kept bundle is not. Opened without following links
 * (appspec_load_bundle already refused a symlinked script). */
static void make_executable(const char *path, const char *display)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return; /* hook_run reports the missing script precisely */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111) == 0) {
		mode_t mode = (st.st_mode & 07777) | ((st.st_mode & 0444) >> 2);
		if (fchmod(fd, mode) == 0)
			log_info("%s had no execute permission; set mode %04o as the CodeDeploy agent does",
			         display, (unsigned)mode);
		else
			log_warn("cannot make %s executable", display);
	}
	close(fd);
}

/* The environment of a hook script or health check command of r (NULL: out of memory). */
static char **run_env(const struct run *r, const char *event, const char *tree, const char *rev_version,
                      const char *runas)
{
	struct hookenv h;
	char home[PATH_MAX], user[256];
	runas_identity(runas, home, sizeof(home), user, sizeof(user));
	memset(&h, 0, sizeof(h));
	h.deployment_id = r->id;
	h.application = meta_get(r->meta, "application");
	h.group = meta_get(r->meta, "deployment_group");
	h.group_id = h.group;
	h.bucket = meta_get(r->meta, "bundle_bucket");
	h.key = meta_get(r->meta, "bundle_key");
	h.etag = meta_get(r->meta, "bundle_etag");
	h.bundle_version = h.bucket ? rev_version : NULL;
	h.version = rev_version;
	h.environment = meta_get(r->meta, "environment");
	h.revision_dir = tree;
	h.root = r->ctx->root;
	return hookenv_build(&h, event, home, user);
}

/* hook_run's on_spawn: the journal records the hook's group before it can do
 * much, so recovery can end what a killed hoist leaves of it. A failure only
 * warns (the hook runs anyway; recovery then cannot end its leftovers). */
static void journal_hook_spawned(void *ctx, pid_t pid)
{
	struct run *r = ctx;
	struct hook_ident id;
	struct herr e;
	herr_clear(&e);
	if (orphans_ident(pid, &id) != 0)
		log_warnx("cannot read the identity of hook process %ld from /proc", (long)pid);
	else if (journal_hook(r->j, &id, &e) != 0)
		log_warnx("%s", e.msg);
}

/* Runs the scripts of one event, in order; stops at the first failure. */
static int run_event(struct run *r, const char *event, const struct appspec_hook *hook, const char *tree,
                     const char *rev_version, bool ignorable, struct herr *err)
{
	struct status_step *step = step_add(r->st, event, rev_version);
	double t0 = mono_now();
	bool ok = true;
	int rc = -1;

	if (journal_begin(r->j, event, err) != 0)
		return -1;
	log_set_phase(event);
	for (size_t i = 0; i < hook->n_scripts && ok; i++) {
		const struct appspec_script *sc = &hook->scripts[i];
		struct hook_result res;
		char path[PATH_MAX], desc[256];
		char **envp = NULL;
		int hr;

		if (fs_path_join(path, sizeof(path), tree, sc->location) != 0) {
			herr_set(err, HOIST_EXIT_FAILED, "%s: script path too long: %.200s", event,
			         sc->location);
			goto out;
		}
		make_executable(path, sc->location);
		envp = run_env(r, event, tree, rev_version, sc->runas);
		if (envp == NULL) {
			herr_set(err, HOIST_EXIT_INTERNAL, "out of memory building the environment of %s",
			         event);
			goto out;
		}
		memset(&res, 0, sizeof(res));
		{
			struct hook_run hr_in = {.event = event,
			                         .script = path,
			                         .display = sc->location,
			                         .cwd = tree,
			                         .envp = envp,
			                         .runas = sc->runas,
			                         .timeout_s = sc->timeout_s ? sc->timeout_s : 3600,
			                         .grace_s = r->ctx->cfg->hook_grace_s,
			                         .on_spawn = journal_hook_spawned,
			                         .spawn_ctx = r};
			log_info("running %s (revision %s)%s%s", sc->location, rev_version,
			         sc->runas ? " as " : "", sc->runas ? sc->runas : "");
			hr = hook_run(&hr_in, &res, err);
		}
		hookenv_free(envp);
		if (hr != 0) {
			herr_prefix(err, "%s %s", event, sc->location);
			status_copy(step->detail, sizeof(step->detail), err->msg);
			ok = false;
		} else if (res.outcome != HOOK_OK) {
			hook_outcome_describe(&res, desc, sizeof(desc));
			herr_set(err, HOIST_EXIT_FAILED, "%s: script %s of revision %s %s", event,
			         sc->location, rev_version, desc);
			status_copy(step->detail, sizeof(step->detail), err->msg);
			status_copy(r->st->failed_event, sizeof(r->st->failed_event), event);
			status_copy(r->st->failed_script, sizeof(r->st->failed_script), sc->location);
			status_copy(r->st->failed_outcome, sizeof(r->st->failed_outcome), desc);
			status_copy(r->st->tail, sizeof(r->st->tail), res.tail);
			ok = false;
		}
	}
	step->duration_s = mono_now() - t0;
	if (!ok && ignorable) {
		log_warnx("%s failed and is ignored: %s", event, err->msg);
		status_copy(step->result, sizeof(step->result), "ignored");
		herr_clear(err);
		ok = true;
	} else {
		status_copy(step->result, sizeof(step->result), ok ? "ok" : "failed");
	}
	log_info("%s %s in %.3f s", event, step->result, step->duration_s);
	if (journal_end(r->j, event, ok, ok ? err : &(struct herr){0}) != 0 && ok)
		goto out;
	rc = ok ? 0 : -1;
out:
	log_set_phase(NULL);
	return rc;
}

/* The health checks of the new revision (hoist.yml); skipped without one. A
 * failure fails the deployment like a failed ValidateService script. */
static int run_health(struct run *r, struct herr *err)
{
	struct status_step *step;
	char **envp = NULL;
	double t0 = mono_now();
	int rc = -1;

	if (r->health == NULL)
		return 0;
	step = step_add(r->st, "HealthCheck", r->version);
	if (journal_begin(r->j, "HealthCheck", err) != 0)
		return -1;
	log_set_phase("HealthCheck");
	for (size_t i = 0; i < r->health->n; i++) {
		const struct health_check *c = &r->health->checks[i];
		char path[PATH_MAX];
		/* a bundle's own check script, zipped without modes, is made executable like a hook */
		if (c->type == HEALTH_COMMAND && c->argv[0][0] != '/' &&
		    fs_path_join(path, sizeof(path), r->np.tree, c->argv[0]) == 0)
			make_executable(path, c->argv[0]);
	}
	/* Commands run as the user each names: HOME and USER are those of hoist here. */
	envp = run_env(r, "HealthCheck", r->np.tree, r->version, NULL);
	if (envp == NULL) {
		herr_set(err, HOIST_EXIT_INTERNAL,
		         "out of memory building the environment of the health checks");
		goto out;
	}
	if (health_check(r->health, r->np.tree, envp, r->ctx->cfg->hook_grace_s, journal_hook_spawned, r,
	                 &r->st->health) == 0) {
		rc = 0;
	} else {
		herr_set(err, HOIST_EXIT_FAILED, "%s", r->st->health.error);
		status_copy(step->detail, sizeof(step->detail), err->msg);
		status_copy(r->st->failed_event, sizeof(r->st->failed_event), "HealthCheck");
	}
out:
	hookenv_free(envp);
	step->duration_s = mono_now() - t0;
	status_copy(step->result, sizeof(step->result), rc == 0 ? "ok" : "failed");
	log_info("HealthCheck %s in %.3f s", step->result, step->duration_s);
	log_set_phase(NULL);
	if (journal_end(r->j, "HealthCheck", rc == 0, rc == 0 ? err : &(struct herr){0}) != 0)
		rc = -1;
	return rc;
}

/* The Install step: old files out, new files in, then the installed record. */
static int run_install(struct run *r, struct install_plan *plan, struct herr *err)
{
	struct status_step *step = step_add(r->st, "Install", r->version);
	double t0 = mono_now();
	int rc = -1;

	if (journal_begin(r->j, "Install", err) != 0)
		return -1;
	r->install_begun = true;
	log_set_phase("Install");
	if (install_apply(plan, err) != 0)
		goto out;
	/* The complete list replaces the partial one only now, so a crash
	 * before this point is seen as a partial Install by recovery. */
	if (rename(r->np.partial, r->np.list) != 0) {
		herr_errno(err, HOIST_EXIT_IO, errno, "cannot rename %s", r->np.partial);
		goto out;
	}
	if (fs_fsync_parent(r->np.list, err) != 0 ||
	    rev_record_write(r->ctx->state, "installed", r->version, r->id, meta_get(r->meta, "sha256"),
	                     err) != 0)
		goto out;
	r->install_ended = true;
	{
		/* what hoist verify compares with later; informational, so only a warning */
		struct herr me;
		herr_clear(&me);
		if (file_manifest_write(r->np.list, r->ctx->root, r->np.dir, &me) != 0)
			log_warnx("cannot write the manifest of %s (hoist verify falls back to its "
			          "installed list): %s",
			          r->version, me.msg);
	}
	rc = 0;
out:
	step->duration_s = mono_now() - t0;
	status_copy(step->result, sizeof(step->result), rc == 0 ? "ok" : "failed");
	if (rc != 0)
		status_copy(step->detail, sizeof(step->detail), err->msg);
	log_info("Install %s in %.3f s", step->result, step->duration_s);
	log_set_phase(NULL);
	if (journal_end(r->j, "Install", rc == 0, rc == 0 ? err : &(struct herr){0}) != 0)
		rc = -1;
	return rc;
}

/* What the last deploy_kept left when it failed: an undo that could not remove
 * everything (a read-only or failing destination), or an Install cut short. The
 * host then holds no whole revision; the caller keeps the journal so that
 * `hoist recover` (or the next run) finishes the job once the cause is fixed. */
static struct left_state {
	bool undo_failed;
	bool install_cut;
	char why[HERR_MSG_MAX];
} left;

/* Undoes an Install that began and did not end: the new partial files and
 * what is left of the previous revision; the host then holds no revision.
 * A list whose undo fails is kept, and so is the installed record when the
 * previous revision's files could not all be removed: a record of what is
 * still on the host is never dropped. Returns false when something is left. */
static bool undo_partial_install(const struct deploy_ctx *ctx, const struct rev_paths *np,
                                 const char *prev_version)
{
	struct herr e;
	bool prev_left = false;
	herr_clear(&e);
	if (fs_exists(np->partial) == 1) {
		if (install_undo(np->partial, ctx->root, &e) != 0) {
			log_warnx("cannot undo the partial install %s: %s", np->partial, e.msg);
			left.undo_failed = true;
		} else {
			(void)unlink(np->partial);
		}
	}
	/* A crash between the list's rename and the installed record leaves a
	 * complete new list (a stale one was removed before Install began). */
	if (!left.undo_failed && fs_exists(np->list) == 1 && install_undo(np->list, ctx->root, &e) != 0) {
		log_warnx("cannot undo %s: %s", np->list, e.msg);
		left.undo_failed = true;
	}
	if (prev_version != NULL && prev_version[0]) {
		struct rev_paths pp;
		struct herr pe;
		herr_clear(&pe);
		if (rev_paths(ctx->state, prev_version, &pp, &pe) == 0 && fs_exists(pp.list) == 1 &&
		    install_undo(pp.list, ctx->root, &pe) != 0) {
			log_warnx("cannot undo the files of %s: %s", prev_version, pe.msg);
			prev_left = true;
			if (!left.undo_failed)
				e = pe;
			left.undo_failed = true;
		}
	}
	if (left.undo_failed) {
		snprintf(left.why, sizeof(left.why), "files could not be removed (%.700s); %s", e.msg,
		         prev_left ? "the installed record still names the revision whose files remain"
		                   : "the installed list of the cut Install is kept");
		log_error("the partial install could not be undone: %s", left.why);
		if (!prev_left && rev_record_remove(ctx->state, "installed", &e) != 0)
			log_warnx("%s", e.msg);
		return false;
	}
	if (rev_record_remove(ctx->state, "installed", &e) != 0)
		log_warnx("%s", e.msg);
	log_info("the partial install was undone; no revision is installed");
	return true;
}

/* A kept tree whose linked files changed in place is unpacked again (kepttree.h). */
static int kept_tree_ready(struct run *r, struct herr *err)
{
	struct bundle_limits lim;
	char tmp[PATH_MAX];
	if (state_path(r->ctx, "tmp", tmp, err) != 0)
		return -1;
	preflight_bundle_limits(r->ctx->cfg, r->ctx->policy, &lim);
	if (kepttree_ready(r->np.dir, r->np.tree, meta_get(r->meta, "bundle"), tmp, r->id, &lim, err) != 0) {
		herr_prefix(err, "revision %s", r->version);
		return -1;
	}
	return 0;
}

/* The lifecycle of one kept revision. On failure the Install (if partial) is undone
 * and the journal is closed but kept (the caller rolls back or discards it). */
static int lifecycle(struct run *r, struct herr *err)
{
	struct appspec *spec = NULL, *pspec = NULL;
	struct install_plan *plan = NULL;
	struct journal_info ji;
	char jpath[PATH_MAX], good[REV_NAME_MAX];
	const char *prev_list = NULL;
	int rc = -1;

	if (rev_record_version(r->ctx->state, "installed", r->installed, sizeof(r->installed), err) != 0 ||
	    rev_record_version(r->ctx->state, "last-good", good, sizeof(good), err) != 0 ||
	    state_path(r->ctx, "journal", jpath, err) != 0)
		goto out;
	if (kept_tree_ready(r, err) != 0)
		goto out;
	if (appspec_load_bundle(r->np.tree, &spec, err) != 0 ||
	    health_load(r->np.tree, &r->health, err) != 0) {
		herr_prefix(err, "revision %s", r->version);
		goto out;
	}
	if (r->installed[0]) {
		if (rev_paths(r->ctx->state, r->installed, &r->pp, err) != 0)
			goto out;
		if (fs_exists(r->pp.list) == 1)
			prev_list = r->pp.list;
		if (appspec_load_bundle(r->pp.tree, &pspec, err) != 0) {
			if (!r->ignore_stop) {
				herr_prefix(err,
				            "installed revision %s (its ApplicationStop scripts; "
				            "--ignore-stop-failures skips them)",
				            r->installed);
				goto out;
			}
			log_warnx("installed revision %s: %s; its stop hooks are skipped", r->installed,
			          err->msg);
			herr_clear(err);
		}
	}
	if (!r->restart)
		(void)unlink(r->np.partial);
	/* A list left from an older install of this version would be taken for
	 * this one by recovery; the installed revision's own list is kept (it is
	 * what Install undoes). */
	if (strcmp(r->installed, r->version) != 0 && fs_exists(r->np.list) == 1 &&
	    (unlink(r->np.list) != 0 || fs_fsync_parent(r->np.list, err) != 0)) {
		if (err->code == 0)
			herr_errno(err, HOIST_EXIT_IO, errno, "cannot remove %s", r->np.list);
		goto out;
	}
	if (!r->restart) {
		struct install_opts io = {.root = r->ctx->root,
		                          .tree = r->np.tree,
		                          .spec = spec,
		                          .prev_list = prev_list,
		                          .new_list = r->np.partial};
		/* Every conflict and every host and policy check (preflight.h) is made here,
		 * before any hook or file changes the host. */
		if (install_plan(&io, &plan, err) != 0 ||
		    preflight_plan(r->ctx->policy, spec, r->ignore_stop ? NULL : pspec, plan, NULL, err) != 0)
			goto out;
		/* only with a kept bundle to unpack the tree again from (kepttree.h) */
		install_plan_set_links(plan, r->ctx->cfg->install_links && meta_get(r->meta, "bundle") != NULL,
		                       spec);
		install_plan_record_tree(plan, meta_get(r->meta, "bundle") != NULL);
	}
	memset(&ji, 0, sizeof(ji));
	status_copy(ji.id, sizeof(ji.id), r->id);
	status_copy(ji.kind, sizeof(ji.kind), r->kind);
	status_copy(ji.version, sizeof(ji.version), r->version);
	status_copy(ji.installed, sizeof(ji.installed), r->installed);
	status_copy(ji.last_good, sizeof(ji.last_good), good);
	if (journal_create(jpath, &ji, &r->j, err) != 0)
		goto out;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		const struct appspec *s = order[i].of == OF_INSTALLED ? pspec : spec;
		const struct appspec_hook *h;
		if (r->restart && !restart_step(order[i].event))
			continue;
		if (order[i].of == OF_HEALTH) {
			if (run_health(r, err) != 0)
				goto out;
			continue;
		}
		if (order[i].of == OF_INSTALL_STEP) {
			if (run_install(r, plan, err) != 0)
				goto out;
			continue;
		}
		if (s == NULL || (h = appspec_hook(s, order[i].event)) == NULL || h->n_scripts == 0)
			continue;
		if (run_event(r, order[i].event, h, order[i].of == OF_INSTALLED ? r->pp.tree : r->np.tree,
		              order[i].of == OF_INSTALLED ? r->installed : r->version,
		              order[i].of == OF_INSTALLED && r->ignore_stop, err) != 0)
			goto out;
	}
	rc = 0;
out:
	if (rc != 0 && r->install_begun && !r->install_ended) {
		left.install_cut = true;
		(void)undo_partial_install(r->ctx, &r->np, r->installed);
	}
	install_plan_free(plan);
	appspec_free(spec);
	appspec_free(pspec);
	hoistyml_free(r->health);
	r->health = NULL;
	return rc;
}

/* Deploys a kept revision and records the outcome; closes (success: removes) the journal. */
static int deploy_kept(const struct deploy_ctx *ctx, const char *id, const char *kind, const char *version,
                       struct record *meta, bool ignore_stop, struct deploy_status *st, struct herr *err)
{
	struct left_state before;
	struct run r;
	struct herr e;
	double t0 = mono_now();
	int rc = -1;

	memset(&r, 0, sizeof(r));
	before = left;
	memset(&left, 0, sizeof(left));
	r.ctx = ctx;
	r.id = id;
	r.kind = kind;
	r.version = version;
	r.meta = meta;
	r.ignore_stop = ignore_stop;
	r.st = st;
	r.restart = strcmp(kind, "restart") == 0;
	if (rev_paths(ctx->state, version, &r.np, err) != 0)
		goto out;
	log_info("%s %s: revision %s", kind, id, version);
	if (lifecycle(&r, err) != 0)
		goto out;
	if (r.install_ended) {
		/* what hoist verify compares with: the files as this deployment's hooks left them */
		herr_clear(&e);
		if (file_manifest_refresh(ctx->root, r.np.dir, &e) != 0)
			log_warnx("cannot update the manifest of %s: %s", version, e.msg);
	}
	/* Records first, journal last: the journal's removal commits the deployment. */
	{
		char bytes[32];
		snprintf(bytes, sizeof(bytes), "%llu", (unsigned long long)rev_dir_bytes(r.np.dir));
		meta_set(meta, "bytes", bytes);
	}
	if (meta_save(meta, r.np.meta, id, "succeeded", err) != 0 ||
	    rev_record_write(ctx->state, "last-good", version, id, meta_get(meta, "sha256"), err) != 0 ||
	    rev_record_write(ctx->state, "current", version, id, meta_get(meta, "sha256"), err) != 0 ||
	    journal_close(r.j, true, err) != 0) {
		r.j = NULL;
		goto out;
	}
	r.j = NULL;
	rc = 0;
out:
	herr_clear(&e);
	/* refused before its journal existed: the host is as the previous run left it */
	if (rc != 0 && r.j == NULL && !r.install_begun)
		left = before;
	if (r.j != NULL)
		(void)journal_close(r.j, false, &e);
	st->duration_s += mono_now() - t0; /* after the staging time, if any */
	if (rc != 0) {
		status_copy(st->error, sizeof(st->error), err->msg);
		(void)meta_save(meta, r.np.meta, id, "failed", &e);
	}
	status_copy(st->result, sizeof(st->result), rc == 0 ? "succeeded" : "failed");
	st->exit_code = rc == 0 ? 0 : (err->code ? err->code : HOIST_EXIT_FAILED);
	return rc;
}

/* Removes STATE/journal (the deployment is over, whatever its outcome). */
static void journal_discard(const struct deploy_ctx *ctx)
{
	char p[PATH_MAX];
	struct herr e;
	if (state_path(ctx, "journal", p, &e) == 0 && unlink(p) == 0)
		(void)fs_fsync_dir(ctx->state, &e);
}

/* Ends a failed deployment's journal: removed, unless the host was left
 * without a whole revision (an undo failed; or, with cut_counts, an Install
 * was cut), in which case it is kept for `hoist recover` and st says so. */
static void journal_end_failed(const struct deploy_ctx *ctx, bool cut_counts, struct deploy_status *st)
{
	char note[sizeof(st->error) + sizeof(left.why) + 256];
	if (!left.undo_failed && !(cut_counts && left.install_cut)) {
		journal_discard(ctx);
		return;
	}
	snprintf(note, sizeof(note),
	         "%s%sthe host holds no whole revision: %s; the journal is kept: once the cause is fixed, "
	         "'hoist recover' (or the next deploy) finishes the job",
	         st->error, st->error[0] ? "; " : "", left.undo_failed ? left.why : "its Install was cut short");
	status_copy(st->error, sizeof(st->error), note);
	log_error("the host holds no whole revision; the journal is kept for 'hoist recover'");
}

/* Opens a revision's deploy.log for appending and attaches it to the log. */
static int open_log(const struct rev_paths *p)
{
	int fd = open(p->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd >= 0)
		log_set_file(fd);
	return fd;
}

static void close_log(int fd)
{
	if (fd >= 0) {
		log_set_file(-1);
		close(fd);
	}
}

/* Reads a revision's meta record (missing -> empty). */
static int meta_read(const struct rev_paths *p, struct record *m, struct herr *err)
{
	return record_read(p->meta, m, err) < 0 ? -1 : 0;
}

/* A journal that cannot be read leaves hoist unable to tell what the interrupted
 * deployment changed, so nothing is changed; the message says what to do. */
static void journal_unusable_hint(const char *jpath, struct herr *err)
{
	char msg[HERR_MSG_MAX];
	snprintf(msg, sizeof(msg), "%s", err->msg);
	herr_set(err, HOIST_EXIT_IO,
	         "%s; hoist cannot tell what the interrupted deployment changed and changes nothing: "
	         "look at the file, move it aside (mv %s %s.bad), then run 'hoist rollback' to put the "
	         "last good revision back whole (docs/operations.md, 'A journal that cannot be read')",
	         msg, jpath, jpath);
}

/* The meta of an interrupted deployment's revision says so (result=interrupted)
 * when the deployment had written it: still "in-progress", or already
 * "succeeded" under this deployment's id (killed before last-good and current
 * were written). So list, the default rollback target and the stub's "failed
 * here" rule never take it for a success. Informational: a failure only warns. */
static void mark_interrupted(const struct rev_paths *np, const char *id)
{
	struct record m;
	struct herr e;
	const char *res, *mid;
	herr_clear(&e);
	record_init(&m);
	if (record_read(np->meta, &m, &e) == 0) {
		res = record_get(&m, "result");
		mid = record_get(&m, "deployment_id");
		if ((res != NULL && strcmp(res, "in-progress") == 0) || (mid != NULL && strcmp(mid, id) == 0)) {
			if (record_set(&m, "result", "interrupted") != 0 || record_write(np->meta, &m, &e) != 0)
				log_warnx("cannot mark %s interrupted: %s", np->meta, e.msg);
		}
	} else if (e.code != 0) {
		log_warnx("%s", e.msg);
	}
	record_free(&m);
}

static bool is_protected(const struct deploy_ctx *ctx, const char *version);
static void drop_refused(const struct rev_paths *np, const struct record *meta, bool reuse);

/* Without a journal, no deployment runs (the lock is held): a meta still
 * "in-progress" was left by a run killed before its journal existed (while
 * its bundle was unpacked). Such a revision changed nothing on the host: it
 * is marked interrupted and keeps only its record, unless a record names it
 * (a kept revision being redeployed), whose meta says succeeded again. */
static void mark_stale_in_progress(const struct deploy_ctx *ctx)
{
	struct rev_entry *e = NULL;
	size_t n = 0;
	struct herr er;
	herr_clear(&er);
	if (rev_list(ctx->state, &e, &n, &er) != 0) {
		log_warnx("%s", er.msg);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct rev_paths p;
		struct record m;
		char good[REV_NAME_MAX], cur[REV_NAME_MAX];
		bool kept;
		if (strcmp(e[i].result, "in-progress") != 0 || rev_paths(ctx->state, e[i].version, &p, &er) != 0)
			continue;
		kept = (rev_record_version(ctx->state, "last-good", good, sizeof(good), &er) == 0 &&
		        strcmp(good, e[i].version) == 0) ||
		       (rev_record_version(ctx->state, "current", cur, sizeof(cur), &er) == 0 &&
		        strcmp(cur, e[i].version) == 0);
		record_init(&m);
		if (record_read(p.meta, &m, &er) == 0 && record_set(&m, "result", kept ? "succeeded" : "interrupted") == 0 &&
		    record_write(p.meta, &m, &er) == 0)
			log_warnx("revision %s was left in progress by a run killed before it changed the host; "
			          "marked %s",
			          e[i].version, kept ? "succeeded (it is current or last good)" : "interrupted");
		if (!kept && !is_protected(ctx, e[i].version))
			drop_refused(&p, &m, false);
		/* the status it published still says in-progress */
		{
			struct deploy_status *st = calloc(1, sizeof(*st));
			const char *mid = meta_get(&m, "deployment_id");
			if (st != NULL) {
				status_start(st, mid ? mid : "-", "deploy", e[i].version, &m);
				status_copy(st->result, sizeof(st->result), "interrupted");
				snprintf(st->error, sizeof(st->error),
				         "the deployment of %s was interrupted while its bundle was unpacked, before it "
				         "changed the host",
				         e[i].version);
				st->exit_code = HOIST_EXIT_FAILED;
				status_publish(ctx, st, p.dir);
				free(st);
			}
		}
		record_free(&m);
	}
	free(e);
}

/* A deployment refused before it touched the host keeps only its record
 * (meta, status, deploy.log): the unpacked tree and the kept bundle go. A
 * kept revision redeployed (reuse) keeps everything. */
static void drop_refused(const struct rev_paths *np, const struct record *meta, bool reuse)
{
	struct herr e;
	const char *b = meta_get(meta, "bundle");
	char bp[PATH_MAX];
	herr_clear(&e);
	if (reuse)
		return;
	if (fs_rm_rf(np->tree, &e) != 0)
		log_warnx("cannot remove the tree of the refused deployment: %s", e.msg);
	if (b != NULL && fs_path_join(bp, sizeof(bp), np->dir, b) == 0 && unlink(bp) != 0 && errno != ENOENT)
		log_warnx("cannot remove %s: %s", bp, strerror(errno));
}

/* After a failed deployment that touched the host: redeploy last-good, or not.
 * Returns the exit code and fills st->rollback. */
static int after_failure(const struct deploy_ctx *ctx, const char *failed_version, bool no_rollback,
                         struct deploy_status *st, struct deploy_status *rb, struct herr *err)
{
	char good[REV_NAME_MAX], id[32];
	struct rev_paths gp;
	struct record gm;
	struct herr e;
	int lfd = -1, code = HOIST_EXIT_FAILED;

	herr_clear(&e);
	record_init(&gm);
	if (rev_record_version(ctx->state, "last-good", good, sizeof(good), &e) != 0)
		good[0] = '\0';
	if (no_rollback || good[0] == '\0' || rev_paths(ctx->state, good, &gp, &e) != 0 ||
	    fs_exists(gp.tree) != 1) {
		log_warnx("deployment of %s failed; %s", failed_version,
		          no_rollback ? "no rollback (--no-rollback)"
		                      : "no last good revision to roll back to");
		journal_end_failed(ctx, false, st);
		(void)rev_record_remove(ctx->state, "current", &e);
		goto out;
	}
	if (stage_new_id(id, sizeof(id), &e) != 0 || meta_read(&gp, &gm, &e) != 0) {
		log_warnx("rollback impossible: %s", e.msg);
		journal_discard(ctx);
		goto out;
	}
	log_warnx("deployment of %s failed; rolling back to %s", failed_version, good);
	lfd = open_log(&gp);
	status_start(rb, id, "rollback", good, &gm);
	st->rollback = rb;
	/* The failed revision's stop scripts may be what is broken: ignore their failure. */
	if (deploy_kept(ctx, id, "rollback", good, &gm, true, rb, &e) == 0) {
		code = HOIST_EXIT_ROLLED_BACK;
		status_copy(st->result, sizeof(st->result), "rolled-back");
		log_info("rolled back to %s", good);
	} else {
		log_error("rollback to %s failed: %s", good, e.msg);
		journal_end_failed(ctx, true, rb);
		(void)rev_record_remove(ctx->state, "current", &e);
	}
	status_publish(ctx, rb, gp.dir);
out:
	close_log(lfd);
	record_free(&gm);
	(void)err;
	return code;
}

int deploy_recover(const struct deploy_ctx *ctx, bool *did, struct herr *err)
{
	struct journal_info j;
	struct deploy_status *st = NULL;
	struct rev_paths np, gp;
	struct record gm;
	char jpath[PATH_MAX], tmp[PATH_MAX], cur[REV_NAME_MAX], inst[REV_NAME_MAX], good[REV_NAME_MAX];
	char cur_id[64];
	int r, lfd = -1, code = HOIST_EXIT_INTERNAL;

	*did = false;
	record_init(&gm);
	if (state_path(ctx, "journal", jpath, err) != 0 || state_path(ctx, "tmp", tmp, err) != 0)
		return HOIST_EXIT_IO;
	stage_clean_tmp(tmp);
	stage_clean_state_tmp(ctx->state);
	r = journal_read(jpath, &j, err);
	if (r == 1) {
		mark_stale_in_progress(ctx);
		return 0;
	}
	if (r < 0) {
		journal_unusable_hint(jpath, err);
		return err->code ? err->code : HOIST_EXIT_IO;
	}
	*did = true;
	/* A hook the killed hoist left running would race recovery's own hooks. */
	if (j.hook.pgid > 0 && orphans_end(&j.hook, ctx->cfg->hook_grace_s) > 0)
		log_info("the interrupted hook's processes were ended");
	st = calloc(1, sizeof(*st));
	if (st == NULL || rev_paths(ctx->state, j.version, &np, err) != 0 ||
	    rev_record_version(ctx->state, "current", cur, sizeof(cur), err) != 0 ||
	    rev_record_version(ctx->state, "installed", inst, sizeof(inst), err) != 0 ||
	    rev_record_version(ctx->state, "last-good", good, sizeof(good), err) != 0)
		goto out;
	log_warnx("found interrupted %s %s of revision %s (last step begun: %s)", j.kind, j.id, j.version,
	          j.last_step[0] ? j.last_step : "none");
	status_start(st, j.id, "recover", j.version, NULL);
	if (!j.host_touched) {
		history_interrupted(ctx->state, j.id, j.kind, j.version, j.last_step, "interrupted");
		snprintf(st->error, sizeof(st->error),
		         "%s %s of %s was interrupted before it changed the host; discarded", j.kind, j.id,
		         j.version);
		status_copy(st->result, sizeof(st->result), "recovered");
		mark_interrupted(&np, j.id);
		journal_discard(ctx);
		code = 0;
		goto out;
	}
	/* Completed = its own success was recorded (current names this deployment's id). */
	if (rev_record_field(ctx->state, "current", "deployment_id", cur_id, sizeof(cur_id), err) != 0)
		goto out;
	if (strcmp(cur, j.version) == 0 && strcmp(cur_id, j.id) == 0 && strcmp(inst, j.version) == 0 &&
	    fs_exists(np.partial) != 1) {
		history_interrupted(ctx->state, j.id, j.kind, j.version, j.last_step, "succeeded");
		snprintf(st->error, sizeof(st->error), "%s %s of %s had completed; journal removed", j.kind,
		         j.id, j.version);
		status_copy(st->result, sizeof(st->result), "succeeded");
		journal_discard(ctx);
		code = 0;
		goto out;
	}
	history_interrupted(ctx->state, j.id, j.kind, j.version, j.last_step, "interrupted");
	mark_interrupted(&np, j.id);
	if (j.install_begun && !j.install_ended)
		undo_partial_install(ctx, &np, j.installed);
	if (good[0] && rev_paths(ctx->state, good, &gp, err) == 0 && fs_exists(gp.tree) == 1 &&
	    meta_read(&gp, &gm, err) == 0) {
		char id[32];
		if (stage_new_id(id, sizeof(id), err) != 0)
			goto out;
		lfd = open_log(&gp);
		log_warnx("redeploying last good revision %s", good);
		status_start(st, id, "recover", good, &gm);
		if (deploy_kept(ctx, id, "recover", good, &gm, true, st, err) == 0) {
			status_copy(st->result, sizeof(st->result), "recovered");
			code = 0;
		} else {
			journal_end_failed(ctx, true, st);
			(void)rev_record_remove(ctx->state, "current", err);
			code = HOIST_EXIT_FAILED;
		}
		snprintf(st->failed_event, sizeof(st->failed_event), "%.31s", j.last_step);
		{
			char note[HERR_MSG_MAX + 1024];
			snprintf(note, sizeof(note),
			         "interrupted %s %s of %s at %s; redeployed last good %s%s%s", j.kind, j.id,
			         j.version, j.last_step, good, code ? ": " : "", code ? st->error : "");
			status_copy(st->error, sizeof(st->error), note);
		}
		status_publish(ctx, st, gp.dir);
		goto out_nopub;
	}
	/* No last-good: remove everything, the host ends with no revision. */
	if (inst[0]) {
		struct rev_paths ip;
		if (rev_paths(ctx->state, inst, &ip, err) == 0 && fs_exists(ip.list) == 1 &&
		    install_undo(ip.list, ctx->root, err) != 0) {
			/* the record of what is still installed stays, and so does the journal */
			char note[HERR_MSG_MAX + 1024];
			snprintf(note, sizeof(note),
			         "interrupted %s %s of %s at %s; no last good revision is kept and the files of %s "
			         "could not all be removed: %s; once the cause is fixed, 'hoist recover' finishes",
			         j.kind, j.id, j.version, j.last_step, inst, err->msg);
			status_copy(st->error, sizeof(st->error), note);
			status_copy(st->result, sizeof(st->result), "failed");
			code = HOIST_EXIT_FAILED;
			goto out;
		}
	}
	herr_clear(err);
	(void)rev_record_remove(ctx->state, "installed", err);
	(void)rev_record_remove(ctx->state, "current", err);
	journal_discard(ctx);
	snprintf(
	    st->error, sizeof(st->error),
	    "interrupted %s %s of %s at %s; no last good revision is kept, so its files were removed and "
	    "no revision is installed",
	    j.kind, j.id, j.version, j.last_step);
	status_copy(st->result, sizeof(st->result), "recovered");
	code = 0;
out:
	if (st != NULL && code != HOIST_EXIT_INTERNAL)
		status_publish(ctx, st, NULL);
out_nopub:
	if (st != NULL)
		log_info("recovery: %s", st->error);
	close_log(lfd);
	record_free(&gm);
	free(st);
	return code;
}

/* Applies retention after a deployment; a failure only warns (the deployment's outcome stands). */
static void retain(const struct deploy_ctx *ctx)
{
	struct herr e;
	herr_clear(&e);
	if (rev_retain(ctx->state, ctx->cfg->keep_revisions, ctx->cfg->keep_bytes, &e) != 0)
		log_warnx("retention: %s", e.msg);
}

/* Picks the version of a deployment when none was given. */
static int default_version(const char *bundle, bool is_dir, char *out, size_t cap, struct herr *err)
{
	uint8_t d[SHA256_LEN];
	char hex[SHA256_HEX_LEN + 1];
	if (is_dir) {
		struct tm tm;
		time_t now = time(NULL);
		if (gmtime_r(&now, &tm) == NULL || strftime(out, cap, "dir-%Y%m%dT%H%M%SZ", &tm) == 0)
			return herr_set(err, HOIST_EXIT_INTERNAL, "cannot format a version");
		return 0;
	}
	if (sha256_file(bundle, d, err) != 0)
		return -1;
	hex_encode(d, SHA256_LEN, hex);
	snprintf(out, cap, "%.12s", hex);
	return 0;
}

/* Is version named by STATE/current, last-good or installed? */
static bool is_protected(const struct deploy_ctx *ctx, const char *version)
{
	static const char *const names[] = {"current", "last-good", "installed"};
	for (size_t i = 0; i < 3; i++) {
		char v[REV_NAME_MAX];
		struct herr e;
		if (rev_record_version(ctx->state, names[i], v, sizeof(v), &e) == 0 &&
		    strcmp(v, version) == 0)
			return true;
	}
	return false;
}

int deploy_run(const struct deploy_ctx *ctx, const struct deploy_req *req, struct herr *err)
{
	struct deploy_status *st = NULL, *rb = NULL;
	struct bundle_limits lim;
	struct rev_paths np;
	struct record meta;
	struct stat sb;
	char version[REV_NAME_MAX], id[32], hex[SHA256_HEX_LEN + 1], tmp[PATH_MAX], bname[64];
	bool did, is_dir, reuse = false;
	int lfd = -1, code;

	record_init(&meta);
	hex[0] = '\0';
	code = deploy_recover(ctx, &did, err);
	if (code != 0)
		return code;
	if (stat(req->bundle, &sb) != 0) {
		herr_errno(err, HOIST_EXIT_BAD_BUNDLE, errno, "bundle %s", req->bundle);
		return HOIST_EXIT_BAD_BUNDLE;
	}
	is_dir = S_ISDIR(sb.st_mode);
	if (!is_dir && !S_ISREG(sb.st_mode)) {
		herr_set(err, HOIST_EXIT_BAD_BUNDLE, "bundle %s is neither a regular file nor a directory",
		         req->bundle);
		return HOIST_EXIT_BAD_BUNDLE;
	}
	if (req->sha256 != NULL) {
		uint8_t want[SHA256_LEN], got[SHA256_LEN];
		if (is_dir || hex_decode(req->sha256, want, SHA256_LEN) != 0) {
			herr_set(err, HOIST_EXIT_USAGE, "--sha256 needs 64 hex digits and a bundle file");
			return HOIST_EXIT_USAGE;
		}
		if (sha256_file(req->bundle, got, err) != 0)
			return err->code;
		if (!digest_equal(want, got, SHA256_LEN)) {
			herr_set(err, HOIST_EXIT_INTEGRITY, "bundle %s does not have the expected sha256 %s",
			         req->bundle, req->sha256);
			return HOIST_EXIT_INTEGRITY;
		}
		hex_encode(got, SHA256_LEN, hex);
	}
	if (req->version != NULL)
		status_copy(version, sizeof(version), req->version);
	else if (default_version(req->bundle, is_dir, version, sizeof(version), err) != 0)
		return err->code;
	if (stage_new_id(id, sizeof(id), err) != 0 || rev_paths(ctx->state, version, &np, err) != 0 ||
	    state_path(ctx, "tmp", tmp, err) != 0)
		return err->code;

	if (fs_exists(np.tree) == 1 && is_protected(ctx, version)) {
		/* A version in use is immutable: redeploying it must be the same bundle. */
		uint8_t got[SHA256_LEN];
		char kept_hex[SHA256_HEX_LEN + 1];
		const char *kept;
		if (meta_read(&np, &meta, err) != 0)
			goto early;
		kept = meta_get(&meta, "sha256");
		if (!is_dir && kept == NULL && meta_get(&meta, "bundle") != NULL) {
			/* No digest was recorded (no --sha256): hash the kept bundle once. */
			char kp[PATH_MAX];
			if (fs_path_join(kp, sizeof(kp), np.dir, meta_get(&meta, "bundle")) == 0 &&
			    sha256_file(kp, got, err) == 0) {
				hex_encode(got, SHA256_LEN, kept_hex);
				meta_set(&meta, "sha256", kept_hex);
				kept = kept_hex;
			}
			herr_clear(err);
		}
		if (!is_dir && hex[0] == '\0') {
			if (sha256_file(req->bundle, got, err) != 0)
				goto early;
			hex_encode(got, SHA256_LEN, hex);
		}
		if (is_dir || kept == NULL || strcmp(kept, hex) != 0) {
			herr_set(
			    err, HOIST_EXIT_USAGE,
			    "version %s is kept and in use (current, last-good or installed) with different "
			    "content; deploy the new bundle under another --version",
			    version);
			goto early;
		}
		reuse = true;
		log_info("version %s is kept with the same sha256; redeploying it from the cache", version);
	} else if (fs_exists(np.dir) == 1 && fs_rm_rf(np.dir, err) != 0) {
		goto early;
	}
	if (fs_mkdir_p(np.dir, 0755, err) != 0)
		goto early;
	lfd = open_log(&np);
	st = calloc(1, sizeof(*st));
	rb = calloc(1, sizeof(*rb));
	if (st == NULL || rb == NULL) {
		herr_set(err, HOIST_EXIT_INTERNAL, "out of memory");
		goto early;
	}
	if (!reuse) {
		record_free(&meta);
		record_init(&meta);
		meta_set(&meta, "version", version);
		meta_set(&meta, "sha256", hex[0] ? hex : NULL);
	}
	meta_set(&meta, "application", req->application);
	meta_set(&meta, "environment", req->environment);
	meta_set(&meta, "deployment_group", req->group);
	meta_set(&meta, "bundle_bucket", req->bucket);
	meta_set(&meta, "bundle_key", req->key);
	meta_set(&meta, "bundle_etag", req->etag);
	status_start(st, id, "deploy", version, &meta);
	if (meta_save(&meta, np.meta, id, "in-progress", err) != 0)
		goto early;
	status_publish(ctx, st, NULL);
	log_info("deploy %s: version %s from %s", id, version, req->bundle);

	if (!reuse) {
		double t0 = mono_now();
		struct status_step *s = step_add(st, "DownloadBundle", version);
		preflight_bundle_limits(ctx->cfg, ctx->policy, &lim);
		log_set_phase("DownloadBundle");
		if (!is_dir && stage_keep_bundle(req->bundle, np.dir, bname, sizeof(bname), err) == 0)
			meta_set(&meta, "bundle", bname);
		if (err->code == 0)
			(void)stage_tree(req->bundle, tmp, id, np.tree, &lim, err);
		log_set_phase(NULL);
		s->duration_s = mono_now() - t0;
		st->duration_s = s->duration_s;
		status_copy(s->result, sizeof(s->result), err->code == 0 ? "ok" : "failed");
		log_info("DownloadBundle %s in %.3f s", s->result, s->duration_s);
		if (err->code != 0) {
			status_copy(s->detail, sizeof(s->detail), err->msg);
			goto early;
		}
	}
	if (deploy_kept(ctx, id, "deploy", version, &meta, req->ignore_stop_failures, st, err) == 0) {
		code = 0;
	} else {
		/* The journal exists once a step that changes the host began; without
		 * it the deployment was refused first (bad appspec, conflict): nothing to undo. */
		char jp[PATH_MAX];
		bool touched = state_path(ctx, "journal", jp, err) == 0 && fs_exists(jp) == 1;
		code = touched ? after_failure(ctx, version, req->no_rollback, st, rb, err) : err->code;
		if (code == 0)
			code = HOIST_EXIT_FAILED;
		if (!touched)
			drop_refused(&np, &meta, reuse);
	}
	goto done;
early:
	code = err->code ? err->code : HOIST_EXIT_INTERNAL;
	if (st != NULL) {
		status_copy(st->result, sizeof(st->result), "failed");
		status_copy(st->error, sizeof(st->error), err->msg);
		st->exit_code = code;
		st->duration_s = (double)((long long)time(NULL) - st->started);
		(void)meta_save(&meta, np.meta, id, "failed", &(struct herr){0});
		drop_refused(&np, &meta, reuse);
	}
done:
	retain(ctx);
	if (st != NULL) {
		log_set_file(lfd); /* the rollback attached its own revision's log */
		st->exit_code = code;
		status_publish(ctx, st, np.dir);
		if (code != 0)
			log_info("deployment %s of %s: %s (exit %d, %s)", id, version, st->result, code,
			         hoist_exit_name(code));
		else
			log_info("deployment %s of %s succeeded in %.3f s", id, version, st->duration_s);
	}
	close_log(lfd);
	record_free(&meta);
	free(st);
	free(rb);
	return code;
}

int deploy_rollback(const struct deploy_ctx *ctx, const char *to, bool no_rollback, struct herr *err)
{
	struct deploy_status *st = NULL, *rb = NULL;
	struct rev_entry *e = NULL;
	struct rev_paths tp;
	struct record meta;
	char target[REV_NAME_MAX], cur[REV_NAME_MAX], id[32];
	size_t n = 0;
	bool did;
	int lfd = -1, code;

	record_init(&meta);
	code = deploy_recover(ctx, &did, err);
	if (code != 0)
		return code;
	target[0] = '\0';
	if (rev_record_version(ctx->state, "current", cur, sizeof(cur), err) != 0)
		return err->code;
	if (to != NULL) {
		status_copy(target, sizeof(target), to);
	} else {
		if (rev_list(ctx->state, &e, &n, err) != 0)
			return err->code;
		for (size_t i = 0; i < n && !target[0]; i++)
			if (strcmp(e[i].result, "succeeded") == 0 && strcmp(e[i].version, cur) != 0)
				status_copy(target, sizeof(target), e[i].version);
		free(e);
		if (!target[0]) {
			herr_set(err, HOIST_EXIT_NO_REVISION,
			         "no earlier good revision is kept (current is %s); see hoist list",
			         cur[0] ? cur : "none");
			return HOIST_EXIT_NO_REVISION;
		}
	}
	if (rev_paths(ctx->state, target, &tp, err) != 0)
		return HOIST_EXIT_NO_REVISION;
	if (fs_exists(tp.tree) != 1 || meta_read(&tp, &meta, err) != 0) {
		herr_set(err, HOIST_EXIT_NO_REVISION, "revision %s is not kept (see hoist list)", target);
		record_free(&meta);
		return HOIST_EXIT_NO_REVISION;
	}
	st = calloc(1, sizeof(*st));
	rb = calloc(1, sizeof(*rb));
	if (st == NULL || rb == NULL || stage_new_id(id, sizeof(id), err) != 0) {
		code = HOIST_EXIT_INTERNAL;
		goto out;
	}
	lfd = open_log(&tp);
	status_start(st, id, "rollback", target, &meta);
	status_publish(ctx, st, NULL);
	/* An operator rolling back is leaving a revision that misbehaves: its stop
	 * scripts' failure must not keep the good one from coming back. */
	if (deploy_kept(ctx, id, "rollback", target, &meta, true, st, err) == 0) {
		code = 0;
	} else {
		char jp[PATH_MAX];
		bool touched = state_path(ctx, "journal", jp, err) == 0 && fs_exists(jp) == 1;
		code = touched ? after_failure(ctx, target, no_rollback, st, rb, err) : err->code;
		if (code == 0)
			code = HOIST_EXIT_FAILED;
	}
	log_set_file(lfd);
	st->exit_code = code;
	status_publish(ctx, st, tp.dir);
	retain(ctx);
out:
	close_log(lfd);
	record_free(&meta);
	free(st);
	free(rb);
	return code;
}

int deploy_restart(const struct deploy_ctx *ctx, struct herr *err)
{
	struct deploy_status *st = NULL;
	struct rev_paths cp;
	struct record meta;
	char cur[REV_NAME_MAX], inst[REV_NAME_MAX], id[32];
	bool did;
	int lfd = -1, code;

	record_init(&meta);
	code = deploy_recover(ctx, &did, err);
	if (code != 0)
		return code;
	if (rev_record_version(ctx->state, "current", cur, sizeof(cur), err) != 0 ||
	    rev_record_version(ctx->state, "installed", inst, sizeof(inst), err) != 0)
		return err->code;
	if (cur[0] == '\0' || strcmp(cur, inst) != 0) {
		herr_set(err, HOIST_EXIT_NO_REVISION, "nothing to restart: %s%s (deploy or roll back first)",
		         cur[0] ? "the installed files are not those of current revision " : "no current revision",
		         cur);
		return HOIST_EXIT_NO_REVISION;
	}
	if (rev_paths(ctx->state, cur, &cp, err) != 0 || fs_exists(cp.tree) != 1 ||
	    meta_read(&cp, &meta, err) != 0) {
		if (err->code == 0)
			herr_set(err, HOIST_EXIT_NO_REVISION, "revision %s is not kept (see hoist list)", cur);
		record_free(&meta);
		return err->code;
	}
	st = calloc(1, sizeof(*st));
	if (st == NULL || stage_new_id(id, sizeof(id), err) != 0) {
		code = HOIST_EXIT_INTERNAL;
		goto out;
	}
	lfd = open_log(&cp);
	status_start(st, id, "restart", cur, &meta);
	status_publish(ctx, st, NULL);
	log_info("restart %s: revision %s", id, cur);
	/* The files stay; a failed restart is not rolled back (hoist rollback is the operator's call). */
	if (deploy_kept(ctx, id, "restart", cur, &meta, false, st, err) == 0) {
		code = 0;
	} else {
		journal_discard(ctx);
		code = HOIST_EXIT_FAILED;
		st->exit_code = code;
	}
	status_publish(ctx, st, cp.dir);
	if (code != 0)
		log_info("restart %s of %s: failed (exit %d)", id, cur, code);
	else
		log_info("restart %s of %s succeeded in %.3f s", id, cur, st->duration_s);
out:
	close_log(lfd);
	record_free(&meta);
	free(st);
	return code;
}
