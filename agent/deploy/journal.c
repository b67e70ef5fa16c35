/* journal.c - the crash journal (format in journal.h). */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "exitcodes.h"
#include "fsutil.h"
#include "revisions.h"
#include "strutil.h"

struct journal {
	int fd;
	char path[4096];
	bool touched; /* a "begin" line was synced: recovery knows the host may have changed */
	char *head;   /* the header until the first line: then both are written at once */
};

/* Writes all of a line; with sync, makes it (and every earlier line) durable
 * before the step it announces starts. */
/* Writes the header and the first line atomically and durably (one file and
 * one directory fsync instead of those and an fdatasync for the line): a
 * journal without a begin line would be discarded anyway, so none exists
 * until a step begins. */
static int create_file(struct journal *j, const char *line, struct herr *err)
{
	struct buf b;
	int rc = -1;
	buf_init(&b, 8192);
	if (buf_append_str(&b, j->head) != 0 || buf_append_str(&b, line) != 0) {
		herr_set(err, HOIST_EXIT_INTERNAL, "journal line too long");
		goto out;
	}
	if (fs_write_atomic(j->path, b.data, b.len, 0600, err) != 0)
		goto out;
	j->fd = open(j->path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	if (j->fd < 0) {
		herr_errno(err, HOIST_EXIT_IO, errno, "cannot open journal %s", j->path);
		goto out;
	}
	free(j->head);
	j->head = NULL;
	rc = 0;
out:
	buf_free(&b);
	return rc;
}

static int append_line(struct journal *j, const char *line, bool sync, struct herr *err)
{
	if (j->head != NULL)
		return create_file(j, line, err);
	if (fs_write_all(j->fd, line, strlen(line)) != 0)
		return herr_errno(err, HOIST_EXIT_IO, errno, "cannot write journal %s", j->path);
	if (sync && fdatasync(j->fd) != 0)
		return herr_errno(err, HOIST_EXIT_IO, errno, "cannot sync journal %s", j->path);
	return 0;
}

int journal_create(const char *path, const struct journal_info *h, struct journal **out, struct herr *err)
{
	struct journal *j = NULL;
	struct buf b;
	int rc = -1;

	*out = NULL;
	buf_init(&b, 4096);
	if (buf_printf(&b, "hoist-journal 1\nid %s\nkind %s\nversion %s\ninstalled %s\nlast_good %s\n", h->id,
	               h->kind, h->version, h->installed[0] ? h->installed : "-",
	               h->last_good[0] ? h->last_good : "-") != 0) {
		herr_set(err, HOIST_EXIT_INTERNAL, "journal header too long");
		goto out;
	}
	j = calloc(1, sizeof(*j));
	if (j == NULL || strlen(path) >= sizeof(j->path)) {
		herr_set(err, HOIST_EXIT_INTERNAL, "cannot allocate journal");
		goto out;
	}
	j->fd = -1;
	memcpy(j->path, path, strlen(path) + 1);
	/* written with the first line (create_file) */
	if ((j->head = buf_steal(&b)) == NULL) {
		herr_set(err, HOIST_EXIT_INTERNAL, "cannot allocate journal");
		goto out;
	}
	*out = j;
	j = NULL;
	rc = 0;
out:
	if (j != NULL) {
		free(j->head);
		free(j);
	}
	buf_free(&b);
	return rc;
}

int journal_begin(struct journal *j, const char *event, struct herr *err)
{
	char line[256];
	int n = snprintf(line, sizeof(line), "begin %s %lld\n", event, (long long)time(NULL));
	if (n < 0 || (size_t)n >= sizeof(line))
		return herr_set(err, HOIST_EXIT_INTERNAL, "journal line too long");
	/* Only two begin lines change what recovery does (journal_info): the first
	 * (host_touched: undo and redeploy last-good instead of discarding) and
	 * Install's (install_begun: undo the partial Install first). Those are
	 * synced before their step starts; any other waits for the next sync: after
	 * a power loss recovery may name an earlier step as the last one begun, and
	 * does the same thing (docs/performance.md, "fsyncs"). */
	bool sync = !j->touched || strcmp(event, "Install") == 0;
	j->touched = true;
	return append_line(j, line, sync, err);
}

int journal_hook(struct journal *j, const struct hook_ident *id, struct herr *err)
{
	char line[128];
	int n = snprintf(line, sizeof(line), "hook %ld %llu %s\n", id->pgid, id->start_ticks, id->boot_id);
	if (n < 0 || (size_t)n >= sizeof(line))
		return herr_set(err, HOIST_EXIT_INTERNAL, "journal line too long");
	/* Written, not fdatasync'd: the line is read only in the same boot (the
	 * boot id says so), and what ends hoist without ending the boot (kill -9,
	 * OOM, a crash) leaves the page cache to the next reader; a power loss or
	 * kernel crash leaves no hook process to end. */
	return append_line(j, line, false, err);
}

/* Parses the value of a "hook" line; -1 when it is not "PGID TICKS BOOTID". */
static int parse_hook(const char *v, size_t n, struct hook_ident *out)
{
	char tmp[128], *e, *e2;
	if (n >= sizeof(tmp))
		return -1;
	memcpy(tmp, v, n);
	tmp[n] = '\0';
	if (tmp[0] < '1' || tmp[0] > '9')
		return -1;
	out->pgid = strtol(tmp, &e, 10);
	if (*e != ' ' || e[1] < '0' || e[1] > '9')
		return -1;
	out->start_ticks = strtoull(e + 1, &e2, 10);
	if (*e2 != ' ' || strlen(e2 + 1) != ORPHANS_BOOT_ID_LEN || strspn(e2 + 1, "0123456789abcdef-") != ORPHANS_BOOT_ID_LEN)
		return -1;
	memcpy(out->boot_id, e2 + 1, ORPHANS_BOOT_ID_LEN + 1);
	return out->pgid > 1 ? 0 : -1;
}

int journal_end(struct journal *j, const char *event, bool ok, struct herr *err)
{
	char line[256];
	int n = snprintf(line, sizeof(line), "end %s %s %lld\n", event, ok ? "ok" : "failed",
	                 (long long)time(NULL));
	if (n < 0 || (size_t)n >= sizeof(line))
		return herr_set(err, HOIST_EXIT_INTERNAL, "journal line too long");
	/* Recovery decides on "begin" lines and on the durable records; an "end"
	 * line becomes durable with the next "begin" (or does not matter). */
	return append_line(j, line, false, err);
}

int journal_close(struct journal *j, bool remove, struct herr *err)
{
	int rc = 0;
	if (j == NULL)
		return 0;
	if (j->fd >= 0)
		close(j->fd);
	/* Removing the journal is the commit point of a deployment: the
	 * records it protects were written (and synced) before. Never written
	 * (no step began): nothing to remove. */
	if (remove && j->head == NULL) {
		if (unlink(j->path) != 0 && errno != ENOENT)
			rc = herr_errno(err, HOIST_EXIT_IO, errno, "cannot remove journal %s", j->path);
		else
			rc = fs_fsync_parent(j->path, err);
	}
	free(j->head);
	free(j);
	return rc;
}

/* Copies a value into a fixed field; -1 if it does not fit. */
static int set_field(char *dst, size_t cap, const char *v, size_t n)
{
	if (n >= cap)
		return -1;
	memcpy(dst, v, n);
	dst[n] = '\0';
	return 0;
}

int journal_parse(const char *text, size_t len, struct journal_info *out, struct herr *err)
{
	const char *p = text, *end = text + len;
	unsigned lineno = 0;

	memset(out, 0, sizeof(*out));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *sp;
		size_t n, kl;
		if (nl == NULL)
			break; /* torn last line: the step it announced never started */
		n = (size_t)(nl - p);
		lineno++;
		if (lineno == 1) {
			if (n != 15 || memcmp(p, "hoist-journal 1", 15) != 0)
				return herr_set(err, HOIST_EXIT_IO,
				                "journal line 1: not a hoist journal (version 1)");
			p = nl + 1;
			continue;
		}
		sp = memchr(p, ' ', n);
		if (sp == NULL)
			return herr_set(err, HOIST_EXIT_IO, "journal line %u: no value", lineno);
		kl = (size_t)(sp - p);
		sp++;
		n -= kl + 1;
		if (kl == 2 && memcmp(p, "id", 2) == 0) {
			if (set_field(out->id, sizeof(out->id), sp, n) != 0)
				goto toolong;
		} else if (kl == 4 && memcmp(p, "kind", 4) == 0) {
			if (set_field(out->kind, sizeof(out->kind), sp, n) != 0)
				goto toolong;
		} else if (kl == 7 && memcmp(p, "version", 7) == 0) {
			if (set_field(out->version, sizeof(out->version), sp, n) != 0)
				goto toolong;
		} else if (kl == 9 && memcmp(p, "installed", 9) == 0) {
			if (set_field(out->installed, sizeof(out->installed), sp, n) != 0)
				goto toolong;
			if (strcmp(out->installed, "-") == 0)
				out->installed[0] = '\0';
		} else if (kl == 9 && memcmp(p, "last_good", 9) == 0) {
			if (set_field(out->last_good, sizeof(out->last_good), sp, n) != 0)
				goto toolong;
			if (strcmp(out->last_good, "-") == 0)
				out->last_good[0] = '\0';
		} else if ((kl == 5 && memcmp(p, "begin", 5) == 0) || (kl == 3 && memcmp(p, "end", 3) == 0)) {
			const char *sp2 = memchr(sp, ' ', n);
			size_t el = sp2 ? (size_t)(sp2 - sp) : n;
			bool is_begin = kl == 5;
			bool ok = sp2 != NULL && (size_t)(nl - sp2) >= 3 && memcmp(sp2, " ok", 3) == 0 &&
			          (sp2 + 3 == nl || sp2[3] == ' ');
			bool is_install = el == 7 && memcmp(sp, "Install", 7) == 0;
			if (is_begin) {
				if (set_field(out->last_step, sizeof(out->last_step), sp, el) != 0)
					goto toolong;
				out->host_touched = true;
				if (is_install)
					out->install_begun = true;
			} else if (is_install && ok) {
				out->install_ended = true;
			}
			if (!is_begin)
				memset(&out->hook, 0, sizeof(out->hook)); /* the step's hooks ended */
		} else if (kl == 4 && memcmp(p, "hook", 4) == 0) {
			if (parse_hook(sp, n, &out->hook) != 0)
				return herr_set(err, HOIST_EXIT_IO, "journal line %u: expected hook PGID TICKS BOOTID",
				                lineno);
		} else {
			return herr_set(err, HOIST_EXIT_IO, "journal line %u: unknown key '%.*s'", lineno,
			                (int)(kl > 40 ? 40 : kl), p);
		}
		p = nl + 1;
	}
	if (len == 0)
		return herr_set(err, HOIST_EXIT_IO, "journal is empty (0 bytes)");
	if (lineno == 0)
		return herr_set(err, HOIST_EXIT_IO, "journal line 1: not a hoist journal (version 1)");
	if (out->id[0] == '\0' || out->kind[0] == '\0' || out->version[0] == '\0')
		return herr_set(err, HOIST_EXIT_IO, "journal has no %s line",
		                out->version[0] == '\0' ? "version" : out->id[0] == '\0' ? "id" : "kind");
	if (!str_safe_token(out->id, sizeof(out->id) - 1))
		return herr_set(err, HOIST_EXIT_IO, "journal: the id is not a deployment id");
	if (strcmp(out->kind, "deploy") != 0 && strcmp(out->kind, "rollback") != 0 &&
	    strcmp(out->kind, "recover") != 0)
		return herr_set(err, HOIST_EXIT_IO, "journal: kind is not deploy, rollback or recover");
	/* version names become paths under revisions/: checked here, where the line is known */
	if (rev_name_check(out->version, "journal line 'version'", err) != 0 ||
	    (out->installed[0] && rev_name_check(out->installed, "journal line 'installed'", err) != 0) ||
	    (out->last_good[0] && rev_name_check(out->last_good, "journal line 'last_good'", err) != 0))
		return -1;
	return 0;
toolong:
	return herr_set(err, HOIST_EXIT_IO, "journal line %u: value too long", lineno);
}

int journal_read(const char *path, struct journal_info *out, struct herr *err)
{
	struct buf b;
	int r;
	buf_init(&b, JOURNAL_MAX_BYTES);
	r = fs_exists(path);
	if (r == 0) {
		buf_free(&b);
		return 1;
	}
	r = fs_read_file(path, JOURNAL_MAX_BYTES, FS_NOFOLLOW, &b, err);
	if (r == 0 && journal_parse(b.data ? b.data : "", b.len, out, err) != 0) {
		herr_prefix(err, "%s", path);
		r = -1;
	}
	buf_free(&b);
	return r;
}
