/* preflight.c - the checks of a deployment that depend on the host and its
 * policy, run on the install plan before anything changes (preflight.h). */
#include "preflight.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "buf.h"
#include "exitcodes.h"
#include "fsutil.h"
#include "instfs.h"
#include "instplan.h"
#include "log.h"
#include "relpath.h"

#define SHOW 512      /* escaped path in messages */
#define MAX_DEVS 64   /* file systems one install may write to */

const char *const preflight_plan_checks[PREFLIGHT_N_PLAN_CHECKS] = {"runas", "policy_paths", "modes",
                                                                    "space_and_writability"};

int preflight_load_policy(const struct hoist_config *cfg, struct policy *p, struct herr *err)
{
	char path[PATH_MAX];
	struct buf b;
	int rc = -1;

	memset(p, 0, sizeof(*p)); /* policy_free is safe whatever fails below */
	buf_init(&b, 256 * 1024 + 1);
	if (config_host_path(cfg, HOIST_DEFAULT_POLICY, path, sizeof(path)) != 0)
		return herr_set(err, HOIST_EXIT_CONFIG, "root prefix too long for %s", HOIST_DEFAULT_POLICY);
	if (policy_init(p, path) != 0)
		return herr_set(err, HOIST_EXIT_INTERNAL, "out of memory");
	switch (fs_exists(path)) {
	case 0:
		rc = 0;
		goto out;
	case 1:
		break;
	default:
		herr_errno(err, HOIST_EXIT_CONFIG, errno, "cannot read policy %s", path);
		goto out;
	}
	if (fs_read_file(path, 256 * 1024 + 1, 0, &b, err) != 0) {
		err->code = HOIST_EXIT_CONFIG;
		goto out;
	}
	rc = policy_parse(p, b.data ? b.data : "", b.len, err);
out:
	buf_free(&b);
	return rc;
}

void preflight_bundle_limits(const struct hoist_config *cfg, const struct policy *p, struct bundle_limits *lim)
{
	struct policy defaults;
	bundle_limits_default(lim);
	lim->max_entries = cfg->max_entries;
	lim->max_total_bytes = cfg->max_extract_bytes;
	lim->max_path_len = cfg->max_path_len;
	lim->allow_setid = cfg->allow_setid;
	if (p == NULL) {
		if (policy_init(&defaults, NULL) != 0)
			return; /* out of memory: bundle_limits_default's ratio stays */
		p = &defaults;
	}
	/* the tighter of hoist.conf and the policy: a setting cannot loosen the image's policy */
	if (p->max_extract_bytes < lim->max_total_bytes)
		lim->max_total_bytes = p->max_extract_bytes;
	lim->max_ratio = p->max_extract_ratio;
	lim->ratio_floor = p->extract_floor_bytes;
	if (p == &defaults)
		policy_free(&defaults);
}

/* Where the rule of kind comes from: its first line in the policy, or the
 * default (which refuses what no rule allows). */
static const char *kind_where(const struct policy *p, enum policy_kind kind, char *out, size_t outsz)
{
	for (size_t r = 0; r < p->n_rules; r++)
		if (p->rules[r].kind == kind)
			return policy_where(p, p->rules[r].line, out, outsz);
	snprintf(out, outsz, "default: refused unless %s = PATTERN in %s allows it", policy_kind_name(kind),
	         p->file);
	return out;
}

/* Escaped path for a message. */
static const char *esc(const char *path, char *buf)
{
	relpath_escape(path, buf, SHOW);
	return buf;
}

/* One script's runas user: it exists on this host, and the policy allows it. */
static int check_one_runas(const struct policy *p, const struct appspec *spec, const char *event,
                           const struct appspec_script *s, bool installed, struct herr *err)
{
	struct passwd pw, *res = NULL;
	char pbuf[4096], where[PATH_MAX + 64];
	const char *file = spec->filename ? spec->filename : "appspec.yml";
	const char *whose = installed ? "the installed revision's " : "";
	const char *hint = installed ? " (its scripts run before Install; --ignore-stop-failures skips them)" : "";
	if (s->runas != NULL && (getpwnam_r(s->runas, &pw, pbuf, sizeof(pbuf), &res) != 0 || res == NULL))
		return herr_set(err, HOIST_EXIT_FAILED, "%s%s line %u: hooks.%s: runas user \"%s\" is not a user on this host%s",
		                whose, file, s->line, event, relpath_show(s->runas), hint);
	if (!policy_runas_ok(p, s->runas))
		return herr_set(err, HOIST_EXIT_POLICY,
		                "policy: rule allow_runas (%s) refuses runas \"%s\" of hooks.%s (%s%s line %u): the "
		                "user is not listed%s",
		                kind_where(p, POLICY_ALLOW_RUNAS, where, sizeof(where)),
		                s->runas ? relpath_show(s->runas) : "root", event, whose, file, s->line, hint);
	return 0;
}

/* 5: runas users exist and are allowed: every hook of the new revision, and
 * the installed revision's hooks that run before Install (its ApplicationStop
 * and traffic scripts; pspec NULL when there is none or they are skipped). */
static int check_runas(const struct policy *p, const struct appspec *spec, const struct appspec *pspec,
                       struct herr *err)
{
	static const char *const before_install[] = {"BeforeBlockTraffic", "AfterBlockTraffic", "ApplicationStop"};
	for (size_t h = 0; h < spec->n_hooks; h++)
		for (size_t i = 0; i < spec->hooks[h].n_scripts; i++)
			if (check_one_runas(p, spec, spec->hooks[h].event, &spec->hooks[h].scripts[i], false, err) != 0)
				return -1;
	for (size_t e = 0; pspec != NULL && e < sizeof(before_install) / sizeof(before_install[0]); e++) {
		const struct appspec_hook *hk = appspec_hook(pspec, before_install[e]);
		for (size_t i = 0; hk != NULL && i < hk->n_scripts; i++)
			if (check_one_runas(p, pspec, hk->event, &hk->scripts[i], true, err) != 0)
				return -1;
	}
	return 0;
}

/* Whether an action writes its path (and so falls under the path and mode rules). */
static bool writes(const struct action *x)
{
	return !x->skip && (x->kind != ACT_DIR || x->owned);
}

/* The deepest existing ancestor of host (host itself included) into out; st
 * gets its stat (following links, as Install follows them in destinations). */
static int existing_ancestor(const char *host, char *out, size_t outsz, struct stat *st)
{
	size_t len = strlen(host);
	if (len >= outsz)
		return -1;
	memcpy(out, host, len + 1);
	for (;;) {
		if (stat(out, st) == 0)
			return 0;
		if (errno != ENOENT && errno != ENOTDIR)
			return -1;
		while (len > 0 && out[len - 1] != '/')
			len--;
		while (len > 1 && out[len - 1] == '/')
			len--;
		if (len == 0)
			return -1;
		out[len] = '\0';
	}
}

/* The host path with its existing part resolved through symbolic links, the
 * root prefix removed: where a write really lands, for the path rules. */
static int resolved_path(const char *root, const char *host, char *out, size_t outsz)
{
	char anc[PATH_MAX], real[PATH_MAX];
	struct stat st;
	size_t rl = strlen(root), al;
	int n;
	if (existing_ancestor(host, anc, sizeof(anc), &st) != 0 || realpath(anc, real) == NULL)
		return -1;
	al = strlen(anc);
	if (rl > 0 && strncmp(real, root, rl) == 0 && (real[rl] == '/' || real[rl] == '\0'))
		memmove(real, real + rl, strlen(real + rl) + 1);
	if (real[0] == '\0')
		memcpy(real, "/", 2);
	n = snprintf(out, outsz, "%s%s", strcmp(real, "/") == 0 && host[al] == '/' ? "" : real, host + al);
	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

/* The refusal of one path by the path rules, or 0. */
static int path_rule(const struct policy *p, const struct install_plan *pl, const struct action *x,
                     const char *path, const char *via, struct herr *err)
{
	char where[PATH_MAX + 64], e1[SHOW], e2[SHOW];
	bool not_allowed;
	const struct policy_rule *r = policy_path_refused(p, path, &not_allowed);
	if (r == NULL)
		return 0;
	if (not_allowed)
		return herr_set(err, HOIST_EXIT_POLICY,
		                "policy: rule allow_path (%s) refuses %s%s%s (%s line %u): no allow_path "
		                "pattern matches it",
		                policy_where(p, r->line, where, sizeof(where)), esc(x->path, e1),
		                via ? ", which resolves to " : "", via ? esc(path, e2) : "", pl->specname, x->line);
	return herr_set(err, HOIST_EXIT_POLICY, "policy: rule deny_path %s (%s) refuses %s%s%s (%s line %u)",
	                relpath_show(r->value), policy_where(p, r->line, where, sizeof(where)), esc(x->path, e1),
	                via ? ", which resolves to " : "", via ? esc(path, e2) : "", pl->specname, x->line);
}

/* 6: path rules on every written path, lexically and where it lands. Install
 * follows host symlinks in a path's parents but never the last component (an
 * existing file or link there is replaced, not written through), so the
 * parent is resolved and the name appended. Consecutive actions mostly share
 * a parent: its resolution is reused. */
static int check_paths(const struct policy *p, const struct install_plan *pl, struct herr *err)
{
	char last[PATH_MAX] = "", last_real[PATH_MAX] = "";
	bool last_ok = false;
	for (size_t k = 0; k < pl->n; k++) {
		const struct action *x = &pl->a[k];
		char host[PATH_MAX], real[PATH_MAX];
		const char *slash;
		size_t n;
		if (!writes(x))
			continue;
		if (path_rule(p, pl, x, x->path, NULL, err) != 0)
			return -1;
		if (fs_rooted(host, sizeof(host), pl->root, x->path) != 0)
			return herr_set(err, HOIST_EXIT_BAD_BUNDLE, "path too long under the root");
		slash = strrchr(host, '/');
		n = slash != NULL ? (size_t)(slash - host) : 0;
		if (n == 0 || n >= sizeof(last))
			continue;
		if (strncmp(host, last, n) != 0 || last[n] != '\0') {
			memcpy(last, host, n);
			last[n] = '\0';
			last_ok = resolved_path(pl->root, last, last_real, sizeof(last_real)) == 0;
		}
		if (!last_ok)
			continue; /* nothing resolvable exists: the lexical check was the whole answer */
		if ((size_t)snprintf(real, sizeof(real), "%s%s", strcmp(last_real, "/") == 0 ? "" : last_real,
		                     slash) >= sizeof(real))
			continue;
		if (strcmp(real, x->path) != 0 && path_rule(p, pl, x, real, real, err) != 0)
			return -1;
	}
	return 0;
}

/* 7: setuid/setgid and world-writable final modes need an allow rule. */
static int check_modes(const struct policy *p, const struct install_plan *pl, struct herr *err)
{
	for (size_t k = 0; k < pl->n; k++) {
		const struct action *x = &pl->a[k];
		const struct perm_rule *r = x->perm >= 0 ? &pl->rules[x->perm] : NULL;
		char e1[SHOW], where[PATH_MAX + 64];
		int mode;
		if (!writes(x) || x->kind == ACT_LINK || !x->owned)
			continue;
		mode = perms_final_mode(r, x->mode);
		if ((mode & (S_ISUID | S_ISGID)) != 0 && policy_allowed(p, POLICY_ALLOW_SETID, x->path) == NULL)
			return herr_set(err, HOIST_EXIT_POLICY,
			                "policy: rule allow_setid (%s) refuses %s mode %04o for %s (%s line %u): "
			                "no allow_setid pattern matches it",
			                kind_where(p, POLICY_ALLOW_SETID, where, sizeof(where)),
			                (mode & S_ISUID) ? "setuid" : "setgid", (unsigned)mode, esc(x->path, e1),
			                pl->specname, r != NULL ? r->p->line : x->line);
		if ((mode & S_IWOTH) != 0 && policy_allowed(p, POLICY_ALLOW_WORLD_WRITABLE, x->path) == NULL)
			return herr_set(err, HOIST_EXIT_POLICY,
			                "policy: rule allow_world_writable (%s) refuses world-writable mode %04o "
			                "for %s (%s line %u): no allow_world_writable pattern matches it",
			                kind_where(p, POLICY_ALLOW_WORLD_WRITABLE, where, sizeof(where)), (unsigned)mode, esc(x->path, e1),
			                pl->specname, r != NULL ? r->p->line : x->line);
	}
	return 0;
}

/* What one file system receives. */
struct dev_need {
	dev_t dev;
	char path[PATH_MAX]; /* an existing directory on it, for statvfs and messages */
	uint64_t bytes;      /* new bytes, rounded up to blocks */
	uint64_t freed;      /* bytes of the files they replace */
	uint64_t inodes;
};

static struct dev_need *need_for(struct dev_need *d, size_t *n, dev_t dev, const char *path)
{
	for (size_t i = 0; i < *n; i++)
		if (d[i].dev == dev)
			return &d[i];
	if (*n == MAX_DEVS)
		return NULL;
	memset(&d[*n], 0, sizeof(d[*n]));
	d[*n].dev = dev;
	snprintf(d[*n].path, sizeof(d[*n].path), "%s", path);
	return &d[(*n)++];
}

/* 8: destinations writable; free space and inodes per file system. */
/* Bytes a file's blocks take: st_blocks (512-byte units), never more than its size. */
static uint64_t allocated_bytes(const struct stat *st)
{
	uint64_t size = (uint64_t)st->st_size, blocks = (uint64_t)st->st_blocks * 512;
	return blocks < size ? blocks : size;
}

/* The most a copy of the staged file st can take: its size in whole blocks,
 * or, for a sparse file, one copy chunk per allocated 4 KiB block (instfs_copy
 * leaves a chunk of zeros a hole), whichever is less. A linked file takes
 * nothing, but whether a link is possible is decided while installing, so
 * every file is counted as a copy. */
static uint64_t copy_bytes(const struct stat *st)
{
	uint64_t whole = ((uint64_t)st->st_size + 4095) & ~(uint64_t)4095;
	uint64_t chunks = (allocated_bytes(st) + 4095) / 4096 * INSTFS_COPY_CHUNK;
	return chunks < whole ? chunks : whole;
}

static int check_space(const struct policy *p, const struct install_plan *pl, struct herr *err)
{
	struct dev_need *devs = calloc(MAX_DEVS, sizeof(*devs));
	char last_parent[PATH_MAX] = "", anc[PATH_MAX] = "";
	struct stat ast;
	size_t n = 0;
	int rc = -1;

	if (devs == NULL)
		return herr_set(err, HOIST_EXIT_INTERNAL, "out of memory");
	for (size_t k = 0; k < pl->n; k++) {
		const struct action *x = &pl->a[k];
		char host[PATH_MAX], parent[PATH_MAX], e1[SHOW];
		struct dev_need *d;
		struct stat st;
		char *slash;
		if (!writes(x))
			continue;
		if (fs_rooted(host, sizeof(host), pl->root, x->path) != 0) {
			herr_set(err, HOIST_EXIT_BAD_BUNDLE, "path too long under the root");
			goto out;
		}
		slash = strrchr(host, '/');
		snprintf(parent, sizeof(parent), "%.*s", slash != NULL && slash != host ? (int)(slash - host) : 1,
		         host);
		if (strcmp(parent, last_parent) != 0) {
			/* Install creates, renames or removes in this directory: it (or the
			 * ancestor it will be created in) must be writable. */
			if (existing_ancestor(parent, anc, sizeof(anc), &ast) != 0) {
				herr_errno(err, HOIST_EXIT_IO, errno, "cannot look up %s", relpath_show(parent));
				goto out;
			}
			if (access(anc, W_OK | X_OK) != 0) {
				herr_errno(err, HOIST_EXIT_IO, errno,
				           "destination %s (%s line %u) is not writable: %s cannot be written",
				           esc(x->path, e1), pl->specname, x->line, relpath_show(anc));
				goto out;
			}
			snprintf(last_parent, sizeof(last_parent), "%s", parent);
		}
		if ((d = need_for(devs, &n, ast.st_dev, anc)) == NULL) {
			herr_set(err, HOIST_EXIT_BAD_BUNDLE, "install writes to more than %d file systems", MAX_DEVS);
			goto out;
		}
		d->inodes++;
		if (x->kind == ACT_FILE && stat(x->src, &st) == 0) {
			struct stat hst;
			d->bytes += copy_bytes(&st);
			if (lstat(host, &hst) == 0 && S_ISREG(hst.st_mode))
				d->freed += allocated_bytes(&hst);
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct statvfs vfs;
		uint64_t avail, need;
		if (statvfs(devs[i].path, &vfs) != 0) {
			herr_errno(err, HOIST_EXIT_IO, errno, "cannot read the free space of %s",
			           relpath_show(devs[i].path));
			goto out;
		}
		if (vfs.f_flag & ST_RDONLY) {
			herr_set(err, HOIST_EXIT_IO, "destination file system of %s is mounted read-only",
			         relpath_show(devs[i].path));
			goto out;
		}
		avail = (uint64_t)vfs.f_bavail * (uint64_t)vfs.f_frsize;
		need = devs[i].bytes > devs[i].freed ? devs[i].bytes - devs[i].freed : 0;
		if (need > avail || avail - need < p->min_free_bytes) {
			char where[PATH_MAX + 64];
			herr_set(err, HOIST_EXIT_IO,
			         "not enough free space on the file system of %s: Install writes %llu bytes, "
			         "%llu are available, and min_free_bytes (%llu, %s) must stay free",
			         relpath_show(devs[i].path), (unsigned long long)need, (unsigned long long)avail,
			         (unsigned long long)p->min_free_bytes,
			         p->limits_line[3] ? policy_where(p, p->limits_line[3], where, sizeof(where))
			                           : "the default");
			goto out;
		}
		/* some file systems (btrfs) report no inode counts: nothing to check */
		if (vfs.f_files != 0 && (uint64_t)vfs.f_favail < devs[i].inodes) {
			herr_set(err, HOIST_EXIT_IO,
			         "not enough free inodes on the file system of %s: Install creates %llu paths, "
			         "%llu inodes are free",
			         relpath_show(devs[i].path), (unsigned long long)devs[i].inodes, (unsigned long long)vfs.f_favail);
			goto out;
		}
	}
	rc = 0;
out:
	free(devs);
	return rc;
}

int preflight_plan(const struct policy *p, const struct appspec *spec, const struct appspec *pspec,
                   const struct install_plan *plan, unsigned *passed, struct herr *err)
{
	struct policy defaults;
	bool own = false;
	unsigned ok = 0;
	int rc = -1;

	if (p == NULL) {
		if (policy_init(&defaults, NULL) != 0)
			return herr_set(err, HOIST_EXIT_INTERNAL, "out of memory");
		p = &defaults;
		own = true;
	}
	if (check_runas(p, spec, pspec, err) != 0)
		goto out;
	ok++;
	if (check_paths(p, plan, err) != 0)
		goto out;
	ok++;
	if (check_modes(p, plan, err) != 0)
		goto out;
	ok++;
	if (check_space(p, plan, err) != 0)
		goto out;
	ok++;
	rc = 0;
out:
	if (passed != NULL)
		*passed = ok;
	if (own)
		policy_free(&defaults);
	return rc;
}
