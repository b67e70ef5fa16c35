/* revisions.c - kept revisions: paths, records, listing, retention. */
#include "revisions.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "exitcodes.h"
#include "fsutil.h"
#include "log.h"
#include "record.h"
#include "relpath.h"
#include "strutil.h"

/* out = dir/name; herr on overflow. */
static int join(char *out, const char *dir, const char *name, struct herr *err)
{
	if (fs_path_join(out, PATH_MAX, dir, name) != 0)
		return herr_set(err, HOIST_EXIT_IO, "path too long: %.200s/%s", dir, name);
	return 0;
}

int rev_name_check(const char *version, const char *where, struct herr *err)
{
	char shown[64];
	if (str_safe_token(version, REV_NAME_MAX - 1))
		return 0;
	relpath_escape(version, shown, sizeof(shown));
	return herr_set(err, HOIST_EXIT_IO,
	                "%s names version '%s', which is not a version name ([A-Za-z0-9._+-], not starting "
	                "with '.' or '-', no '..'): the state directory was changed by hand or is damaged",
	                where, shown);
}

int rev_paths(const char *state_dir, const char *version, struct rev_paths *p, struct herr *err)
{
	char revs[PATH_MAX];
	/* the last guard: a name from a state file never becomes a path outside revisions/ */
	if (rev_name_check(version, "the state", err) != 0)
		return -1;
	if (join(revs, state_dir, "revisions", err) != 0 || join(p->dir, revs, version, err) != 0 ||
	    join(p->tree, p->dir, "tree", err) != 0 || join(p->list, p->dir, "installed.list", err) != 0 ||
	    join(p->partial, p->dir, "installed.partial", err) != 0 ||
	    join(p->meta, p->dir, "meta", err) != 0 || join(p->log, p->dir, "deploy.log", err) != 0)
		return -1;
	return 0;
}

int rev_record_version(const char *state_dir, const char *name, char *out, size_t cap, struct herr *err)
{
	return rev_record_field(state_dir, name, "version", out, cap, err);
}

int rev_record_field(const char *state_dir, const char *name, const char *key, char *out, size_t cap,
                     struct herr *err)
{
	char path[PATH_MAX];
	struct record r;
	const char *v;
	int rc;

	out[0] = '\0';
	if (join(path, state_dir, name, err) != 0)
		return -1;
	record_init(&r);
	rc = record_read(path, &r, err);
	if (rc < 0 && err->code == HOIST_EXIT_IO && strstr(err->msg, "line ") != NULL) {
		/* parsed and refused: a damaged record, not a failed read; say what to do */
		char msg[HERR_MSG_MAX];
		snprintf(msg, sizeof(msg), "%s", err->msg);
		herr_set(err, HOIST_EXIT_IO,
		         "%s; the record is damaged: it names one kept version ('hoist list'): rewrite it as "
		         "the line version=V or remove it (docs/operations.md, 'Damaged state files')",
		         msg);
	}
	if (rc == 0 && (v = record_get(&r, key)) != NULL) {
		if (strlen(v) >= cap) {
			rc = herr_set(err, HOIST_EXIT_IO, "%s: %s too long", path, key);
		} else if (strcmp(key, "version") == 0 && v[0] != '\0' && rev_name_check(v, path, err) != 0) {
			rc = -1;
		} else {
			memcpy(out, v, strlen(v) + 1);
		}
	}
	record_free(&r);
	return rc < 0 ? -1 : 0;
}

int rev_record_write(const char *state_dir, const char *name, const char *version, const char *deployment_id,
                     const char *sha256, struct herr *err)
{
	char path[PATH_MAX], revdir[PATH_MAX], revs[PATH_MAX], when[32];
	struct record r;
	struct tm tm;
	time_t now = time(NULL);
	int rc = -1;

	record_init(&r);
	if (join(path, state_dir, name, err) != 0 || join(revs, state_dir, "revisions", err) != 0 ||
	    join(revdir, revs, version, err) != 0)
		goto out;
	if (gmtime_r(&now, &tm) == NULL || strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		when[0] = '\0';
	if (record_set(&r, "version", version) != 0 || record_set(&r, "revision", revdir) != 0 ||
	    record_set(&r, "deployment_id", deployment_id ? deployment_id : "") != 0 ||
	    record_set(&r, "deployed_at", when) != 0 || record_set(&r, "sha256", sha256 ? sha256 : "") != 0) {
		herr_set(err, HOIST_EXIT_INTERNAL, "cannot build record %s", path);
		goto out;
	}
	rc = record_write(path, &r, err);
out:
	record_free(&r);
	return rc;
}

int rev_record_remove(const char *state_dir, const char *name, struct herr *err)
{
	char path[PATH_MAX];
	if (join(path, state_dir, name, err) != 0)
		return -1;
	if (unlink(path) != 0 && errno != ENOENT)
		return herr_errno(err, HOIST_EXIT_IO, errno, "cannot remove %s", path);
	return fs_fsync_dir(state_dir, err);
}

/* Newest first; ties by name so the order is stable. */
static int by_time_desc(const void *a, const void *b)
{
	const struct rev_entry *x = a, *y = b;
	if (x->deployed_at != y->deployed_at)
		return x->deployed_at > y->deployed_at ? -1 : 1;
	return strcmp(x->version, y->version);
}

void rev_retention_select(struct rev_entry *e, size_t n, unsigned keep_n, uint64_t keep_bytes)
{
	size_t kept = 0;
	uint64_t bytes = 0;

	if (n > 1)
		qsort(e, n, sizeof(*e), by_time_desc);
	/* Protected entries are counted first so that they use up the budget
	 * before older unprotected ones are considered. */
	for (size_t i = 0; i < n; i++) {
		e[i].remove = false;
		if (e[i].protect) {
			kept++;
			bytes += e[i].bytes;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (e[i].protect)
			continue;
		if (kept < keep_n && bytes + e[i].bytes <= keep_bytes && bytes + e[i].bytes >= bytes) {
			kept++;
			bytes += e[i].bytes;
		} else {
			e[i].remove = true;
		}
	}
}

static uint64_t du_total;

/* nftw callback: sums regular file sizes (a hard-linked bundle counts: it pins the space). */
static int du_entry(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)path;
	(void)f;
	if (type == FTW_F && S_ISREG(st->st_mode))
		du_total += (uint64_t)st->st_size;
	return 0;
}

/* Fills one entry from a revision directory. */
static void read_entry(const char *revs, const char *name, struct rev_entry *e)
{
	char dir[PATH_MAX], meta[PATH_MAX];
	struct record r;
	struct herr err;
	const char *v;

	memset(e, 0, sizeof(*e));
	memcpy(e->version, name, strlen(name) + 1);
	if (fs_path_join(dir, sizeof(dir), revs, name) != 0 ||
	    fs_path_join(meta, sizeof(meta), dir, "meta") != 0)
		return;
	record_init(&r);
	if (record_read(meta, &r, &err) == 0) {
		if ((v = record_get(&r, "deployed_at")) != NULL)
			e->deployed_at = strtod(v, NULL);
		if ((v = record_get(&r, "result")) != NULL && strlen(v) < sizeof(e->result))
			memcpy(e->result, v, strlen(v) + 1);
		if ((v = record_get(&r, "bytes")) != NULL)
			e->bytes = strtoull(v, NULL, 10);
	}
	record_free(&r);
	if (e->bytes == 0)
		e->bytes = rev_dir_bytes(dir);
}

uint64_t rev_dir_bytes(const char *dir)
{
	du_total = 0;
	(void)nftw(dir, du_entry, 16, FTW_PHYS | FTW_MOUNT);
	return du_total;
}

int rev_list(const char *state_dir, struct rev_entry **out, size_t *n, struct herr *err)
{
	char revs[PATH_MAX];
	DIR *d = NULL;
	struct dirent *de;
	struct rev_entry *v = NULL;
	size_t cnt = 0, cap = 0;
	int rc = -1;

	*out = NULL;
	*n = 0;
	if (join(revs, state_dir, "revisions", err) != 0)
		return -1;
	d = opendir(revs);
	if (d == NULL) {
		if (errno == ENOENT)
			return 0;
		return herr_errno(err, HOIST_EXIT_IO, errno, "cannot list %s", revs);
	}
	while ((de = readdir(d)) != NULL) {
		/* a name that is not a version was not made by hoist: never listed, never removed */
		if (!str_safe_token(de->d_name, REV_NAME_MAX - 1))
			continue;
		if (cnt == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct rev_entry *nv = realloc(v, nc * sizeof(*v));
			if (nv == NULL) {
				herr_set(err, HOIST_EXIT_INTERNAL, "out of memory listing %s", revs);
				goto out;
			}
			v = nv;
			cap = nc;
		}
		read_entry(revs, de->d_name, &v[cnt++]);
	}
	if (cnt > 1)
		qsort(v, cnt, sizeof(*v), by_time_desc);
	*out = v;
	*n = cnt;
	v = NULL;
	rc = 0;
out:
	free(v);
	closedir(d);
	return rc;
}

int rev_retain(const char *state_dir, unsigned keep_n, uint64_t keep_bytes, struct herr *err)
{
	char cur[REV_NAME_MAX], good[REV_NAME_MAX], inst[REV_NAME_MAX];
	struct rev_entry *e = NULL;
	size_t n = 0;
	int rc = -1;

	if (rev_record_version(state_dir, "current", cur, sizeof(cur), err) != 0 ||
	    rev_record_version(state_dir, "last-good", good, sizeof(good), err) != 0 ||
	    rev_record_version(state_dir, "installed", inst, sizeof(inst), err) != 0 ||
	    rev_list(state_dir, &e, &n, err) != 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		e[i].protect = strcmp(e[i].version, cur) == 0 || strcmp(e[i].version, good) == 0 ||
		               strcmp(e[i].version, inst) == 0;
	rev_retention_select(e, n, keep_n, keep_bytes);
	for (size_t i = 0; i < n; i++) {
		struct rev_paths p;
		if (!e[i].remove)
			continue;
		if (rev_paths(state_dir, e[i].version, &p, err) != 0 || fs_rm_rf(p.dir, err) != 0)
			goto out;
		log_info("retention: removed revision %s (%llu bytes)", e[i].version,
		         (unsigned long long)e[i].bytes);
	}
	rc = 0;
out:
	free(e);
	return rc;
}
