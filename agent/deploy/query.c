/* query.c - status, list and validate. */
#include "query.h"

#include <errno.h>
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
#include "health.h"
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
			      "\"last_good\": null, \"health\": {\"result\": \"none\", \"checks\": [], "
			      "\"min_healthy_time_s\": 0, \"duration_ms\": 0, \"error\": null}}\n",
			      out);
		} else {
			fputs("no deployment has run yet\n", out);
		}
		code = 0;
		goto out;
	}
	if (fs_read_file(path, 1u << 20, FS_NOFOLLOW, &b, err) != 0)
		goto out;
	fwrite(b.data, 1, b.len, out);
	if (!json && fs_exists(jpath) == 1)
		fputs(
		    "a deployment is in progress, or was interrupted: the next hoist run (or hoist recover) "
		    "completes or rolls it back\n",
		    out);
	code = 0;
out:
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

int query_validate(const char *path, const struct hoist_config *cfg, FILE *out, struct herr *err)
{
	struct appspec *a = NULL;
	struct health_spec *hs = NULL;
	struct stat st;
	struct buf b;
	char tmpl[] = "/tmp/hoist-validate-XXXXXX", staging[PATH_MAX];
	bool made = false;
	size_t n = strlen(path);
	int code = HOIST_EXIT_BAD_BUNDLE;

	buf_init(&b, 1u << 20);
	if (stat(path, &st) != 0) {
		herr_errno(err, HOIST_EXIT_BAD_BUNDLE, errno, "%s", path);
		goto out;
	}
	if (S_ISREG(st.st_mode) && n >= 9 && strcmp(path + n - 9, HOISTYML_NAME) == 0 &&
	    (n == 9 || path[n - 10] == '/')) {
		/* A lone hoist.yml: its health checks. */
		if (fs_read_file(path, HOISTYML_MAX_BYTES, 0, &b, err) != 0 ||
		    hoistyml_parse(b.data ? b.data : "", b.len, path, &hs, err) != 0)
			goto out;
		fprintf(out, "ok: %s: %zu health check%s\n", path, hs->n, hs->n == 1 ? "" : "s");
		code = 0;
		goto out;
	} else if (S_ISREG(st.st_mode) &&
	    ((n > 4 && strcmp(path + n - 4, ".yml") == 0) || (n > 5 && strcmp(path + n - 5, ".yaml") == 0))) {
		/* A lone appspec: only the document can be checked (no bundle to look into). */
		if (fs_read_file(path, 1u << 20, 0, &b, err) != 0 ||
		    appspec_parse(b.data ? b.data : "", b.len, path, &a, err) != 0)
			goto out;
	} else {
		struct bundle_limits lim;
		bundle_limits_default(&lim);
		lim.max_entries = cfg->max_entries;
		lim.max_total_bytes = cfg->max_extract_bytes;
		lim.max_path_len = cfg->max_path_len;
		lim.allow_setid = cfg->allow_setid;
		if (mkdtemp(tmpl) == NULL) {
			herr_errno(err, HOIST_EXIT_IO, errno, "cannot create a temporary directory");
			goto out;
		}
		made = true;
		if (fs_path_join(staging, sizeof(staging), tmpl, "tree") != 0 ||
		    bundle_stage(path, staging, &lim, err) != 0 || appspec_load_bundle(staging, &a, err) != 0 ||
		    health_load(staging, &hs, err) != 0)
			goto out;
	}
	summary(a, out);
	if (hs != NULL)
		fprintf(out, "ok: %s: %zu health check%s\n", HOISTYML_NAME, hs->n, hs->n == 1 ? "" : "s");
	code = 0;
out:
	if (made) {
		struct herr e;
		(void)fs_rm_rf(tmpl, &e);
	}
	if (code != 0 && err->code == 0)
		herr_set(err, code, "%s: invalid", path);
	if (code != 0 && err->code != HOIST_EXIT_IO)
		err->code = HOIST_EXIT_BAD_BUNDLE;
	appspec_free(a);
	hoistyml_free(hs);
	buf_free(&b);
	return code != 0 ? err->code : 0;
}
