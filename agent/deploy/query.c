/* query.c - status, list and validate. */
#include "query.h"

#include <errno.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "appspec.h"
#include "buf.h"
#include "bundle.h"
#include "exitcodes.h"
#include "fsutil.h"
#include "install.h"
#include "preflight.h"
#include "revisions.h"
#include "status.h"

int query_status(const char *state_dir, bool json, FILE *out, struct herr *err)
{
	char path[PATH_MAX], jpath[PATH_MAX], cur[REV_NAME_MAX], good[REV_NAME_MAX];
	struct buf b;
	int r, code = HOIST_EXIT_IO;

	buf_init(&b, 1u << 20);
	if (fs_path_join(path, sizeof(path), state_dir, json ? "status.json" : "status.txt") != 0 ||
	    fs_path_join(jpath, sizeof(jpath), state_dir, "journal") != 0) {
		herr_set(err, HOIST_EXIT_IO, "state path too long");
		goto out;
	}
	if (rev_record_version(state_dir, "current", cur, sizeof(cur), err) != 0 ||
	    rev_record_version(state_dir, "last-good", good, sizeof(good), err) != 0)
		goto out;
	r = fs_exists(path);
	if (r == 0) {
		if (json) {
			fputs("{\"deployment_id\": null, \"result\": \"none\", \"current\": null, "
			      "\"last_good\": null}\n",
			      out);
		} else {
			fputs("no deployment has run yet\n", out);
		}
		code = 0;
		goto out;
	}
	if (fs_read_file(path, 1u << 20, FS_NOFOLLOW, &b, err) != 0)
		goto out;
	if (json) {
		size_t at = 0;
		if (status_json_valid(b.data ? b.data : "", b.len, &at) != 0) {
			herr_set(err, HOIST_EXIT_IO,
			         "%s is damaged (not JSON from byte %zu); it is rewritten by the next deployment, "
			         "rollback or recover; hoist list shows the kept revisions",
			         path, at);
			goto out;
		}
		fwrite(b.data, 1, b.len, out);
	} else {
		status_print_text(b.data ? b.data : "", b.len, out);
	}
	if (!json && fs_exists(jpath) == 1)
		fputs(
		    "a deployment is in progress, or was interrupted: the next hoist run (or hoist recover) "
		    "completes or rolls it back\n",
		    out);
	code = 0;
out:
	if (json && code != 0) /* stdout stays one JSON document whatever happened */
		fputs("{\"deployment_id\": null, \"result\": \"unknown\"}\n", out);
	buf_free(&b);
	return code;
}

int query_list(const char *state_dir, FILE *out, struct herr *err)
{
	char cur[REV_NAME_MAX], good[REV_NAME_MAX], inst[REV_NAME_MAX];
	struct rev_entry *e = NULL;
	size_t n = 0;

	if (rev_record_version(state_dir, "current", cur, sizeof(cur), err) != 0 ||
	    rev_record_version(state_dir, "last-good", good, sizeof(good), err) != 0 ||
	    rev_record_version(state_dir, "installed", inst, sizeof(inst), err) != 0 ||
	    rev_list(state_dir, &e, &n, err) != 0)
		return err->code ? err->code : HOIST_EXIT_IO;
	fprintf(out, "%-2s %-24s %12s  %-20s  %s\n", "", "VERSION", "BYTES", "DEPLOYED", "RESULT");
	for (size_t i = 0; i < n; i++) {
		char when[32] = "-";
		time_t t = (time_t)e[i].deployed_at;
		struct tm tm;
		if (t > 0 && gmtime_r(&t, &tm) != NULL)
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		fprintf(out, "%c%c %-24s %12llu  %-20s  %s%s\n", strcmp(e[i].version, cur) == 0 ? '*' : ' ',
		        strcmp(e[i].version, good) == 0 ? '+' : ' ', e[i].version,
		        (unsigned long long)e[i].bytes, when, e[i].result[0] ? e[i].result : "-",
		        strcmp(e[i].version, inst) == 0 ? " (installed)" : "");
	}
	fprintf(out, "%zu revision(s); * current, + last-good\n", n);
	free(e);
	return 0;
}

/* Prints the summary of a loaded appspec. */
static void summary(const struct appspec *a, FILE *out)
{
	fprintf(out, "ok: %s: %zu files, %zu permissions, hooks:", a->filename ? a->filename : "appspec",
	        a->n_files, a->n_permissions);
	if (a->n_hooks == 0)
		fputs(" none", out);
	for (size_t i = 0; i < a->n_hooks; i++)
		fprintf(out, " %s(%zu)", a->hooks[i].event, a->hooks[i].n_scripts);
	fputc('\n', out);
}

/* The checks in the order they run (preflight.h); the plan's own come last.
 * A lone appspec.yml has the first three only, its size in place of the bundle. */
enum { CK_POLICY, CK_BUNDLE, CK_APPSPEC, CK_INSTALLED, CK_PLAN, CK_FIRST_PLAN_CHECK };
static const char *const check_names[CK_FIRST_PLAN_CHECK] = {"policy", "bundle", "appspec", "installed_revision",
                                                             "install_plan"};

static const char *check_name(unsigned i, bool lone)
{
	if (lone && i == CK_BUNDLE)
		return "appspec_size";
	return i < CK_FIRST_PLAN_CHECK ? check_names[i] : preflight_plan_checks[i - CK_FIRST_PLAN_CHECK];
}

static unsigned n_checks(bool lone)
{
	return lone ? CK_INSTALLED : CK_FIRST_PLAN_CHECK + PREFLIGHT_N_PLAN_CHECKS;
}

/* What deploy reads of the installed revision before it touches the host:
 * its appspec (its ApplicationStop scripts run first; deploy refuses an
 * unreadable one unless --ignore-stop-failures) and its installed list
 * (what Install replaces; "" when none). */
static int installed_revision(const char *state, char *list, size_t cap, struct appspec **pspec,
                              struct herr *err)
{
	char inst[REV_NAME_MAX];
	struct rev_paths rp;
	list[0] = '\0';
	*pspec = NULL;
	if (state == NULL || fs_exists(state) != 1)
		return 0;
	if (rev_record_version(state, "installed", inst, sizeof(inst), err) != 0)
		return -1;
	if (!inst[0])
		return 0;
	if (rev_paths(state, inst, &rp, err) != 0)
		return -1;
	if (appspec_load_bundle(rp.tree, pspec, err) != 0)
		return herr_prefix(err,
		                   "installed revision %s (its ApplicationStop scripts; "
		                   "--ignore-stop-failures skips them)",
		                   inst);
	if (fs_exists(rp.list) == 1)
		snprintf(list, cap, "%s", rp.list);
	return 0;
}

/* Runs the checks of a deployment on path; *passed counts the checks that passed. */
static int run_checks(const struct preflight_req *q, struct appspec **a, unsigned *passed, bool *lone,
                      struct herr *err)
{
	struct install_plan *plan = NULL;
	struct appspec *pspec = NULL;
	struct stat st;
	char tmpl[PATH_MAX], staging[PATH_MAX], partial[PATH_MAX], prev[PATH_MAX];
	const char *tmpdir = getenv("TMPDIR");
	size_t n = strlen(q->path);
	bool made = false;
	unsigned sub = 0;
	int rc = -1;

	*passed = 0;
	*lone = false;
	if (q->policy_error != NULL) {
		*err = *q->policy_error;
		goto out;
	}
	*passed = CK_BUNDLE;
	if (stat(q->path, &st) != 0) {
		herr_errno(err, HOIST_EXIT_BAD_BUNDLE, errno, "%s", q->path);
		goto out;
	}
	if (S_ISREG(st.st_mode) &&
	    ((n > 4 && strcmp(q->path + n - 4, ".yml") == 0) || (n > 5 && strcmp(q->path + n - 5, ".yaml") == 0))) {
		/* A lone appspec: only the document can be checked (no bundle to look into). */
		struct buf b;
		*lone = true;
		if (st.st_size > APPSPEC_MAX_BYTES) {
			/* the code and words deploy uses for the same file inside a bundle */
			herr_set(err, HOIST_EXIT_BAD_BUNDLE, "%s is larger than %d bytes", q->path, APPSPEC_MAX_BYTES);
			goto out;
		}
		*passed = CK_APPSPEC;
		buf_init(&b, APPSPEC_MAX_BYTES + 1);
		rc = fs_read_file(q->path, APPSPEC_MAX_BYTES + 1, 0, &b, err) != 0 ||
		             appspec_parse(b.data ? b.data : "", b.len, q->path, a, err) != 0
		         ? -1
		         : 0;
		buf_free(&b);
		*passed = rc == 0 ? CK_INSTALLED : CK_APPSPEC;
		goto out;
	}
	if (snprintf(tmpl, sizeof(tmpl), "%s/hoist-preflight-XXXXXX",
	             tmpdir != NULL && tmpdir[0] == '/' ? tmpdir : "/tmp") >= (int)sizeof(tmpl) ||
	    mkdtemp(tmpl) == NULL) {
		herr_errno(err, HOIST_EXIT_IO, errno, "cannot create a temporary directory");
		goto out;
	}
	made = true;
	{
		struct bundle_limits lim;
		preflight_bundle_limits(q->cfg, q->policy, &lim);
		if (fs_path_join(staging, sizeof(staging), tmpl, "tree") != 0 ||
		    fs_path_join(partial, sizeof(partial), tmpl, "installed.partial") != 0 ||
		    bundle_stage(q->path, staging, &lim, err) != 0)
			goto out;
	}
	*passed = CK_APPSPEC;
	if (appspec_load_bundle(staging, a, err) != 0)
		goto out;
	*passed = CK_INSTALLED;
	if (installed_revision(q->state, prev, sizeof(prev), &pspec, err) != 0)
		goto out;
	*passed = CK_PLAN;
	{
		struct install_opts io = {.root = q->cfg->root,
		                          .tree = staging,
		                          .spec = *a,
		                          .prev_list = prev[0] ? prev : NULL,
		                          .new_list = partial};
		if (install_plan(&io, &plan, err) != 0)
			goto out;
	}
	*passed = CK_FIRST_PLAN_CHECK;
	rc = preflight_plan(q->policy, *a, pspec, plan, &sub, err);
	*passed += sub;
out:
	install_plan_free(plan);
	appspec_free(pspec);
	if (made) {
		struct herr e;
		(void)fs_rm_rf(tmpl, &e);
	}
	return rc;
}

/* The preflight report as JSON. */
static void report_json(const struct preflight_req *q, const struct appspec *a, int code, unsigned passed,
                        bool lone, const struct herr *err, FILE *out)
{
	struct buf b;
	buf_init(&b, 1u << 20);
	(void)buf_printf(&b, "{\"path\": ");
	(void)json_string(&b, q->path);
	(void)buf_printf(&b, ", \"result\": \"%s\", \"exit_code\": %d, \"exit_name\": \"%s\", \"policy\": ",
	                 code == 0 ? "ok" : "refused", code, hoist_exit_name(code));
	(void)json_string(&b, q->policy_file != NULL ? q->policy_file : "");
	(void)buf_printf(&b, ", \"checks\": [");
	for (unsigned i = 0; i < n_checks(lone); i++) {
		bool refused = i == passed && code != 0;
		(void)buf_printf(&b, "%s{\"check\": \"%s\", \"result\": \"%s\"", i ? ", " : "",
		                 check_name(i, lone), i < passed ? "ok" : refused ? "refused" : "not-run");
		if (refused) {
			(void)buf_printf(&b, ", \"error\": ");
			(void)json_string(&b, err->msg);
		}
		(void)buf_printf(&b, "}");
	}
	(void)buf_printf(&b, "]");
	if (code == 0 && a != NULL) {
		/* what validate's summary line says, for machines */
		(void)buf_printf(&b, ", \"appspec\": {\"file\": ");
		(void)json_string(&b, a->filename ? a->filename : "appspec.yml");
		(void)buf_printf(&b, ", \"files\": %zu, \"permissions\": %zu, \"hooks\": {", a->n_files,
		                 a->n_permissions);
		for (size_t i = 0; i < a->n_hooks; i++) {
			(void)buf_printf(&b, "%s", i ? ", " : "");
			(void)json_string(&b, a->hooks[i].event);
			(void)buf_printf(&b, ": %zu", a->hooks[i].n_scripts);
		}
		(void)buf_printf(&b, "}}");
	}
	if (code != 0) {
		(void)buf_printf(&b, ", \"error\": ");
		(void)json_string(&b, err->msg);
	}
	(void)buf_printf(&b, "}\n");
	if (b.data != NULL)
		fwrite(b.data, 1, b.len, out);
	buf_free(&b);
}

int query_preflight(const struct preflight_req *q, FILE *out, struct herr *err)
{
	struct appspec *a = NULL;
	unsigned passed = 0;
	bool lone = false;
	int code = 0;

	if (run_checks(q, &a, &passed, &lone, err) != 0) {
		code = err->code ? err->code : HOIST_EXIT_BAD_BUNDLE;
		err->code = code;
	}
	if (q->json) {
		report_json(q, a, code, passed, lone, err, out);
	} else if (q->verbose_checks) {
		for (unsigned i = 0; i < passed && i < n_checks(lone); i++)
			fprintf(out, "ok: %s\n", check_name(i, lone));
		if (code != 0)
			fprintf(out, "refused: %s (exit %d, %s)\n", check_name(passed, lone), code,
			        hoist_exit_name(code));
		else
			summary(a, out);
	} else if (code == 0) {
		summary(a, out);
	}
	appspec_free(a);
	return code;
}
