/* verify.c - the installed files of the current revision against its manifest. */
#include "verify.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "digest.h"
#include "exitcodes.h"
#include "fsutil.h"
#include "log.h"
#include "revisions.h"
#include "status.h"

unsigned verify_compare(const struct file_manifest_entry *w, const struct verify_actual *g)
{
	unsigned p = 0;
	if (g->kind == 0)
		return VERIFY_MISSING;
	if (g->kind != w->kind)
		return VERIFY_TYPE | VERIFY_MODE | (w->kind == 'F' ? VERIFY_SHA : 0u) |
		       (w->uid >= 0 && g->uid != w->uid ? VERIFY_OWNER : 0u) |
		       (w->gid >= 0 && g->gid != w->gid ? VERIFY_GROUP : 0u);
	if (w->mode >= 0 && w->kind != 'L' && (g->mode & 07777) != w->mode)
		p |= VERIFY_MODE;
	if (w->uid >= 0 && g->uid != w->uid)
		p |= VERIFY_OWNER;
	if (w->gid >= 0 && g->gid != w->gid)
		p |= VERIFY_GROUP;
	if (w->kind == 'F') {
		if (w->size >= 0 && g->size != w->size)
			p |= VERIFY_SIZE;
		if (g->unreadable)
			p |= VERIFY_UNREADABLE;
		else if (w->sha[0] && strcmp(g->sha, w->sha) != 0)
			p |= VERIFY_SHA;
	}
	if (w->kind == 'L' && w->sha[0] && strcmp(g->sha, w->sha) != 0)
		p |= VERIFY_LINK;
	return p;
}

void verify_flags(unsigned p, char out[10])
{
	memcpy(out, ".........", 10);
	if (p & VERIFY_SIZE)
		out[0] = 'S';
	if (p & (VERIFY_MODE | VERIFY_TYPE))
		out[1] = 'M';
	if (p & VERIFY_SHA)
		out[2] = '5';
	if (p & VERIFY_UNREADABLE)
		out[2] = '?';
	if (p & VERIFY_LINK)
		out[4] = 'L';
	if (p & VERIFY_OWNER)
		out[5] = 'U';
	if (p & VERIFY_GROUP)
		out[6] = 'G';
}

/* Looks at one host path (never through a link; content hashed only for a regular file). */
static void look(const char *host, const struct file_manifest_entry *w, struct verify_actual *g)
{
	struct stat st;
	memset(g, 0, sizeof(*g));
	if (lstat(host, &st) != 0) {
		g->kind = errno == ENOENT || errno == ENOTDIR ? 0 : '?';
		g->unreadable = g->kind != 0;
		return;
	}
	g->kind = S_ISREG(st.st_mode) ? 'F' : S_ISLNK(st.st_mode) ? 'L' : S_ISDIR(st.st_mode) ? 'D' : '?';
	g->mode = (int)(st.st_mode & 07777);
	g->uid = (long long)st.st_uid;
	g->gid = (long long)st.st_gid;
	g->size = (long long)st.st_size;
	if (g->kind == 'F' && w->kind == 'F' && w->sha[0]) {
		uint8_t d[SHA256_LEN];
		struct herr e;
		struct stat st2;
		/* O_NONBLOCK: a FIFO planted since the lstat must not hang verify */
		int fd = open(host, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
		if (fd < 0 || fstat(fd, &st2) != 0 || !S_ISREG(st2.st_mode) ||
		    sha256_fd(fd, host, d, &e) != 0)
			g->unreadable = true;
		else
			hex_encode(d, SHA256_LEN, g->sha);
		if (fd >= 0)
			close(fd);
	} else if (g->kind == 'L' && w->kind == 'L') {
		char target[PATH_MAX];
		uint8_t d[SHA256_LEN];
		ssize_t n = readlink(host, target, sizeof(target));
		if (n >= 0 && (size_t)n < sizeof(target)) {
			sha256_buf(target, (size_t)n, d);
			hex_encode(d, SHA256_LEN, g->sha);
		}
	}
}

static const char *kind_name(char k)
{
	switch (k) {
	case 'F':
		return "file";
	case 'L':
		return "symlink";
	case 'D':
		return "directory";
	case 0:
		return "missing";
	default:
		return "other";
	}
}

static const struct {
	unsigned bit;
	const char *name;
} names[] = {{VERIFY_MISSING, "missing"}, {VERIFY_SIZE, "size"}, {VERIFY_MODE, "mode"},
             {VERIFY_SHA, "sha256"},      {VERIFY_LINK, "link"}, {VERIFY_OWNER, "owner"},
             {VERIFY_GROUP, "group"},     {VERIFY_TYPE, "type"}, {VERIFY_UNREADABLE, "unreadable"}};

/* One JSON problem object. */
static int json_item(struct buf *o, bool first, const char *path, unsigned p, const char flags[10],
                     const struct file_manifest_entry *w, const struct verify_actual *g)
{
	int bad = buf_append_str(o, first ? "{\"path\": " : ", {\"path\": ") | json_string(o, path);
	bad |= buf_append_str(o, ", \"flags\": ") | json_string(o, p & VERIFY_MISSING ? "missing" : flags);
	bad |= buf_append_str(o, ", \"problems\": [");
	for (size_t i = 0, k = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (p & names[i].bit)
			bad |= buf_append_str(o, k++ ? ", " : "") | json_string(o, names[i].name);
	bad |= buf_append_str(o, "], \"expected_type\": ") | json_string(o, kind_name(w->kind));
	bad |= buf_append_str(o, ", \"actual_type\": ") | json_string(o, kind_name(g->kind));
	bad |= buf_append_str(o, "}");
	return bad;
}

int verify_run(const char *state_dir, const char *root, bool json, FILE *out, struct herr *err)
{
	struct file_manifest m;
	struct rev_paths rp;
	struct buf o;
	char cur[REV_NAME_MAX], inst[REV_NAME_MAX], jpath[PATH_MAX], mpath[PATH_MAX], host[PATH_MAX];
	const char *source = FILE_MANIFEST_NAME;
	size_t drift = 0, unreadable = 0;
	int code = HOIST_EXIT_CANNOT_VERIFY, bad = 0;

	memset(&m, 0, sizeof(m));
	buf_init(&o, (size_t)1 << 30);
	if (rev_record_version(state_dir, "current", cur, sizeof(cur), err) != 0 ||
	    rev_record_version(state_dir, "installed", inst, sizeof(inst), err) != 0) {
		err->code = HOIST_EXIT_CANNOT_VERIFY;
		goto out;
	}
	if (fs_path_join(jpath, sizeof(jpath), state_dir, "journal") != 0 || fs_exists(jpath) != 0) {
		herr_set(err, HOIST_EXIT_CANNOT_VERIFY,
		         "a deployment is in progress or was interrupted (hoist recover); nothing to verify "
		         "against");
		goto out;
	}
	if (cur[0] == '\0' || strcmp(cur, inst) != 0) {
		herr_set(err, HOIST_EXIT_CANNOT_VERIFY, "%s",
		         cur[0] ? "the installed revision is not the current one"
		                : "no current revision: nothing to verify");
		goto out;
	}
	if (rev_paths(state_dir, cur, &rp, err) != 0 ||
	    fs_path_join(mpath, sizeof(mpath), rp.dir, FILE_MANIFEST_NAME) != 0) {
		herr_set(err, HOIST_EXIT_CANNOT_VERIFY, "revision %s: path too long", cur);
		goto out;
	}
	if (fs_exists(mpath) == 1) {
		if (file_manifest_load(mpath, &m, err) != 0)
			goto out;
	} else {
		/* revisions installed before manifests existed: content, mode and type only */
		source = "installed.list";
		if (file_manifest_from_list(rp.list, &m, err) != 0)
			goto out;
		log_warnx("revision %s has no manifest (installed by an older hoist): owner, group, size and "
		          "link targets are not compared",
		          cur);
	}
	if (json) {
		bad |= buf_append_str(&o, "{\"version\": ") | json_string(&o, cur);
		bad |= buf_append_str(&o, ", \"manifest\": ") | json_string(&o, source);
		bad |= buf_append_str(&o, ", \"differences\": [");
	}
	for (size_t i = 0; i < m.n && !bad; i++) {
		const struct file_manifest_entry *w = &m.e[i];
		struct verify_actual g;
		unsigned p;
		char flags[10];
		if (fs_rooted(host, sizeof(host), root, w->path) != 0) {
			memset(&g, 0, sizeof(g));
			g.kind = '?';
			g.unreadable = true;
			p = VERIFY_UNREADABLE;
		} else {
			look(host, w, &g);
			p = g.kind == '?' && g.unreadable ? VERIFY_UNREADABLE : verify_compare(w, &g);
		}
		if (p == 0)
			continue;
		if (p == VERIFY_UNREADABLE)
			unreadable++;
		else
			drift++;
		verify_flags(p, flags);
		if (json)
			bad |= json_item(&o, drift + unreadable == 1, w->path, p, flags, w, &g);
		else if (p & VERIFY_MISSING)
			bad |= buf_printf(&o, "missing     %s\n", w->path);
		else
			bad |= buf_printf(&o, "%s    %s\n", flags, w->path);
	}
	code = drift ? HOIST_EXIT_DRIFT : unreadable ? HOIST_EXIT_CANNOT_VERIFY : 0;
	if (json)
		bad |= buf_printf(
		    &o, "], \"checked\": %zu, \"differing\": %zu, \"unreadable\": %zu, \"result\": \"%s\"}\n",
		    m.n, drift, unreadable,
		    code == 0 ? "clean"
		    : drift   ? "drift"
		              : "cannot-verify");
	if (bad) {
		herr_set(err, HOIST_EXIT_INTERNAL, "verify report too large");
		code = HOIST_EXIT_INTERNAL;
		goto out;
	}
	fwrite(o.data ? o.data : "", 1, o.len, out);
	log_info("verify: revision %s: %zu entr%s checked against its %s, %zu differ%s%s", cur, m.n,
	         m.n == 1 ? "y" : "ies", source, drift, drift == 1 ? "s" : "",
	         unreadable ? ", some could not be read" : "");
	if (code == HOIST_EXIT_CANNOT_VERIFY)
		herr_set(err, code, "%zu file%s could not be read", unreadable, unreadable == 1 ? "" : "s");
out:
	if (code == HOIST_EXIT_CANNOT_VERIFY && json && o.len == 0) {
		/* still one JSON document for machines, with the reason */
		if (buf_append_str(&o, "{\"version\": null, \"result\": \"cannot-verify\", \"error\": ") ==
		        0 &&
		    json_string(&o, err->msg) == 0 && buf_append_str(&o, "}\n") == 0)
			fwrite(o.data, 1, o.len, out);
	}
	file_manifest_free(&m);
	buf_free(&o);
	return code;
}
