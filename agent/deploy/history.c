/* history.c - STATE/history: one entry per deployment, newest HISTORY_KEEP kept. */
#include "history.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "exitcodes.h"
#include "fsutil.h"
#include "healthreport.h"
#include "log.h"

#define ENTRY_MAX (256u * 1024u)

/* RFC 3339 UTC of t, quoted for JSON (null when t < 0), or bare ("-"). */
static int stamp_as(struct buf *o, long long t, bool quoted)
{
	char tb[32];
	struct tm tm;
	time_t tt = (time_t)t;
	if (t < 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(tb, sizeof(tb), quoted ? "\"%Y-%m-%dT%H:%M:%SZ\"" : "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return buf_append_str(o, quoted ? "null" : "-");
	return buf_append_str(o, tb);
}

static int stamp(struct buf *o, long long t)
{
	return stamp_as(o, t, true);
}

static int str_or_null(struct buf *o, const char *s)
{
	return s != NULL && s[0] ? json_string(o, s) : buf_append_str(o, "null");
}

/* A step that changed (or may have changed) the host: anything but staging the bundle. */
static bool touched(const struct deploy_status *st)
{
	for (size_t i = 0; i < st->n_steps; i++)
		if (strcmp(st->steps[i].event, "DownloadBundle") != 0)
			return true;
	return false;
}

const char *history_result(const struct deploy_status *st)
{
	const char *r = st->result;
	if (strcmp(r, "recovered") == 0)
		return "succeeded";
	if (strcmp(r, "failed") == 0 && !touched(st))
		return "refused";
	if (r[0] == '\0')
		return "in-progress";
	return r;
}

/* The first failed step, else the status' failed event (a recovery's interrupted step). */
static const char *failed_step(const struct deploy_status *st)
{
	for (size_t i = 0; i < st->n_steps; i++)
		if (strcmp(st->steps[i].result, "failed") == 0)
			return st->steps[i].event;
	return st->failed_event;
}

static const char *rolled_back_to(const struct deploy_status *st)
{
	return strcmp(st->result, "rolled-back") == 0 && st->rollback != NULL ? st->rollback->version : NULL;
}

int history_entry_json(const struct deploy_status *st, long long finished, struct buf *o)
{
	const char *res = history_result(st);
	bool failed = strcmp(res, "succeeded") != 0 && strcmp(res, "in-progress") != 0;
	int bad = buf_append_str(o, "{\"id\": ") | json_string(o, st->id);
	bad |= buf_append_str(o, ", \"version\": ") | json_string(o, st->version);
	bad |= buf_append_str(o, ", \"kind\": ") | json_string(o, st->kind);
	bad |= buf_append_str(o, ", \"result\": ") | json_string(o, res);
	bad |= buf_append_str(o, ", \"started\": ") | stamp(o, st->started);
	bad |= buf_append_str(o, ", \"finished\": ") | stamp(o, finished);
	bad |= buf_append_str(o, ", \"failed_step\": ") | str_or_null(o, failed ? failed_step(st) : NULL);
	bad |= buf_append_str(o, ", \"steps\": [");
	for (size_t i = 0; i < st->n_steps; i++) {
		const struct status_step *s = &st->steps[i];
		bad |= buf_append_str(o, i ? ", {\"name\": " : "{\"name\": ") | json_string(o, s->event);
		bad |= buf_append_str(o, ", \"result\": ") | json_string(o, s->result);
		bad |= buf_append_str(o, ", \"started\": ") | stamp(o, s->started);
		bad |= buf_printf(o, ", \"duration_ms\": %lld}", (long long)(s->duration_s * 1000.0 + 0.5));
	}
	bad |= buf_append_str(o, "], \"output_tail\": ") | str_or_null(o, failed ? st->tail : NULL);
	bad |= buf_append_str(o, ", \"rolled_back_to\": ") | str_or_null(o, rolled_back_to(st));
	bad |= buf_printf(o, ", \"exit_code\": %d, \"error\": ", st->exit_code) | str_or_null(o, st->error);
	bad |= buf_append_str(o, ", \"health\": ") | health_report_json(&st->health, o);
	bad |= buf_append_str(o, "}");
	return bad ? -1 : 0;
}

int history_entry_text(const struct deploy_status *st, long long finished, struct buf *o)
{
	const char *res = history_result(st);
	const char *fs = failed_step(st), *to = rolled_back_to(st);
	int bad = stamp_as(o, st->started, false);
	bad |= buf_printf(o, "  %s  %-8s %-24s %s", st->id, st->kind, st->version, res);
	if (finished >= 0)
		bad |= buf_printf(o, " in %lld s", finished - st->started);
	if (strcmp(res, "succeeded") != 0 && strcmp(res, "in-progress") != 0 && fs[0])
		bad |= buf_printf(o, " at %s", fs);
	if (to != NULL)
		bad |= buf_printf(o, ", rolled back to %s", to);
	if (st->exit_code)
		bad |= buf_printf(o, " (exit %d)", st->exit_code);
	bad |= buf_append_str(o, "\n");
	for (size_t i = 0; i < st->n_steps; i++)
		bad |= buf_printf(o, "    %-18s %-8s %8.3f s\n", st->steps[i].event, st->steps[i].result,
		                  st->steps[i].duration_s);
	bad |= health_report_text(&st->health, "  ", o);
	if (st->error[0] && strcmp(res, "succeeded") != 0)
		bad |= buf_printf(o, "    error: %s\n", st->error);
	return bad ? -1 : 0;
}

static int cmp_desc(const void *a, const void *b)
{
	return strcmp(*(char *const *)b, *(char *const *)a);
}

/* The entry names (without extension: "<key>-<id>.<kind>"), newest first. */
static int list_entries(const char *dir, char ***out, size_t *n, struct herr *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t cap = 0;
	*out = NULL;
	*n = 0;
	if (d == NULL) {
		if (errno == ENOENT)
			return 0;
		return herr_errno(err, HOIST_EXIT_IO, errno, "cannot read %s", dir);
	}
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		char *name;
		if (de->d_name[0] == '.' || l < 6 || strcmp(de->d_name + l - 5, ".json") != 0)
			continue;
		if (*n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			char **nv = realloc(*out, nc * sizeof(char *));
			if (nv == NULL)
				goto oom;
			*out = nv;
			cap = nc;
		}
		name = strndup(de->d_name, l - 5);
		if (name == NULL)
			goto oom;
		(*out)[(*n)++] = name;
	}
	closedir(d);
	if (*n > 1) /* qsort takes no NULL, even for 0 elements */
		qsort(*out, *n, sizeof(char *), cmp_desc);
	return 0;
oom:
	closedir(d);
	return herr_set(err, HOIST_EXIT_INTERNAL, "out of memory listing %s", dir);
}

static void free_entries(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* STATE/history/<key>-<id>.<kind>.{json,txt}, key = start time in ms: names sort by
 * start. Start times have a resolution of one second, so a run that starts in the
 * same second as the newest entry gets the newest key + 1: the order stays the
 * order the runs started in. A run saved again keeps the name it was given. */
static int entry_name(const char *dir, const struct deploy_status *st, char *out, size_t cap)
{
	char suffix[128];
	char **v = NULL;
	size_t n = 0;
	long long key = (st->started < 0 ? 0 : st->started) * 1000;
	int rc = -1;
	struct herr e;
	herr_clear(&e);
	if (snprintf(suffix, sizeof(suffix), "-%s.%s", st->id, st->kind) >= (int)sizeof(suffix) ||
	    list_entries(dir, &v, &n, &e) != 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(v[i]), sl = strlen(suffix);
		if (l > sl && strcmp(v[i] + l - sl, suffix) == 0) {
			rc = snprintf(out, cap, "%s", v[i]) >= (int)cap ? -1 : 0;
			goto out;
		}
	}
	if (n > 0 && strtoll(v[0], NULL, 10) >= key)
		key = strtoll(v[0], NULL, 10) + 1;
	rc = snprintf(out, cap, "%020lld%s", key, suffix) >= (int)cap ? -1 : 0;
out:
	free_entries(v, n);
	return rc;
}

/* Removes the entries past the newest HISTORY_KEEP. */
static void prune(const char *dir)
{
	char **v = NULL;
	size_t n = 0;
	struct herr e;
	herr_clear(&e);
	if (list_entries(dir, &v, &n, &e) != 0) {
		log_warnx("history: %s", e.msg);
		return;
	}
	for (size_t i = HISTORY_KEEP; i < n; i++) {
		char p[PATH_MAX];
		static const char *const ext[] = {"json", "txt"};
		for (size_t k = 0; k < 2; k++)
			if (snprintf(p, sizeof(p), "%s/%s.%s", dir, v[i], ext[k]) < (int)sizeof(p))
				(void)unlink(p);
	}
	free_entries(v, n);
}

static void save(const char *state_dir, const struct deploy_status *st, long long finished)
{
	char dir[PATH_MAX], p[PATH_MAX], name[256];
	struct buf b;
	struct herr e;
	herr_clear(&e);
	buf_init(&b, ENTRY_MAX);
	if (fs_path_join(dir, sizeof(dir), state_dir, HISTORY_DIR) != 0 || fs_mkdir_p(dir, 0755, &e) != 0) {
		log_warnx("history: cannot create %s/%s: %s", state_dir, HISTORY_DIR, e.msg);
		goto out;
	}
	if (entry_name(dir, st, name, sizeof(name)) != 0 ||
	    snprintf(p, sizeof(p), "%s/%s.json", dir, name) >= (int)sizeof(p) ||
	    history_entry_json(st, finished, &b) != 0 || buf_append_str(&b, "\n") != 0 ||
	    fs_write_replace(p, b.data, b.len, 0644, &e) != 0)
		goto fail;
	buf_reset(&b);
	if (snprintf(p, sizeof(p), "%s/%s.txt", dir, name) >= (int)sizeof(p) ||
	    history_entry_text(st, finished, &b) != 0 || fs_write_replace(p, b.data, b.len, 0644, &e) != 0)
		goto fail;
	prune(dir);
	goto out;
fail:
	log_warnx("history: cannot record %s %s: %s", st->kind, st->id, e.msg[0] ? e.msg : "entry too large");
out:
	buf_free(&b);
}

void history_save(const char *state_dir, const struct deploy_status *st)
{
	bool over = strcmp(st->result, "in-progress") != 0 && st->result[0] != '\0';
	save(state_dir, st, over ? (long long)time(NULL) : -1);
}

void history_interrupted(const char *state_dir, const char *id, const char *kind, const char *version,
                         const char *last_step, const char *result)
{
	char dir[PATH_MAX], suffix[128];
	char **v = NULL;
	size_t n = 0;
	struct herr e;
	herr_clear(&e);
	if (fs_path_join(dir, sizeof(dir), state_dir, HISTORY_DIR) != 0 ||
	    snprintf(suffix, sizeof(suffix), "-%s.%s", id, kind) >= (int)sizeof(suffix) ||
	    list_entries(dir, &v, &n, &e) != 0)
		return;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(v[i]), sl = strlen(suffix);
		struct deploy_status *st;
		if (l <= sl || strcmp(v[i] + l - sl, suffix) != 0)
			continue;
		st = calloc(1, sizeof(*st));
		if (st == NULL)
			break;
		st->started = strtoll(v[i], NULL, 10) / 1000; /* the key is in ms */
		status_copy(st->id, sizeof(st->id), id);
		status_copy(st->kind, sizeof(st->kind), kind);
		status_copy(st->version, sizeof(st->version), version);
		status_copy(st->result, sizeof(st->result), result);
		if (strcmp(result, "interrupted") == 0) {
			status_copy(st->failed_event, sizeof(st->failed_event), last_step);
			status_copy(st->error, sizeof(st->error),
			            "interrupted (crash, kill or power loss); recovered by the next run");
		}
		save(state_dir, st, -1);
		free(st);
		break;
	}
	free_entries(v, n);
}

int history_print(const char *state_dir, bool json, FILE *out, struct herr *err)
{
	char dir[PATH_MAX], p[PATH_MAX];
	char **v = NULL;
	size_t n = 0;
	struct buf all, one;
	int code = HOIST_EXIT_IO;
	bool first = true;

	buf_init(&all, (size_t)HISTORY_KEEP * ENTRY_MAX * 2);
	buf_init(&one, ENTRY_MAX);
	if (fs_path_join(dir, sizeof(dir), state_dir, HISTORY_DIR) != 0) {
		herr_set(err, HOIST_EXIT_IO, "state path too long");
		goto out;
	}
	if (list_entries(dir, &v, &n, err) != 0) {
		code = err->code;
		goto out;
	}
	if (json && buf_append_str(&all, "{\"deployments\": [") != 0)
		goto big;
	for (size_t i = 0; i < n; i++) {
		buf_reset(&one);
		if (snprintf(p, sizeof(p), "%s/%s.%s", dir, v[i], json ? "json" : "txt") >= (int)sizeof(p))
			continue;
		if (fs_read_file(p, ENTRY_MAX, FS_NOFOLLOW, &one, err) != 0) {
			/* pruned or replaced while we read: skip it */
			herr_clear(err);
			continue;
		}
		while (one.len > 0 && one.data[one.len - 1] == '\n')
			one.data[--one.len] = '\0';
		if (one.len == 0)
			continue;
		if (json && buf_append_str(&all, first ? "\n  " : ",\n  ") != 0)
			goto big;
		if (buf_append(&all, one.data, one.len) != 0 || (!json && buf_append_str(&all, "\n") != 0))
			goto big;
		first = false;
	}
	if (json && buf_append_str(&all, first ? "]}\n" : "\n]}\n") != 0)
		goto big;
	if (!json && first && buf_append_str(&all, "no deployment recorded yet\n") != 0)
		goto big;
	fwrite(all.data, 1, all.len, out);
	code = 0;
	goto out;
big:
	herr_set(err, HOIST_EXIT_INTERNAL, "history too large to print");
	code = HOIST_EXIT_INTERNAL;
out:
	free_entries(v, n);
	buf_free(&all);
	buf_free(&one);
	return code;
}
